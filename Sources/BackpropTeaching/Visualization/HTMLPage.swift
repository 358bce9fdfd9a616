import BackpropCore
import BackpropData

// A small writer of self-contained HTML pages: one file with its CSS, its
// JavaScript and its data inline, no request to any network (a Content
// Security Policy forbids them), readable from file://. The data travel as a
// JSON blob in <script type="application/json">, written by ``JSON``; the
// page's script renders from it. The shared script below gives every page:
// rounded numbers with the full value on hover and focus (each matrix one tab
// stop, the arrow keys move inside it), a stepper driven
// by buttons, the arrow keys and the URL fragment (#step=7), and a record of
// JavaScript errors in the DOM (#js-errors, body[data-js-errors]) that the
// browser tests read.

/// One self-contained HTML page: a title, static markup, page CSS and
/// JavaScript, and the data the script renders from.
///
/// ```swift
/// let page = HTMLPage(title: "w = x*y", body: "<div id=\"out\"></div>",
///                     data: .object([("w", .number(60))]),
///                     script: "document.getElementById('out').innerHTML = BP.num(BP.data.w);")
/// try FileIO.writeText(page.render(), to: "w.html")
/// ```
public struct HTMLPage: Sendable {
    /// The document title, also the page's first heading.
    public var title: String
    /// A line under the heading (escaped).
    public var subtitle: String
    /// Markup placed in `<main>` after the heading; not escaped.
    public var body: String
    /// CSS added after the shared style sheet.
    public var style: String
    /// The data, available to the script as `BP.data`.
    public var data: JSON
    /// JavaScript run after the shared script, with `BP` in scope.
    public var script: String

    /// A page; `body` is markup, `title` and `subtitle` are text.
    ///
    /// ```swift
    /// let page = HTMLPage(title: "empty", body: "", data: .null, script: "")
    /// ```
    public init(title: String, subtitle: String = "", body: String, style: String = "", data: JSON, script: String) {
        self.title = title
        self.subtitle = subtitle
        self.body = body
        self.style = style
        self.data = data
        self.script = script
    }

    /// The Content Security Policy every page carries: inline script and
    /// style only, images only from `data:` URLs, nothing fetched.
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"

    /// The whole document.
    public func render() -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"\(htmlEscape(Self.contentSecurityPolicy))\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(htmlEscape(title))</title>\n"
        out += "<style>\n" + Self.sharedStyle + style + "\n</style>\n"
        // First, on its own, so that it also records a syntax error in the scripts after it.
        out += "<script>\n" + Self.errorScript + "</script>\n"
        out += "</head>\n<body data-js-errors=\"0\" data-ready=\"0\">\n"
        out += "<main>\n<h1>\(htmlEscape(title))</h1>\n"
        if !subtitle.isEmpty { out += "<p class=\"subtitle\">\(htmlEscape(subtitle))</p>\n" }
        out += "<noscript><p>This page draws itself with JavaScript; the numbers are also in the JSON inside it.</p></noscript>\n"
        out += body
        out += "\n<pre id=\"js-errors\" hidden></pre>\n</main>\n"
        out += "<script type=\"application/json\" id=\"page-data\">" + Self.scriptSafeJSON(data) + "</script>\n"
        out += "<script>\n\"use strict\";\n" + Self.sharedScript + "\n(function () {\n" + script
            + "\n})();\ndocument.body.setAttribute('data-ready', '1');\n</script>\n"
        out += "</body>\n</html>\n"
        return out
    }

    /// JSON that cannot end its `<script>` element: every `<` (only ever
    /// inside a string) is written as the escape `\u003c`.
    static func scriptSafeJSON(_ value: JSON) -> String {
        value.text(.compact).replacingOccurrences(of: "<", with: "\\u003c")
    }

    static let errorScript = """
        (function () {
          var count = 0;
          function record(message) {
            count += 1;
            function write() {
              document.body.setAttribute('data-js-errors', String(count));
              var el = document.getElementById('js-errors');
              el.hidden = false;
              el.textContent += 'JavaScript error: ' + message + '\\n';
            }
            if (document.body && document.getElementById('js-errors')) write();
            else document.addEventListener('DOMContentLoaded', write);
          }
          window.addEventListener('error', function (e) { record(e.message + ' (line ' + e.lineno + ')'); });
          window.addEventListener('unhandledrejection', function (e) { record(String(e.reason)); });
        })();

        """

    static let sharedStyle = """
        :root { --fg: #1a1a1a; --muted: #555; --line: #bbb; --accent: #0b57d0; --back: #b3261e;
                --hi: #fff4c2; --panel: #f6f7fb; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
        main { max-width: 1200px; margin: 0 auto; padding: 12px 20px 40px; }
        h1 { font-size: 1.4em; margin: 0.3em 0; }
        h2 { font-size: 1.15em; margin: 1.2em 0 0.4em; border-bottom: 1px solid var(--line); }
        .subtitle { color: var(--muted); margin-top: 0; font-family: ui-monospace, Menlo, Consolas, monospace; }
        code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; }
        .num { font-family: ui-monospace, Menlo, Consolas, monospace; border-radius: 3px; padding: 0 1px; }
        .num:hover, .num:focus { background: var(--hi); outline: 1px solid #b08a00; }
        .num:focus::after { content: ' = ' attr(data-v); color: var(--muted); }
        /* A matrix in brackets: the side borders, and their corners drawn as four short bars. */
        table.mat { display: inline-table; border-collapse: collapse; vertical-align: middle; margin: 2px 4px;
                    border-left: 2px solid var(--fg); border-right: 2px solid var(--fg);
                    background-image: linear-gradient(var(--fg), var(--fg)), linear-gradient(var(--fg), var(--fg)),
                                      linear-gradient(var(--fg), var(--fg)), linear-gradient(var(--fg), var(--fg));
                    background-size: 5px 2px; background-repeat: no-repeat;
                    background-position: left top, left bottom, right top, right bottom;
                    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        table.mat td { padding: 1px 6px; text-align: right; }
        table.grid { border-collapse: collapse; margin: 6px 0; }
        table.grid th, table.grid td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: middle; }
        table.grid th { background: var(--panel); }
        table.grid table.mat td { border: none; padding: 1px 6px; }
        .stepper { position: sticky; top: 0; z-index: 2; background: #fff; padding: 8px 0; border-bottom: 1px solid var(--line);
                   display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
        .stepper button { font: inherit; padding: 4px 12px; border: 1px solid #666; border-radius: 4px; background: #fff; color: var(--fg); cursor: pointer; }
        .stepper button:focus-visible, input:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--accent); outline-offset: 1px; }
        .stepper input[type=range] { width: 220px; }
        .step-title { font-weight: 600; }
        .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
        .eq { margin: 3px 0; line-height: 1.8; }
        .sym { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 600; }
        .muted { color: var(--muted); }
        .hint { color: var(--muted); font-size: 0.9em; }
        #js-errors { color: var(--back); border: 2px solid var(--back); padding: 8px; white-space: pre-wrap; }
        @media print {
          .stepper, .no-print { display: none !important; }
          body { font-size: 11pt; }
          main { max-width: none; padding: 0; }
          .panel, table, svg { break-inside: avoid; }
          .num:focus::after { content: none; }
        }

        """

    static let sharedScript = """
        var BP = {};
        BP.data = JSON.parse(document.getElementById('page-data').textContent);
        BP.esc = function (s) {
          return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
        };
        // Rounded for reading: whole numbers as they are, others to 4 significant digits.
        BP.fmt = function (v) {
          if (v === null || v === undefined) return '-';
          if (typeof v !== 'number') return String(v);
          if (!isFinite(v)) return isNaN(v) ? 'nan' : (v > 0 ? 'inf' : '-inf');
          if (v === Math.round(v) && Math.abs(v) < 1e15) return String(v);
          var a = Math.abs(v);
          if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3).replace(/\\.?0+e/, 'e');
          var s = v.toPrecision(4);
          if (s.indexOf('.') >= 0) s = s.replace(/0+$/, '').replace(/\\.$/, '');
          return s;
        };
        // A number shown rounded; the full value (the shortest text that reads back exactly) on hover and focus.
        // `tab` false: reached with the arrow keys from its matrix's first number, not with Tab.
        BP.num = function (v, tab) {
          var full = v === null || v === undefined ? '-' : String(v);
          return '<span class="num" tabindex="' + (tab === false ? '-1' : '0') + '" title="' + BP.esc(full) + '" data-v="' + BP.esc(full) + '">' +
                 BP.esc(BP.fmt(v)) + '</span>';
        };
        BP.shape = function (t) { var s = []; while (Array.isArray(t)) { s.push(t.length); t = t[0]; } return s; };
        BP.shapeText = function (t) { return '[' + BP.shape(t).join(', ') + ']'; };
        // A tensor (a number or nested arrays) as a matrix: a vector as one row, 3-D as a list of matrices.
        BP.tensor = function (t, opts) {
          opts = opts || {};
          if (!Array.isArray(t)) return BP.num(t);
          var shape = BP.shape(t);
          // One tab stop per matrix, its first number (a checkpoint's page has many thousand numbers).
          function cell(v, i, j) { return '<td>' + BP.num(v, i === 0 && j === 0) + '</td>'; }
          if (shape.length === 1) {
            if (opts.column) return '<table class="mat">' + t.map(function (v, i) { return '<tr>' + cell(v, i, 0) + '</tr>'; }).join('') + '</table>';
            return '<table class="mat"><tr>' + t.map(function (v, j) { return cell(v, 0, j); }).join('') + '</tr></table>';
          }
          if (shape.length === 2) {
            return '<table class="mat">' + t.map(function (row, i) {
              return '<tr>' + row.map(function (v, j) { return cell(v, i, j); }).join('') + '</tr>';
            }).join('') + '</table>';
          }
          // A stack of matrices: each labelled with its whole index ([0][1] in a [N, C, H, W] batch of maps).
          return '<span class="stack">' + t.map(function (m, i) {
            var o = {}, k;
            for (k in opts) o[k] = opts[k];
            o.prefix = (opts.prefix || '') + '[' + i + ']';
            return (shape.length === 3 ? '<span class="muted">' + o.prefix + '</span>' : '') + BP.tensor(m, o);
          }).join(' ') + '</span>';
        };
        // A named quantity: tests find it by data-q and read the data-v of the numbers inside.
        BP.q = function (key, html) { return '<span class="q" data-q="' + BP.esc(key) + '">' + html + '</span>'; };
        BP.map = function (t, f) { return Array.isArray(t) ? t.map(function (u) { return BP.map(u, f); }) : f(t); };
        BP.add = function (a, b) {
          if (a === null || a === undefined) return b;
          return Array.isArray(a) ? a.map(function (u, i) { return BP.add(u, b[i]); }) : a + b;
        };
        // Inside a matrix the arrow keys move the focus from number to number (Home, End: its first and
        // last), and the number left becomes the matrix's tab stop (a roving tabindex).
        document.addEventListener('keydown', function (e) {
          var t = e.target;
          if (!t || !t.classList || !t.classList.contains('num') || e.altKey || e.ctrlKey || e.metaKey) return;
          var table = t.closest('table.mat');
          if (!table) return;
          var moves = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
          if (!moves[e.key] && e.key !== 'Home' && e.key !== 'End') return;
          e.preventDefault();
          var rows = Array.prototype.filter.call(table.rows, function (r) { return r.closest('table.mat') === table; });
          var cell = t.closest('td'), i = rows.indexOf(cell.parentNode), j = cell.cellIndex, next;
          if (e.key === 'Home') next = rows[0].cells[0];
          else if (e.key === 'End') { var last = rows[rows.length - 1]; next = last.cells[last.cells.length - 1]; }
          else {
            var m = moves[e.key], row = rows[i + m[0]];
            next = row && row.cells[j + m[1]];
          }
          var n = next && next.querySelector('.num');
          if (!n) return;
          table.querySelectorAll('.num[tabindex="0"]').forEach(function (x) { x.setAttribute('tabindex', '-1'); });
          n.setAttribute('tabindex', '0');
          n.focus();
        });
        // The URL fragment as key=value pairs: #step=7&view=formulas.
        BP.fragment = function () {
          var out = {};
          location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
            var i = kv.indexOf('=');
            if (i > 0) out[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
          });
          return out;
        };
        BP.setFragment = function (values) {
          var f = BP.fragment();
          Object.keys(values).forEach(function (k) { f[k] = String(values[k]); });
          var text = '#' + Object.keys(f).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(f[k]); }).join('&');
          if (location.hash === text) return;
          try { history.replaceState(null, '', text); } catch (e) { location.hash = text; }
        };
        // A stepper over `count` steps (0 ... count - 1): buttons, a slider, the arrow keys and Home/End,
        // and #step=N in the URL (read on load and on hashchange, written on every step).
        BP.stepper = function (el, count, titleOf, show) {
          el.classList.add('stepper');
          el.setAttribute('role', 'group');
          el.setAttribute('aria-label', 'steps');
          el.innerHTML = '<button type="button" data-go="first" title="first step (Home)">&#x00AB; first</button>' +
            '<button type="button" data-go="prev" title="previous step (left arrow)">&#x25C0; back</button>' +
            '<button type="button" data-go="next" title="next step (right arrow)">next &#x25B6;</button>' +
            '<button type="button" data-go="last" title="last step (End)">last &#x00BB;</button>' +
            '<input type="range" min="0" max="' + (count - 1) + '" value="0" aria-label="step">' +
            '<span class="step-count"></span> <span class="step-title" aria-live="polite"></span>';
          var range = el.querySelector('input');
          var state = { step: 0 };
          function go(n, write) {
            n = Math.max(0, Math.min(count - 1, n | 0));
            state.step = n;
            range.value = String(n);
            el.querySelector('.step-count').textContent = 'step ' + n + ' of ' + (count - 1) + ':';
            el.querySelector('.step-title').textContent = titleOf(n);
            document.body.setAttribute('data-step', String(n));
            show(n);
            if (write) BP.setFragment({ step: n });
          }
          el.addEventListener('click', function (e) {
            var b = e.target.closest('button');
            if (!b) return;
            var to = { first: 0, prev: state.step - 1, next: state.step + 1, last: count - 1 }[b.getAttribute('data-go')];
            go(to, true);
          });
          range.addEventListener('input', function () { go(Number(range.value), true); });
          document.addEventListener('keydown', function (e) {
            var t = e.target;
            if (e.defaultPrevented) return;   // a key a matrix used
            if (t && (t.tagName === 'INPUT' && t.type !== 'range' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
            if (t && t.tagName === 'INPUT' && t.type === 'range') return;   // the slider handles its own arrows
            var to = { ArrowRight: state.step + 1, ArrowLeft: state.step - 1, Home: 0, End: count - 1 }[e.key];
            if (to === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
            e.preventDefault();
            go(to, true);
          });
          window.addEventListener('hashchange', function () { go(Number(BP.fragment().step || 0), false); });
          var initial = Number(BP.fragment().step);
          go(isFinite(initial) ? initial : 0, false);
          state.go = go;
          return state;
        };
        // A line chart as SVG text. series: [{label, color, dash, points: [[x, y], ...]}].
        BP.lineChart = function (series, opts) {
          opts = opts || {};
          var legendOutside = series.length > 2;
          var W = opts.width || (legendOutside ? 600 : 520), H = opts.height || 260, L = 62, R = legendOutside ? 100 : 12, T = 26, B = 40;
          var xs = [], ys = [];
          series.forEach(function (s) { s.points.forEach(function (p) {
            if (p[1] === null || !isFinite(p[1]) || (opts.log && p[1] <= 0)) return;
            xs.push(p[0]); ys.push(opts.log ? Math.log10(p[1]) : p[1]);
          }); });
          if (xs.length === 0) return '<p class="muted">no data</p>';
          var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
          var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
          if (opts.yMin !== undefined && !opts.log) y0 = Math.min(y0, opts.yMin);
          if (x1 === x0) x1 = x0 + 1;
          if (y1 === y0) { y1 = y0 + 1; y0 = y0 - 1; }
          var pad = (y1 - y0) * 0.05, nonNegative = y0 >= 0;
          y0 -= pad; y1 += pad;
          if (nonNegative && !opts.log && y0 < 0) y0 = 0;
          function sx(x) { return L + (x - x0) / (x1 - x0) * (W - L - R); }
          function sy(y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); }
          var out = '<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="' + BP.esc(opts.title || 'chart') + '">';
          out += '<text x="' + L + '" y="16" class="chart-title">' + BP.esc(opts.title || '') + '</text>';
          var ticks = 5;
          for (var i = 0; i <= ticks; i++) {
            var yv = y0 + (y1 - y0) * i / ticks, py = sy(yv);
            var label = opts.log ? BP.fmt(Number(Math.pow(10, yv).toPrecision(2))) : BP.fmt(Number(yv.toPrecision(3)));
            out += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + py + '" y2="' + py + '" class="gridline"/>';
            out += '<text x="' + (L - 4) + '" y="' + (py + 4) + '" text-anchor="end" class="tick">' + label + '</text>';
            var xv = x0 + (x1 - x0) * i / ticks;
            if (opts.integerX) xv = Math.round(xv);
            out += '<text x="' + sx(xv) + '" y="' + (H - B + 16) + '" text-anchor="middle" class="tick">' + BP.fmt(Math.round(xv * 10) / 10) + '</text>';
          }
          out += '<text x="' + ((L + W - R) / 2) + '" y="' + (H - 6) + '" text-anchor="middle" class="axis-label">' + BP.esc(opts.xLabel || '') + '</text>';
          out += '<text transform="translate(14 ' + ((T + H - B) / 2) + ') rotate(-90)" text-anchor="middle" class="axis-label">' + BP.esc((opts.yLabel || '') + (opts.log ? ' (log scale)' : '')) + '</text>';
          out += '<rect x="' + L + '" y="' + T + '" width="' + (W - L - R) + '" height="' + (H - T - B) + '" class="frame"/>';
          series.forEach(function (s) {
            var d = '';
            s.points.forEach(function (p) {
              if (p[1] === null || !isFinite(p[1]) || (opts.log && p[1] <= 0)) return;
              d += (d ? ' L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(opts.log ? Math.log10(p[1]) : p[1]).toFixed(1);
            });
            out += '<path d="' + d + '" fill="none" stroke="' + s.color + '" stroke-width="2"' + (s.dash ? ' stroke-dasharray="' + s.dash + '"' : '') + '><title>' + BP.esc(s.label) + '</title></path>';
          });
          if (opts.marker !== undefined) {
            out += '<line x1="' + sx(opts.marker) + '" x2="' + sx(opts.marker) + '" y1="' + T + '" y2="' + (H - B) + '" class="marker"/>';
          }
          var lx = legendOutside ? W - R + 8 : L + 8;
          series.forEach(function (s, k) {
            var ly = T + (legendOutside ? 8 : 14) + 16 * k;
            out += '<line x1="' + lx + '" x2="' + (lx + 18) + '" y1="' + (ly - 4) + '" y2="' + (ly - 4) + '" stroke="' + s.color + '" stroke-width="2"' + (s.dash ? ' stroke-dasharray="' + s.dash + '"' : '') + '/>';
            out += '<text x="' + (lx + 22) + '" y="' + ly + '" class="legend">' + BP.esc(s.label) + '</text>';
          });
          return out + '</svg>';
        };
        BP.colors = ['#1f5fbf', '#c4361b', '#2a8a3a', '#8a3fb5', '#b36b00', '#0f7f8a', '#a0306a', '#556b2f', '#4b4b4b', '#b8860b'];

        """
}

/// Escapes `& < > "` for HTML text and attribute values.
///
/// ```swift
/// htmlEscape("a < b & \"c\"")   // a &lt; b &amp; &quot;c&quot;
/// ```
public func htmlEscape(_ s: String) -> String { SVG.escape(s, apostrophe: nil) }

extension JSON {
    /// A tensor in `Double` as nested arrays (``tensor(shape:scalars:)``).
    static func tensor(_ t: Tensor<Double>) -> JSON { .tensor(shape: t.shape, scalars: t.scalars) }

    /// `Float` values as the shortest decimals that read back as the same `Float`
    /// (0.1 rather than 0.10000000149011612), to keep pages small.
    static func floats(_ values: [Float]) -> JSON { .array(values.map { .number(shortDouble($0)) }) }
}

/// The `Double` whose shortest decimal is the shortest decimal of `v`.
func shortDouble(_ v: Float) -> Double { v.isFinite ? Double("\(v)") ?? Double(v) : .nan }

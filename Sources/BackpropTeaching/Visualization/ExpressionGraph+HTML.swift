import BackpropCore
import BackpropData

// `backprop graph ... --html`: the expression graph of `--svg` as a page
// that steps through it. Forward: one node at a time in topological order.
// Backward: one node at a time in reverse order, each sending
// grad(node) · ∂node/∂input to every input, so that a variable used twice
// (x in `b = a*(x + x)`) visibly receives two contributions that add up.
// Every contribution is a vjp of the node's op alone, computed here with the
// library's autograd; the page only adds them up and shows them.

extension ExpressionGraph {
    /// What one use of an input receives in the backward pass:
    /// grad(node) · ∂node/∂input, in the input's shape.
    struct Contribution {
        /// The position among the node's inputs (`x + x` has two, both x).
        var argument: Int
        var input: Int
        var value: Tensor<Double>
    }

    /// The contributions the node sends to those of its inputs that need a gradient.
    func contributions(of node: Node) -> [Contribution] {
        guard let g = node.gradient else { return [] }
        let args = node.inputs.map { nodes[$0].value.detached() }
        return node.inputs.enumerated().compactMap { j, inputID in
            guard nodes[inputID].gradient != nil else { return nil }
            let f: (Tensor<Double>) -> Tensor<Double> = { t in
                var a = args
                a[j] = t
                return GraphBuilder.apply(node.operation, a)
            }
            return Contribution(argument: j, input: inputID, value: vjp(of: f, at: args[j], cotangent: g).vjp)
        }
    }

    /// The stepper's data: nodes, forward steps, then backward steps with their contributions.
    func htmlData(program source: String, bindings: String) -> JSON {
        func tensor(_ t: Tensor<Double>) -> JSON { .tensor(t) }
        let nodeJSON: [JSON] = nodes.map { node in
            let kind = node.operation == .input ? "input" : node.operation == .constant ? "constant" : "op"
            return .object([
                ("id", .number(Double(node.id))), ("label", .string(node.label)), ("text", .string(node.text)),
                ("kind", .string(kind)), ("op", .string(node.operation.name)), ("symbol", .string(node.operation.symbol)),
                ("form", .string(formTemplate(node.operation))),
                ("inputs", .array(node.inputs.map { .number(Double($0)) })),
                ("value", tensor(node.value)), ("grad", node.gradient.map(tensor) ?? .null),
                ("partials", .array(node.localPartials.map { p in
                    .object([("kind", .string(p.kind.rawValue)), ("value", p.kind == .omitted ? .null : tensor(p.value))])
                })),
            ])
        }
        var steps: [JSON] = [.object([("kind", .string("start"))])]
        for node in nodes where !node.inputs.isEmpty {
            steps.append(.object([("kind", .string("forward")), ("node", .number(Double(node.id)))]))
        }
        let out = nodes[output]
        if out.gradient != nil {
            steps.append(.object([("kind", .string("seed")), ("node", .number(Double(output)))]))
            for node in nodes.reversed() where !node.inputs.isEmpty && node.gradient != nil {
                let sent = contributions(of: node)
                guard !sent.isEmpty else { continue }
                steps.append(.object([
                    ("kind", .string("backward")), ("node", .number(Double(node.id))),
                    ("contributions", .array(sent.map { c in
                        .object([("argument", .number(Double(c.argument))), ("input", .number(Double(c.input))),
                                 ("value", tensor(c.value))])
                    })),
                ]))
            }
        }
        return .object([
            ("program", .string(source)), ("at", .string(bindings)),
            ("output", .number(Double(output))), ("outputName", .string(outputName)),
            ("summed", .bool(outputWasSummed)), ("nodes", .array(nodeJSON)), ("steps", .array(steps)),
        ])
    }

    /// How a node's op reads with its inputs as `$0`, `$1`: `$0 + $1`, `tanh($0)`, `$0^2`.
    func formTemplate(_ op: ExpressionOperation) -> String {
        switch op {
        case .input, .constant: return ""
        case .negate: return "-$0"
        case .binary(let b): return "$0 \(b.rawValue) $1"
        case .power(let p): return "$0^\(formatNumber(p))"
        case .function(let f): return "\(f.rawValue)($0)"
        }
    }

    /// The drawing's layout: value box of node i is vertex 2i (three lines: label, value, grad), the
    /// circle of the op making it 2i + 1; one edge from the circle to its value, and one from each
    /// distinct input to the circle (`x + x` has one, drawn twice). The routes go around the boxes.
    func htmlLayout() -> (edges: [(Int, Int)], positions: (boxes: [Int: LayeredLayout.Box], width: Double, height: Double, routes: [EdgeRoute])) {
        var layout = LayeredLayout()
        var edges: [(Int, Int)] = []
        let fontSize = Self.htmlFontSize
        for node in nodes {
            let lines = [node.label, "value " + formatTensor(node.value), "grad " + (node.gradient.map(formatTensor) ?? "-")]
            let w = max(70, lines.map { SVG.estimatedTextWidth($0, fontSize: fontSize) }.max()! + 16)
            layout.vertices[2 * node.id] = .init(width: w, height: 3 * (fontSize + 4) + 10)
            if !node.inputs.isEmpty {
                let r = max(15, SVG.estimatedTextWidth(node.operation.symbol, fontSize: fontSize) / 2 + 7)
                layout.vertices[2 * node.id + 1] = .init(width: 2 * r, height: 2 * r)
                edges.append((2 * node.id + 1, 2 * node.id))
                for input in node.inputs where !edges.contains(where: { $0 == (2 * input, 2 * node.id + 1) }) {
                    edges.append((2 * input, 2 * node.id + 1))
                }
            }
        }
        layout.edges = edges
        return (edges, layout.solveRouted(horizontalGap: 40, verticalGap: 18, margin: 20))
    }

    static let htmlFontSize = 12.0

    /// The graph drawn with the layout of ``svg()``, with ids the page's script fills in:
    /// value and gradient slots in each value node, op circles and edges to highlight.
    func htmlDrawing() -> String {
        let (edges, positions) = htmlLayout()
        let fontSize = Self.htmlFontSize
        var doc = SVGDocument(width: positions.width, height: positions.height)
        doc.append(SVGElement("defs", children: [
            SVGElement("marker", [("id", "arrow"), ("viewBox", "0 0 10 10"), ("refX", "10"), ("refY", "5"),
                                  ("markerWidth", "8"), ("markerHeight", "8"), ("markerUnits", "userSpaceOnUse"), ("orient", "auto")],
                       children: [.path({ var p = SVGPath(); p.move(to: 0, 0); p.line(to: 10, 5); p.line(to: 0, 10); p.close(); return p }(),
                                        ["fill": "#666"])]),
        ]))
        var edgeElements: [SVGElement] = []
        for ((a, b), route) in zip(edges, positions.routes) {
            let p = route.path
            // Value v_i is vertex 2i, the op making node i is 2i + 1.
            let from = a % 2 == 0 ? "v\(a / 2)" : "op\(a / 2)", to = b % 2 == 0 ? "v\(b / 2)" : "op\(b / 2)"
            // An input used k times by one op (x in x + x) gets k parallel edges, 6 px apart, one per argument.
            let uses = a % 2 == 0 && b % 2 == 1 ? nodes[b / 2].inputs.indices.filter { nodes[b / 2].inputs[$0] == a / 2 } : []
            if uses.count > 1 {
                for (k, argument) in uses.enumerated() {
                    let dy = 6 * (Double(k) - Double(uses.count - 1) / 2)
                    edgeElements.append(SVGElement("path", [("d", p.data), ("class", "edge"), ("marker-end", "url(#arrow)"),
                                                            ("transform", "translate(0 \(SVG.number(dy)))"),
                                                            ("data-from", from), ("data-to", to), ("data-argument", "\(argument)")],
                                                   children: [.title("argument \(argument + 1) of \(nodes[b / 2].label)")]))
                }
            } else {
                edgeElements.append(SVGElement("path", [("d", p.data), ("class", "edge"), ("marker-end", "url(#arrow)"),
                                                        ("data-from", from), ("data-to", to)]))
            }
        }
        doc.append(.group(edgeElements, ["class": "edges"]))
        var nodeElements: [SVGElement] = []
        for node in nodes {
            let box = positions.boxes[2 * node.id]!
            var cls = "value-node"
            if node.operation == .constant { cls += " constant" }
            if node.operation == .input { cls += " input" }
            if node.id == output { cls += " output" }
            let y = { (k: Int) in box.y + 5 + Double(k + 1) * (fontSize + 4) - 3 }
            nodeElements.append(SVGElement("g", [("class", cls), ("id", "v\(node.id)"), ("data-node", "\(node.id)"),
                                                 ("tabindex", "0"), ("role", "button"),
                                                 ("aria-label", "\(node.label) = \(node.text)")], children: [
                .title("\(node.label) = \(node.text)"),
                .rect(x: box.x, y: box.y, width: box.width, height: box.height, ["rx": "4"]),
                .text(node.label, x: box.x + 8, y: y(0), ["class": "label"]),
                SVGElement("text", [("x", SVG.number(box.x + 8)), ("y", SVG.number(y(1))), ("class", "val"),
                                    ("data-q", "value:n\(node.id)")], text: "value ?"),
                SVGElement("text", [("x", SVG.number(box.x + 8)), ("y", SVG.number(y(2))), ("class", "grad"),
                                    ("data-q", "grad:n\(node.id)")], text: "grad ?"),
            ]))
            if !node.inputs.isEmpty {
                let o = positions.boxes[2 * node.id + 1]!
                let (cx, cy) = (o.x + o.width / 2, o.y + o.height / 2)
                nodeElements.append(SVGElement("g", [("class", "op-node"), ("id", "op\(node.id)")], children: [
                    .title(node.operation.name),
                    .circle(cx: cx, cy: cy, r: o.width / 2),
                    .text(node.operation.symbol, x: cx, y: cy + 4, anchor: "middle"),
                ]))
            }
        }
        doc.append(.group(nodeElements, ["class": "nodes"]))
        // Inline in HTML: no XML declaration.
        var svg = doc.render()
        if let end = svg.range(of: "?>\n") { svg.removeSubrange(svg.startIndex..<end.upperBound) }
        // The HTML parser knows the SVG namespace; leaving out xmlns keeps every URL out of the page.
        return svg.replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ",
                                        with: "<svg class=\"graph\" role=\"img\" aria-label=\"expression graph\" ")
    }

    /// The page of `backprop graph PROGRAM --at ... --html OUT.html`.
    ///
    /// ```swift
    /// let graph = try ExpressionGraph(program: ExpressionProgram(parsing: "w = x*x"), at: parseBindings("x=3"))
    /// try FileIO.writeText(graph.htmlPage(program: "w = x*x", bindings: "x=3").render(), to: "w.html")
    /// ```
    public func htmlPage(program source: String, bindings: String) -> HTMLPage {
        let body = """
            <p class="hint no-print">Step with the buttons, the ← → keys (Home, End) or the slider; the address ends in
            <code>#step=N</code>, so a link opens that step. Hover over or tab to a number for its full value; tab to a node for its details.</p>
            <div id="stepper"></div>
            <div class="layout">
            <div class="graph-wrap">\(htmlDrawing())</div>
            <div id="step-panel" class="panel" aria-live="polite"></div>
            </div>
            <div id="node-panel" class="panel" hidden></div>
            <h2>Gradients received so far</h2>
            <p class="hint">grad(node) = Σ over the node's uses of grad(use) · ∂use/∂node: one term per edge into a use.</p>
            <table class="grid" id="ledger"><thead><tr><th>node</th><th>contributions received</th><th>grad so far</th></tr></thead><tbody></tbody></table>
            """
        return HTMLPage(title: "backprop graph", subtitle: source + (bindings.isEmpty ? "" : "   at " + bindings),
                        body: body, style: Self.graphStyle, data: htmlData(program: source, bindings: bindings),
                        script: Self.graphScript)
    }

    static let graphStyle = """
        .layout { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
        .graph-wrap { overflow-x: auto; max-width: 100%; }
        #step-panel { flex: 1 1 320px; min-width: 300px; }
        svg.graph text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #1a1a1a; }
        svg.graph .label { font-weight: bold; font-family: system-ui, Helvetica, Arial, sans-serif; }
        .value-node rect { fill: #f4f6ff; stroke: #4a4a8a; }
        .value-node.constant rect { fill: #fff; stroke-dasharray: 4 3; }
        .value-node.output rect { stroke-width: 2.5; }
        .value-node:focus { outline: none; }
        .value-node:focus rect { stroke: #0b57d0; stroke-width: 3; }
        .value-node.fwd rect { fill: #dff3e4; stroke: #1d7a35; stroke-width: 2.5; }
        .value-node.bwd rect { fill: #fde7e4; stroke: #b3261e; stroke-width: 2.5; }
        .value-node.src rect { fill: #fff4c2; }
        svg.graph text.pending { fill: #666; }
        svg.graph text.partial { fill: #b3261e; }
        .op-node circle { fill: #fff3d6; stroke: #8a6200; }
        .op-node.fwd circle { fill: #bfe8c9; stroke: #1d7a35; stroke-width: 2.5; }
        .op-node.bwd circle { fill: #f8c9c3; stroke: #b3261e; stroke-width: 2.5; }
        .edge { fill: none; stroke: #777; stroke-width: 1.2; }
        .edge.fwd { stroke: #1d7a35; stroke-width: 3; }
        .edge.bwd { stroke: #b3261e; stroke-width: 3; }
        .contrib { border-left: 3px solid #b3261e; padding-left: 8px; margin: 8px 0; }
        #ledger td:nth-child(2) .num { margin-right: 2px; }
        tr.current { background: #fde7e4; }
        @media print { #node-panel { display: none; } }
        """

    static let graphScript = """
        var d = BP.data, nodes = d.nodes, steps = d.steps;
        function lab(id) {
          var l = nodes[id].label;
          return /^[A-Za-z0-9_.]+$/.test(l) ? l : '(' + l + ')';
        }
        function sym(id) { return '<span class="sym">' + BP.esc(lab(id)) + '</span>'; }
        function form(node, parts) {
          return BP.esc(node.form).replace(/\\$(\\d)/g, function (_, k) { return parts[Number(k)]; });
        }
        // A tensor's full values, as the page's data has them: for the drawing's hover text and its nodes' labels.
        function fullText(t) { return Array.isArray(t) ? '[' + t.map(fullText).join(', ') + ']' : String(t); }
        function svgTensor(t) {
          if (!Array.isArray(t)) return '<tspan class="num" data-v="' + BP.esc(String(t)) + '">' + BP.esc(BP.fmt(t)) + '</tspan>';
          return '[' + t.map(svgTensor).join(', ') + ']';
        }
        function titleOf(n) {
          var s = steps[n];
          if (s.kind === 'start') return 'the inputs are given';
          if (s.kind === 'forward') return 'forward: ' + nodes[s.node].label + ' = ' + nodes[s.node].text;
          if (s.kind === 'seed') return 'backward starts: grad(' + d.outputName + ') = 1';
          return 'backward: ' + nodes[s.node].label + ' sends its gradient to its inputs';
        }
        // The state after step n: which values are known, every node's gradient so far, and the terms received.
        function state(n) {
          var known = {}, grad = {}, terms = {}, done = {};
          nodes.forEach(function (node) { if (node.kind !== 'op') known[node.id] = true; });
          for (var k = 0; k <= n; k++) {
            var s = steps[k];
            if (s.kind === 'forward') known[s.node] = true;
            if (s.kind === 'seed') { grad[s.node] = BP.map(nodes[s.node].value, function () { return 1; }); terms[s.node] = [{ seed: true, value: grad[s.node] }]; }
            if (s.kind === 'backward') {
              done[s.node] = true;
              s.contributions.forEach(function (c) {
                grad[c.input] = BP.add(grad[c.input], c.value);
                (terms[c.input] = terms[c.input] || []).push({ from: s.node, step: k, value: c.value });
              });
            }
          }
          return { known: known, grad: grad, terms: terms, done: done };
        }
        function complete(st, id) {
          // A gradient is complete once every node that uses this one has sent its terms.
          return nodes.every(function (node) { return node.inputs.indexOf(id) < 0 || st.done[node.id] || !node.grad; });
        }
        function highlight(s) {
          document.querySelectorAll('.fwd, .bwd, .src').forEach(function (e) { e.classList.remove('fwd', 'bwd', 'src'); });
          if (s.kind !== 'forward' && s.kind !== 'backward') {
            if (s.kind === 'seed') document.getElementById('v' + s.node).classList.add('bwd');
            return;
          }
          var cls = s.kind === 'forward' ? 'fwd' : 'bwd', node = nodes[s.node];
          document.getElementById('v' + node.id).classList.add(cls);
          document.getElementById('op' + node.id).classList.add(cls);
          node.inputs.forEach(function (i) { document.getElementById('v' + i).classList.add('src'); });
          document.querySelectorAll('.edge').forEach(function (e) {
            var f = e.getAttribute('data-from'), t = e.getAttribute('data-to');
            if (t === 'op' + node.id || (f === 'op' + node.id && t === 'v' + node.id)) e.classList.add(cls);
          });
        }
        function panel(n, st) {
          var s = steps[n], h = '';
          if (s.kind === 'start') {
            h += '<p>The inputs and constants are known:</p>';
            nodes.forEach(function (node) {
              if (node.kind !== 'op') h += '<div class="eq">' + sym(node.id) + ' = ' + BP.q('value:' + node.label, BP.tensor(node.value)) + '</div>';
            });
            h += '<p class="hint">Next: each node is computed from its inputs, in topological order.</p>';
          } else if (s.kind === 'forward') {
            var node = nodes[s.node];
            var names = node.inputs.map(sym), values = node.inputs.map(function (i) { return BP.tensor(nodes[i].value); });
            h += '<div class="eq">' + sym(node.id) + ' = ' + form(node, names) + '</div>';
            h += '<div class="eq">= ' + form(node, values) + '</div>';
            h += '<div class="eq">= ' + BP.q('value', BP.tensor(node.value)) + '</div>';
          } else if (s.kind === 'seed') {
            h += '<p>Backpropagation starts at the output ' + sym(s.node) + (d.summed ? ' (not a scalar: its sum is differentiated)' : '') + ':</p>';
            h += '<div class="eq">grad(' + BP.esc(lab(s.node)) + ') = d' + BP.esc(lab(s.node)) + '/d' + BP.esc(lab(s.node)) + ' = ' + BP.q('grad', BP.tensor(st.grad[s.node])) + '</div>';
            h += '<p class="hint">Then each node, in reverse topological order, sends grad(node) · ∂node/∂input to each of its inputs.</p>';
          } else {
            var node = nodes[s.node];
            h += '<div class="eq">grad(' + BP.esc(lab(node.id)) + ') = ' + BP.q('grad', BP.tensor(node.grad)) + ' <span class="muted">(complete: every use of it has sent its term)</span></div>';
            var before = {};
            for (var k = 0; k < n; k++) {
              if (steps[k].kind === 'backward') steps[k].contributions.forEach(function (c) { before[c.input] = BP.add(before[c.input], c.value); });
            }
            s.contributions.forEach(function (c, j) {
              var p = node.partials[c.argument], x = lab(c.input);
              var partial = p.kind === 'omitted' ? '<span class="muted">(omitted: too large)</span>' : BP.tensor(p.value);
              var how = p.kind === 'elementwise' ? ' ⊙ ' : ' · ';
              before[c.input] = BP.add(before[c.input], c.value);
              h += '<div class="contrib" data-input="' + BP.esc(nodes[c.input].label) + '">';
              h += '<div class="eq">grad(' + BP.esc(x) + ') += grad(' + BP.esc(lab(node.id)) + ')' + how + '∂' + BP.esc(lab(node.id)) + '/∂' + BP.esc(x) +
                   (node.inputs.filter(function (i) { return i === c.input; }).length > 1 ? ' <span class="muted">(argument ' + (c.argument + 1) + ')</span>' : '') + '</div>';
              h += '<div class="eq">= ' + BP.tensor(node.grad) + how + BP.q('partial:' + j, partial) + (p.kind === 'jacobian' ? ' <span class="muted">(Jacobian, contracted with the gradient)</span>' : '') + '</div>';
              h += '<div class="eq">= ' + BP.q('contribution:' + j, BP.tensor(c.value)) + '</div>';
              h += '<div class="eq">grad(' + BP.esc(x) + ') so far: ' + BP.q('total:' + j, BP.tensor(before[c.input])) + '</div>';
              h += '</div>';
            });
          }
          document.getElementById('step-panel').innerHTML = h;
        }
        function drawNodes(st) {
          nodes.forEach(function (node) {
            var v = document.querySelector('[data-q="value:n' + node.id + '"]');
            var g = document.querySelector('[data-q="grad:n' + node.id + '"]');
            // Rounded in the drawing; the full values on hover (<title>) and, for the focused node, in its label.
            var value = st.known[node.id] ? fullText(node.value) : 'not computed yet';
            v.innerHTML = st.known[node.id] ? '<title>' + BP.esc(node.label + ' = ' + value) + '</title>value ' + svgTensor(node.value) : 'value ?';
            v.setAttribute('class', 'val' + (st.known[node.id] ? '' : ' pending'));
            var has = st.grad[node.id] !== undefined, partial = has && !complete(st, node.id);
            var grad = has ? fullText(st.grad[node.id]) + (partial ? ' so far' : '') : node.grad === null ? 'none' : 'not computed yet';
            g.innerHTML = has ? '<title>' + BP.esc('grad(' + node.label + ') = ' + grad) + '</title>grad ' + svgTensor(st.grad[node.id])
                              : (node.grad === null ? 'grad -' : 'grad ?');
            g.setAttribute('class', 'grad' + (!has ? ' pending' : partial ? ' partial' : ''));
            document.getElementById('v' + node.id).setAttribute('aria-label', node.label + ' = ' + node.text + ': value ' + value + ', grad ' + grad);
          });
        }
        function ledger(n, st) {
          var rows = '';
          nodes.forEach(function (node) {
            var terms = st.terms[node.id];
            if (!terms) return;
            var cur = steps[n].kind === 'backward' && steps[n].contributions.some(function (c) { return c.input === node.id; });
            var list = terms.map(function (t) {
              return t.seed ? BP.tensor(t.value) + ' <span class="muted">(seed)</span>'
                            : BP.tensor(t.value) + ' <span class="muted">(from ' + BP.esc(nodes[t.from].label) + ')</span>';
            }).join(' + ');
            rows += '<tr' + (cur ? ' class="current"' : '') + '><td>' + sym(node.id) + '</td><td>' + BP.q('terms:' + node.label, list) +
                    '</td><td>' + BP.q('sum:' + node.label, BP.tensor(st.grad[node.id])) + (complete(st, node.id) ? '' : ' <span class="muted">(partial)</span>') + '</td></tr>';
          });
          document.querySelector('#ledger tbody').innerHTML = rows || '<tr><td colspan="3" class="muted">(the backward pass has not started)</td></tr>';
        }
        function show(n) {
          var st = state(n);
          drawNodes(st);
          highlight(steps[n]);
          panel(n, st);
          ledger(n, st);
        }
        BP.stepper(document.getElementById('stepper'), steps.length, titleOf, show);
        function details(id) {
          var node = nodes[id], p = document.getElementById('node-panel');
          var h = '<div class="eq">' + sym(id) + ' = <code>' + BP.esc(node.text) + '</code> <span class="muted">(' + BP.esc(node.op) + ', shape ' + BP.shapeText(node.value) + ')</span></div>';
          h += '<div class="eq">value = ' + BP.tensor(node.value) + '</div>';
          h += '<div class="eq">grad = ' + (node.grad === null ? '-' : BP.tensor(node.grad)) + ' <span class="muted">(at the end of the backward pass)</span></div>';
          node.partials.forEach(function (pt, j) {
            h += '<div class="eq">∂' + BP.esc(lab(id)) + '/∂' + BP.esc(lab(node.inputs[j])) + ' = ' + (pt.kind === 'omitted' ? '(omitted)' : BP.tensor(pt.value)) + ' <span class="muted">(' + pt.kind + ')</span></div>';
          });
          p.innerHTML = h;
          p.hidden = false;
        }
        document.querySelectorAll('.value-node').forEach(function (g) {
          var id = Number(g.getAttribute('data-node'));
          g.addEventListener('focus', function () { details(id); });
          g.addEventListener('click', function () { details(id); });
          g.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); details(id); } });
        });
        """
}

/// An edge's way through the layers: from its source's right side to its
/// target's left side, crossing every column in between at a height of its own.
struct EdgeRoute {
    /// Start, the right edge of the start's column, for each column crossed its entry and exit, the left
    /// edge of the end's column, then the end.
    var points: [(x: Double, y: Double)]

    /// Straight runs inside columns (where the boxes are), curves only in the gaps between columns
    /// (horizontal at both ends), so an edge never passes under a box, however wide its column.
    var path: SVGPath {
        var p = SVGPath()
        p.move(to: points[0].x, points[0].y)
        for k in 1..<points.count {
            let (a, b) = (points[k - 1], points[k])
            if a.y == b.y {
                if b.x != a.x { p.line(to: b.x, b.y) }
            } else {
                let bend = max(12, (b.x - a.x) / 2)
                p.curve(to: b.x, b.y, control1: (a.x + bend, a.y), control2: (b.x - bend, b.y))
            }
        }
        return p
    }
}

extension LayeredLayout {
    /// ``solve(horizontalGap:verticalGap:margin:)`` with every edge that spans
    /// several layers cut by a small dummy vertex in each layer it crosses (as
    /// Sugiyama's method does), so that the ordering gives it a slot of its own
    /// and it is drawn around the nodes of those layers, never under them.
    /// Returns one route per edge, in the order of ``edges``.
    func solveRouted(horizontalGap: Double, verticalGap: Double, margin: Double)
        -> (boxes: [Int: Box], width: Double, height: Double, routes: [EdgeRoute]) {
        let layer = layers()
        var expanded = self
        expanded.edges = []
        var next = (vertices.keys.max() ?? 0) + 1
        var chains: [[Int]] = []
        for (a, b) in edges {
            var chain = [a]
            for _ in 1..<max(1, layer[b]! - layer[a]!) {
                expanded.vertices[next] = .init(width: 4, height: 6)
                chain.append(next)
                next += 1
            }
            chain.append(b)
            for k in 1..<chain.count { expanded.edges.append((chain[k - 1], chain[k])) }
            chains.append(chain)
        }
        let solved = expanded.solve(horizontalGap: horizontalGap, verticalGap: verticalGap, margin: margin)
        // Each column's left and right edge, for the dummies to span.
        var columns: [Int: (left: Double, right: Double)] = [:]
        for (v, l) in expanded.layers() {
            let box = solved.boxes[v]!
            let c = columns[l] ?? (box.x, box.x + box.width)
            columns[l] = (min(c.left, box.x), max(c.right, box.x + box.width))
        }
        let expandedLayer = expanded.layers()
        let routes = chains.map { chain -> EdgeRoute in
            let a = solved.boxes[chain.first!]!, b = solved.boxes[chain.last!]!
            var points = [(x: a.x + a.width, y: a.y + a.height / 2)]
            points.append((max(a.x + a.width, columns[expandedLayer[chain.first!]!]!.right), a.y + a.height / 2))
            for dummy in chain.dropFirst().dropLast() {
                let box = solved.boxes[dummy]!, column = columns[expandedLayer[dummy]!]!
                let y = box.y + box.height / 2
                points += [(column.left, y), (column.right, y)]
            }
            points.append((min(b.x, columns[expandedLayer[chain.last!]!]!.left), b.y + b.height / 2))
            points.append((b.x, b.y + b.height / 2))
            return EdgeRoute(points: points)
        }
        return (solved.boxes.filter { vertices[$0.key] != nil }, solved.width, solved.height, routes)
    }
}

import Foundation
import Testing
import Backprop
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

// The pages used, not only read: keys pressed, numbers focused, printed, links
// pasted into an open page; and a page for a real checkpoint, which must stay
// light. The keys and focus are driven by a script appended to a copy of the
// page (what a user's key press dispatches), which writes what it saw into
// `<body data-check="...">` for the test to read from the dumped DOM.

extension Browser {
    /// Runs the browser with `arguments` before the page's URL; returns its exit status.
    static func run(_ arguments: [String], _ file: String) throws -> Int32 {
        guard let browser = path else { throw Missing() }
        let profile = DataTestSupport.temporaryDirectory("chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"]
            + arguments + [URL(fileURLWithPath: file).absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Opens a copy of `file` with `script` run after the page's own; returns the dumped DOM and
    /// what the script wrote to `document.body.dataset.check`, split at `|`.
    static func probe(_ file: String, fragment: String, script: String) throws -> (page: (dom: String, log: String), check: [String]) {
        let html = try FileIO.readText(path: file)
        let copy = file.replacingOccurrences(of: ".html", with: "-probe.html")
        let end = try #require(html.range(of: "</body>", options: .backwards))
        try FileIO.writeText(html.replacingCharacters(in: end, with: "<script>\n\(script)\n</script>\n</body>"), to: copy)
        let page = try open(copy, fragment: fragment)
        let check = page.dom.firstMatch(of: /data-check="([^"]*)"/).map { String($0.1) } ?? ""
        return (page, check.replacingOccurrences(of: "&quot;", with: "\"").components(separatedBy: "|"))
    }
}

/// JavaScript for the probes: a key press as the browser delivers it, to `target` or the focused element.
private let pressKey = """
    function press(key, target) {
      (target || document.activeElement || document.body).dispatchEvent(
        new KeyboardEvent('keydown', { key: key, bubbles: true, cancelable: true }));
    }
    var seen = [];
    function note(v) { seen.push(String(v)); document.body.setAttribute('data-check', seen.join('|')); }
    """

@Suite("HTML pages in use: keys, focus, print, links, a checkpoint's page", .enabled(if: !Browser.skipped, "BACKPROP_SKIP_BROWSER_TESTS=1"))
struct HTMLPageInteractionTests {
    static func labPage() throws -> String {
        let file = DataTestSupport.temporaryDirectory("html") + "/lab.html"
        #expect(runCLI(["explain", DataTestSupport.repositoryRoot + "/examples/lab-network.json", "--html", file]) == 0)
        return file
    }

    @Test("explain --html: → ← Home End step and write #step=N; a focused number shows its full value; arrows move in a matrix")
    func keyboard() throws {
        let file = try Self.labPage()
        // Steps 0 ... 9 (input, 4 forward, loss, 4 backward); start at 3.
        let (page, check) = try Browser.probe(file, fragment: "step=3", script: pressKey + """
            function where() { return document.body.getAttribute('data-step') + ' ' + location.hash; }
            press('ArrowRight', document.body); press('ArrowRight', document.body); note(where());
            press('End', document.body); note(where());
            press('ArrowLeft', document.body); note(where());
            press('Home', document.body); note(where());
            press('ArrowRight', document.body); press('ArrowRight', document.body); press('ArrowRight', document.body); note(where());
            // Step 3 shows s2 = W2 · a1 + b2: W2 is [[1, 2, 3], [4, 5, 6]]-like, the first matrix in the panel.
            var n = document.querySelector('#step-panel table.mat .num');
            n.focus();
            note(document.activeElement === n);
            note(n.getAttribute('tabindex') + ' ' + n.textContent + ' ' + n.getAttribute('data-v') + ' ' + n.getAttribute('title'));
            // :focus matches only while the headless window has the system focus, which a loaded machine
            // sometimes does not give it; activeElement (checked above) does not depend on that.
            note(n.matches(':focus') ? getComputedStyle(n, '::after').content : 'window without focus');
            press('ArrowRight'); note(document.activeElement.getAttribute('data-v') + ' ' + document.activeElement.getAttribute('tabindex') + ' ' + n.getAttribute('tabindex'));
            press('ArrowDown'); note(document.activeElement.getAttribute('data-v'));
            press('End'); note(document.activeElement.getAttribute('data-v'));
            note(where());   // keys inside a matrix do not step
            // Tab stops: one per matrix, and the lone numbers.
            note(document.querySelectorAll('[tabindex="0"]').length + ' ' + document.querySelectorAll('.num').length);
            """)
        PageDOM.expectClean(page, "lab, keys")
        #expect(Array(check.prefix(5)) == ["5 #step=5", "9 #step=9", "8 #step=8", "0 #step=0", "3 #step=3"])
        let json = try JSON.parse(explainFile(at: DataTestSupport.repositoryRoot + "/examples/lab-network.json", json: true))
        let w2 = flat(json["parameters"]?["2.weight"])
        try #require(check.count == 13 && w2.count == 6, "\(check), W2 = \(w2)")
        #expect(check[5] == "true")
        // Rounded on the page, the full value in data-v and title, and after the number while it has the focus.
        #expect(check[6] == "0 \(formatNumber(w2[0])) \(formatNumber(w2[0])) \(formatNumber(w2[0]))", "\(check[6])")
        if check[7] == "window without focus" {
            // The rule that shows it, as the page states it.
            #expect(try String(contentsOfFile: file, encoding: .utf8).contains(".num:focus::after { content: ' = ' attr(data-v);"))
        } else {
            #expect(check[7] == "\" = \(formatNumber(w2[0]))\"", "the focused number shows \(check[7])")
        }
        #expect(check[8] == "\(formatNumber(w2[1])) 0 -1", "→ moves to W2[0, 1] and makes it the tab stop: \(check[8])")
        #expect(check[9] == formatNumber(w2[4]), "↓ moves to W2[1, 1]: \(check[9])")
        #expect(check[10] == formatNumber(w2[5]), "End moves to W2[1, 2]: \(check[10])")
        #expect(check[11] == "3 #step=3")
        let counts = check[12].split(separator: " ").compactMap { Int($0) }
        #expect(counts.count == 2 && counts[0] < counts[1] / 2, "tab stops, numbers: \(counts)")
    }

    @Test("explain --html prints: a PDF, with the stepper and the switch hidden by the print style")
    func printing() throws {
        let file = try Self.labPage()
        let pdf = file.replacingOccurrences(of: ".html", with: ".pdf")
        #expect(try Browser.run(["--virtual-time-budget=5000", "--no-pdf-header-footer", "--print-to-pdf=\(pdf)"], file) == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: pdf))
        #expect(bytes.count > 10_000 && bytes.starts(with: Array("%PDF-".utf8)), "\(bytes.count) bytes")
        // The print rules the browser parsed: what they hide.
        let (page, check) = try Browser.probe(file, fragment: "step=7", script: pressKey + """
            var hidden = [];
            Array.prototype.forEach.call(document.styleSheets, function (sheet) {
              Array.prototype.forEach.call(sheet.cssRules, function (rule) {
                if (!rule.media || rule.media.mediaText !== 'print') return;
                Array.prototype.forEach.call(rule.cssRules, function (r) { if (r.style && r.style.display === 'none') hidden.push(r.selectorText); });
              });
            });
            note(hidden.join(', '));
            note(document.querySelector('.stepper') !== null && document.querySelector('.view-switch').classList.contains('no-print'));
            """)
        PageDOM.expectClean(page, "lab, print rules")
        #expect(check.first?.contains(".stepper") == true && check.first?.contains(".no-print") == true, "\(check)")
        #expect(check.dropFirst().first == "true")
    }

    @Test("a link pasted into an open page: #step, view= and log= are read again on hashchange")
    func hashChange() throws {
        let file = try Self.labPage()
        let (page, check) = try Browser.probe(file, fragment: "step=2", script: pressKey + """
            note(document.body.className);
            window.addEventListener('hashchange', function () {
              setTimeout(function () {
                note(document.body.getAttribute('data-step') + ' ' + document.body.className + ' ' +
                     document.querySelector('input[value=formulas]').checked);
              }, 0);
            });
            location.hash = '#step=8&view=formulas';
            """)
        PageDOM.expectClean(page, "lab, hashchange")
        #expect(check == ["", "8 formulas true"])

        let report = DataTestSupport.temporaryDirectory("html") + "/moons.html"
        #expect(runCLI(["train", "--dataset", "moons", "--epochs", "3", "--samples", "100", "--progress", "none", "--report", report]) == 0)
        let (moons, logCheck) = try Browser.probe(report, fragment: "step=1", script: pressKey + """
            note(document.getElementById('log-loss').checked + ' ' + (document.getElementById('curves').innerHTML.indexOf('(log scale)') >= 0));
            window.addEventListener('hashchange', function () {
              setTimeout(function () {
                note(document.getElementById('log-loss').checked + ' ' + (document.getElementById('curves').innerHTML.indexOf('(log scale)') >= 0) +
                     ' ' + document.body.getAttribute('data-step'));
              }, 0);
            });
            location.hash = '#step=2&log=1';
            """)
        PageDOM.expectClean(moons, "moons, hashchange")
        #expect(logCheck == ["false false", "true true 2"])
    }

    @Test("graph --html: the drawing's rounded numbers have their full values on hover (<title>) and in the node's label")
    func graphFullValues() throws {
        let program = "h = tanh(x*w); L = h*h"
        let file = DataTestSupport.temporaryDirectory("html") + "/tanh.html"
        #expect(runCLI(["graph", program, "--at", "x=0.7,w=0.3", "--html", file]) == 0)
        let json = try JSON.parse(GraphCommand.output(program: program, at: ["x=0.7,w=0.3"], json: true))
        let steps = try #require(try pageData(FileIO.readText(path: file))["steps"]?.arrayValue)
        let page = try Browser.open(file, fragment: "step=\(steps.count - 1)")
        PageDOM.expectClean(page, "tanh graph")
        for name in ["h", "L"] {
            let values = flat(json["values"]?[name]), grads = flat(json["gradients"]?[name])
            try #require(values.count == 1 && grads.count == 1)
            let (value, grad) = (values[0], grads[0])
            #expect(value != value.rounded() && abs(value) > 0.01)
            let shown = page.dom.firstMatch(of: try Regex("<title>\(name) = ([^<]*)</title>value ([^<]*<tspan[^>]*>[^<]*)"))
            let hover = shown.flatMap { Double(String($0.output[1].substring ?? "")) }
            #expect(hover == value, "\(name): hover text \(String(describing: hover)), --json \(value)")
            let label = page.dom.firstMatch(of: try Regex("aria-label=\"\(name) = [^:\"]*: value ([^,]*), grad ([^\"]*)\""))
            #expect(label.flatMap { Double(String($0.output[1].substring ?? "")) } == value, "\(name): label \(String(describing: label?.output[0].substring))")
            #expect(label.flatMap { Double(String($0.output[2].substring ?? "")) } == grad, "\(name): label's grad")
            #expect(page.dom.contains("<title>grad(\(name)) = "), "\(name): the gradient's hover text")
        }
    }

    @Test("explain --checkpoint --html for a 64-256-10 digits model: under 1 MB, few tab stops, the numbers of --json")
    func checkpointPageIsLight() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let checkpoint = dir + "/digits.safetensors", file = dir + "/digit0.html"
        #expect(runCLI(["train", "--dataset", "digits", "--hidden", "256", "--epochs", "1", "--progress", "none", "--checkpoint", checkpoint]) == 0)
        #expect(runCLI(["explain", "--checkpoint", checkpoint, "--example", "0", "--html", file]) == 0)
        let command = try ExplainCommand.parse(["--checkpoint", checkpoint, "--example", "0", "--json"])
        let json = try JSON.parse(command.explainCheckpoint(checkpoint))
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 1_000_000)
        let shapes = try #require(json["layers"]?.arrayValue).compactMap { $0["output_shape"]?.arrayValue?.compactMap(\.intValue) }
        #expect(shapes == [[256], [256], [10]], "a 64-256-10 model: \(shapes)")
        let outputs = try #require(json["outputs"]?.arrayValue)
        let upstream = try #require(json["output_gradients"]?.arrayValue)
        let steps = try #require(try pageData(html)["steps"]?.arrayValue)
        // Steps: 0 input, 1-3 forward, 4 the loss, 5-7 backward through layers 2, 1, 0.
        #expect(steps.count == 8)

        let forward = try Browser.open(file, fragment: "step=1")
        PageDOM.expectClean(forward, "forward layer 0")
        expectClose(PageDOM.numbers(forward.dom, "eq:s1"), flat(outputs[0]), "s1")
        // W1 is [256, 64]: named, left out, and where to find it said.
        #expect(forward.dom.contains("[256 × 64]: 16,384 numbers, more than the 4,096 a page shows; the same command with --json prints all its values"))

        let loss = try Browser.open(file, fragment: "step=4")
        PageDOM.expectClean(loss, "loss")
        expectClose(PageDOM.numbers(loss.dom, "eq:C"), flat(json["loss"]), "C")
        expectClose(PageDOM.numbers(loss.dom, "eq:dC/dy~"), flat(upstream[2]), "dC/dy~")

        let back = try Browser.open(file, fragment: "step=5")
        PageDOM.expectClean(back, "backward layer 2")
        expectClose(PageDOM.numbers(back.dom, "eq:2.weight"), flat(json["gradients"]?["2.weight"]), "dC/dW2")
        expectClose(PageDOM.numbers(back.dom, "eq:dC/da1"), flat(upstream[1]), "dC/da1")
        expectClose(PageDOM.numbers(back.dom, "grad:2.bias"), flat(json["gradients"]?["2.bias"]), "table: dC/db2")
        // dC/da1 = W2ᵀ · dC/dy~: the page stores W2 once and shows its transpose from the same numbers.
        let row = try #require(back.dom.firstMatch(of: /<span class="numbers-only">((?:(?!<span class="eq-result">).)*)<span class="eq-result">= <span class="q" data-q="eq:dC\/da1">/))
        let operands = String(row.1).matches(of: /<table class="mat">(.*?)<\/table>/).map { $0.1.matches(of: /data-v="([^"]*)"/).compactMap { Double(String($0.1)) } }
        let w2 = flat(json["parameters"]?["2.weight"])
        #expect(w2.count == 2560 && operands.count == 2)
        expectClose(operands.first ?? [], (0..<256).flatMap { i in (0..<10).map { j in w2[j * 256 + i] } }, "W2ᵀ")
        expectClose(operands.last ?? [], flat(upstream[2]), "dC/dy~")

        let relu = try Browser.open(file, fragment: "step=6")
        PageDOM.expectClean(relu, "backward relu")
        let jacobian = flat(json["jacobians"]?["da1/ds1"])
        #expect(jacobian.count == 256 * 256, "--json has the whole Jacobian")
        expectClose(PageDOM.numbers(relu.dom, "eq:local:1"), (0..<256).map { jacobian[257 * $0] }, "relu'(s1), the diagonal of da1/ds1")
        expectClose(PageDOM.numbers(relu.dom, "eq:dC/ds1"), flat(upstream[0]), "dC/ds1")
        #expect(relu.dom.contains("[256 × 256]: 65,536 numbers"), "the Jacobian's table names it")

        let first = try Browser.open(file, fragment: "step=7")
        PageDOM.expectClean(first, "backward layer 0")
        expectClose(PageDOM.numbers(first.dom, "eq:0.bias"), flat(json["gradients"]?["0.bias"]), "dC/db1")
        expectClose(PageDOM.numbers(first.dom, "eq:dC/dx"), flat(json["input_gradient"]), "dC/dx")
        let tabStops = first.dom.matches(of: /tabindex="0"/).count, numbers = first.dom.matches(of: /class="num"/).count
        #expect(tabStops < 200 && numbers > 5_000, "\(tabStops) tab stops for \(numbers) numbers")
    }
}

@Suite("train --report: the options as the run used them")
struct TrainingReportOptionsTests {
    @Test("weight decay: the optimizer's default (0, or 0.01 for AdamW) or the value given, never nil or Optional",
          arguments: [(OptimizerKind.adam, nil, "0.0"), (.adamw, nil, "0.01"), (.sgd, 0.01, "0.01"), (.adamw, 0, "0.0")])
    func weightDecay(optimizer: OptimizerKind, weightDecay: Double?, shown: String) throws {
        var o = TrainingOptions()
        o.dataset = .moons
        o.samples = 60
        o.epochs = 1
        o.optimizer = optimizer
        o.weightDecay = weightDecay
        o.progress = .none
        let result = try TrainingSession.run(o, output: { _ in })
        let page = result.htmlPage(options: o, command: "backprop train").render()
        let options = try #require(try pageData(page)["options"]?.arrayValue)
        let row = options.first { $0.arrayValue?.first?.stringValue == "weight decay" }
        #expect(row?.arrayValue?.last?.stringValue == shown)
        #expect(!page.contains("Optional(") && !page.contains("\"nil\""))
    }
}

@Suite("graph --html: the drawing's own layout")
struct GraphDrawingLayoutTests {
    @Test("the page's boxes (three lines each) and gaps: no edge runs under a box; x + x is drawn as two edges", arguments: [
        ("a = x*y + z; b = a*(x + x); w = a*b + b", "x=1,y=2,z=3"),
        ("h = tanh(W@x + b); L = sum(h*h) + sum(x*x) + sum(b)", "W=[[1,2],[3,4]],x=[1,-1],b=[0.5,0.5]"),
    ])
    func drawingRoutes(program: String, at: String) throws {
        let graph = try ExpressionGraph(program: ExpressionProgram(parsing: program), at: Bindings.parse(at))
        let (edges, solved) = graph.htmlLayout()
        #expect(solved.routes.count == edges.count && !edges.isEmpty)
        var under: [String] = []
        for ((a, b), route) in zip(edges, solved.routes) {
            let start = try #require(solved.boxes[a]), end = try #require(solved.boxes[b])
            #expect(route.points.first!.x == start.x + start.width && route.points.last!.x == end.x)
            // Points 0-1, 2-3, ...: straight runs across a column, which must not cross a box;
            // points 1-2, 3-4, ...: curves in the gap between two columns, where no box may be.
            for k in 0..<(route.points.count - 1) {
                let (p, q) = (route.points[k], route.points[k + 1])
                if k % 2 == 0 {
                    #expect(p.y == q.y)
                    for (v, box) in solved.boxes where box.x < q.x && box.x + box.width > p.x && box.y <= p.y && p.y <= box.y + box.height {
                        under.append("edge \(a)->\(b) under vertex \(v)")
                    }
                } else {
                    for (v, box) in solved.boxes where box.x < q.x - 0.01 && box.x + box.width > p.x + 0.01 {
                        under.append("curve \(a)->\(b) over vertex \(v)")
                    }
                }
            }
        }
        #expect(under.isEmpty, "\(under)")
        // Every value box is tall enough for its three lines, and boxes do not overlap.
        let boxes = solved.boxes.sorted { $0.key < $1.key }
        for (i, (v, p)) in boxes.enumerated() {
            if v % 2 == 0 { #expect(p.height >= 3 * (ExpressionGraph.htmlFontSize + 4)) }
            for (w, q) in boxes[(i + 1)...] {
                #expect(p.x + p.width <= q.x || q.x + q.width <= p.x || p.y + p.height <= q.y || q.y + q.height <= p.y, "boxes \(v) and \(w) overlap")
            }
        }
        let svg = graph.htmlDrawing()
        let doubled = graph.nodes.filter { Set($0.inputs).count < $0.inputs.count }
        #expect(svg.matches(of: /data-argument="\d+"/).count == doubled.reduce(0) { $0 + $1.inputs.count })
        if program.hasPrefix("a = x*y") {
            #expect(doubled.count == 1 && svg.contains("<title>argument 2 of x + x</title>"))
        }
    }
}

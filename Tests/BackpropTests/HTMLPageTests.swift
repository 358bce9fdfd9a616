import Foundation
import Testing
import Backprop
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

// The HTML pages of `graph --html`, `explain --html` and `train --report`,
// opened in a real headless browser (Debian's `chromium`) at several steps:
// the numbers in the DOM the page's script built must be the numbers of the
// `--json` output (or of the training result) of the same run, the page must
// record no JavaScript error, and it must not be able to make a network request.

/// Headless Chromium, found on PATH at run time.
enum Browser {
    static let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

    static let path: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in names {
            for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        }
        return nil
    }()

    /// `BACKPROP_SKIP_BROWSER_TESTS=1` skips these tests; otherwise a missing browser fails them.
    static let skipped = ProcessInfo.processInfo.environment["BACKPROP_SKIP_BROWSER_TESTS"] == "1"

    /// Thrown, and so failing the test, when no browser is installed.
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "no headless browser found (looked for \(Browser.names.joined(separator: ", ")) on PATH): install it with "
                + "`apt-get install -y chromium`, or set BACKPROP_SKIP_BROWSER_TESTS=1 to skip the browser tests"
        }
    }

    /// Opens `file#fragment`, lets its scripts run, and returns the DOM and the browser's log.
    static func open(_ file: String, fragment: String) throws -> (dom: String, log: String) {
        guard let browser = path else { throw Missing() }
        let profile = DataTestSupport.temporaryDirectory("chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
            "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0",
            "--dump-dom", URL(fileURLWithPath: file).absoluteString + "#" + fragment,
        ]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while it runs, so that a full pipe cannot stall it.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// Reading the numbers of a dumped DOM: every number is an element with
/// `data-v` (its full value), inside an element `data-q="KEY"` that names the quantity.
enum PageDOM {
    /// The `data-v` numbers inside each element whose `data-q` is `key`, in document order.
    static func quantities(_ dom: String, _ key: String) -> [[Double]] {
        var result: [[Double]] = []
        var searchFrom = dom.startIndex
        while let hit = dom.range(of: "data-q=\"\(key)\"", range: searchFrom..<dom.endIndex) {
            searchFrom = hit.upperBound
            guard let open = dom[..<hit.lowerBound].lastIndex(of: "<") else { continue }
            let name = dom[dom.index(after: open)...].prefix { $0.isLetter || $0.isNumber }
            // Find the matching close tag, counting nested elements of the same name.
            var depth = 0, i = open, end = dom.endIndex
            while i < dom.endIndex {
                let rest = dom[i...]
                if rest.hasPrefix("</\(name)>") {
                    depth -= 1
                    if depth == 0 { end = i; break }
                    i = dom.index(i, offsetBy: name.count + 3)
                } else if rest.hasPrefix("<\(name)"), let next = rest.dropFirst(name.count + 1).first, next == " " || next == ">" {
                    depth += 1
                    i = dom.index(i, offsetBy: name.count + 1)
                } else {
                    i = dom.index(after: i)
                }
            }
            let element = dom[open..<end]
            result.append(element.matches(of: /data-v="([^"]*)"/).map { Double(String($0.1)) ?? .nan })
        }
        return result
    }

    /// The numbers of the one element `data-q="key"`; records an issue when there is not exactly one.
    static func numbers(_ dom: String, _ key: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Double] {
        let all = quantities(dom, key)
        #expect(all.count == 1, "expected one element data-q=\"\(key)\", found \(all.count)", sourceLocation: sourceLocation)
        return all.first ?? []
    }

    /// The page's own error record is empty, its script ran to the end, and the browser logged no uncaught error.
    static func expectClean(_ page: (dom: String, log: String), _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(page.dom.contains("data-js-errors=\"0\""), "\(label): the page recorded a JavaScript error", sourceLocation: sourceLocation)
        #expect(page.dom.contains("data-ready=\"1\""), "\(label): the page's script did not finish", sourceLocation: sourceLocation)
        #expect(!page.log.contains("Uncaught"), "\(label): the browser logged: \(page.log.split(separator: "\n").filter { $0.contains("Uncaught") })",
                sourceLocation: sourceLocation)
        // A load the Content Security Policy blocked would be an attempt at a request.
        #expect(!page.log.contains("Refused to"), "\(label): the page tried to load something: \(page.log.split(separator: "\n").filter { $0.contains("Refused to") })",
                sourceLocation: sourceLocation)
    }

    /// The file makes no request: no http(s) URL in it, and a CSP that forbids any fetch.
    static func expectSelfContained(_ html: String, maxBytes: Int = 1_000_000, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.contains("http://") && !html.contains("https://"), "the page names a URL", sourceLocation: sourceLocation)
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;")
                || html.contains("content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\""),
                "the page has no Content Security Policy", sourceLocation: sourceLocation)
        #expect(html.utf8.count < maxBytes, "the page is \(html.utf8.count) bytes", sourceLocation: sourceLocation)
    }
}

/// `actual` equals `expected` element by element, to a relative 1e-12.
func expectClose(_ actual: [Double], _ expected: [Double], _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let ok = actual.count == expected.count && zip(actual, expected).allSatisfy { a, e in abs(a - e) <= 1e-12 * max(1, abs(e)) }
    #expect(ok, "\(label): page shows \(actual), expected \(expected)", sourceLocation: sourceLocation)
}

/// The row-major numbers of a JSON tensor (a number or nested arrays).
func flat(_ j: JSON?) -> [Double] {
    switch j {
    case .number(let n)?: return [n]
    case .array(let items)?: return items.flatMap { flat($0) }
    default: return []
    }
}

/// The data blob a page carries.
func pageData(_ html: String) throws -> JSON {
    let start = try #require(html.range(of: "<script type=\"application/json\" id=\"page-data\">"))
    let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
    return try JSON.parse(String(html[start.upperBound..<end.lowerBound]), source: "page-data")
}

func runCLI(_ arguments: [String]) -> Int32 {
    BackpropCommand.runMain(arguments: arguments, output: { _ in }, errorOutput: { Issue.record("stderr: \($0)") })
}

@Suite("HTML pages in a headless browser", .enabled(if: !Browser.skipped, "BACKPROP_SKIP_BROWSER_TESTS=1"))
struct HTMLPageTests {
    static let seedProgram = "a = x*y + z; b = a*(x + x); w = a*b + b"

    @Test("graph --html: forward values, then x receives 30 + 30 + 44 = 104, as --json says")
    func graphPage() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let file = dir + "/graph.html"
        #expect(runCLI(["graph", Self.seedProgram, "--at", "x=1,y=2,z=3", "--html", file]) == 0)
        let json = try JSON.parse(GraphCommand.output(program: Self.seedProgram, at: ["x=1,y=2,z=3"], json: true))
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 100_000)
        let data = try pageData(html)
        let nodes = try #require(data["nodes"]?.arrayValue)
        let steps = try #require(data["steps"]?.arrayValue)
        func node(_ label: String) -> Int? { nodes.firstIndex { $0["label"]?.stringValue == label } }
        func step(_ kind: String, _ label: String) -> Int? {
            steps.firstIndex { $0["kind"]?.stringValue == kind && $0["node"]?.intValue.map { nodes[$0]["label"]?.stringValue } == label }
        }
        let x = try #require(node("x"))

        // Step 0: the inputs.
        let start = try Browser.open(file, fragment: "step=0")
        PageDOM.expectClean(start, "step 0")
        for name in ["x", "y", "z"] { expectClose(PageDOM.numbers(start.dom, "value:\(name)"), flat(json["values"]?[name]), "value of \(name)") }

        // The forward step of a: a = (x*y) + z = 2 + 3 = 5.
        let forwardA = try #require(step("forward", "a"))
        let fa = try Browser.open(file, fragment: "step=\(forwardA)")
        PageDOM.expectClean(fa, "forward a")
        expectClose(PageDOM.numbers(fa.dom, "value"), flat(json["values"]?["a"]), "a")
        #expect(fa.dom.contains("data-step=\"\(forwardA)\""))

        // The backward step of x + x: two contributions of 30 to x, 60 so far.
        let backXX = try #require(step("backward", "x + x"))
        let bxx = try Browser.open(file, fragment: "step=\(backXX)")
        PageDOM.expectClean(bxx, "backward x + x")
        expectClose(PageDOM.numbers(bxx.dom, "contribution:0"), [30], "first contribution")
        expectClose(PageDOM.numbers(bxx.dom, "contribution:1"), [30], "second contribution")
        expectClose(PageDOM.numbers(bxx.dom, "total:1"), [60], "x so far")

        // The last step: every gradient complete, x's three terms add up to --json's 104.
        let last = try Browser.open(file, fragment: "step=\(steps.count - 1)")
        PageDOM.expectClean(last, "last step")
        let terms = PageDOM.numbers(last.dom, "terms:x")
        #expect(terms.count == 3 && terms.reduce(0, +) == 104, "x receives \(terms)")
        for name in ["x", "y", "z", "a", "b", "w"] {
            expectClose(PageDOM.numbers(last.dom, "sum:\(name)"), flat(json["gradients"]?[name]), "grad of \(name)")
        }
        expectClose(PageDOM.numbers(last.dom, "grad:n\(x)"), [104], "x's box in the drawing")
        expectClose([104, 22, 22], ["x", "y", "z"].flatMap { flat(json["gradients"]?[$0]) }, "the seed's gradients")
    }

    @Test("explain --html: the lab network's o = (320, 347), C = 49 and every gradient, as --json says")
    func explainPage() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let file = dir + "/lab.html"
        let lab = DataTestSupport.repositoryRoot + "/examples/lab-network.json"
        #expect(runCLI(["explain", lab, "--html", file]) == 0)
        let json = try JSON.parse(explainFile(at: lab, json: true))
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 100_000)
        let outputs = try #require(json["outputs"]?.arrayValue)
        let upstream = try #require(json["output_gradients"]?.arrayValue)
        // Steps: 0 input, 1-4 forward through layers 0-3, 5 the loss, 6-9 backward through layers 3-0.

        let forward = try Browser.open(file, fragment: "step=3")
        PageDOM.expectClean(forward, "forward layer 2")
        expectClose(PageDOM.numbers(forward.dom, "eq:s2"), flat(outputs[2]), "s2")
        expectClose(PageDOM.numbers(forward.dom, "eq:s2"), [320, 347], "o")
        #expect(forward.dom.contains("class=\"box fwd\" id=\"box-2\""))

        let loss = try Browser.open(file, fragment: "step=5")
        PageDOM.expectClean(loss, "loss")
        expectClose(PageDOM.numbers(loss.dom, "eq:C"), [49], "C")
        expectClose(PageDOM.numbers(loss.dom, "eq:C"), flat(json["loss"]), "C")
        expectClose(PageDOM.numbers(loss.dom, "eq:dC/dy~"), flat(upstream[3]), "dC/dy~")

        let back = try Browser.open(file, fragment: "step=7")
        PageDOM.expectClean(back, "backward layer 2")
        expectClose(PageDOM.numbers(back.dom, "eq:2.weight"), flat(json["gradients"]?["2.weight"]), "dC/dW2")
        expectClose(PageDOM.numbers(back.dom, "eq:2.bias"), flat(json["gradients"]?["2.bias"]), "dC/db2")
        expectClose(PageDOM.numbers(back.dom, "eq:dC/da1"), flat(upstream[1]), "dC/da1")
        #expect(back.dom.contains("class=\"box bwd\" id=\"box-2\""))

        let relu = try Browser.open(file, fragment: "step=8&view=formulas")
        PageDOM.expectClean(relu, "backward relu, formulas")
        #expect(relu.dom.contains(/<body[^>]*class="formulas"/))
        expectClose(PageDOM.numbers(relu.dom, "eq:local:1"), flat(json["jacobians"]?["da1/ds1"]).enumerated().filter { $0.offset % 4 == 0 }.map(\.element),
                    "relu'(s1), the diagonal of da1/ds1")
        expectClose(PageDOM.numbers(relu.dom, "eq:dC/ds1"), flat(upstream[0]), "dC/ds1")

        let first = try Browser.open(file, fragment: "step=9")
        PageDOM.expectClean(first, "backward layer 0")
        expectClose(PageDOM.numbers(first.dom, "eq:0.weight"), flat(json["gradients"]?["0.weight"]), "dC/dW1")
        expectClose(PageDOM.numbers(first.dom, "eq:dC/dx"), flat(json["input_gradient"]), "dC/dx")
        // The tables, at any step.
        for name in ["0.weight", "0.bias", "2.weight", "2.bias"] {
            expectClose(PageDOM.numbers(first.dom, "grad:\(name)"), flat(json["gradients"]?[name]), "table: \(name)")
        }
        for (i, name) in ["s1", "a1", "s2", "y~"].enumerated() {
            expectClose(PageDOM.numbers(first.dom, "fwd:\(name)"), flat(outputs[i]), "table: \(name)")
        }
        expectClose(PageDOM.numbers(first.dom, "jac:da1/ds1"), flat(json["jacobians"]?["da1/ds1"]), "table: da1/ds1")
    }

    @Test("explain --html on a batch with softmax and cross-entropy: the full Jacobian step, no error")
    func explainBatchPage() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        for example in ["batch-classification.json", "lab-softmax-cross-entropy.json"] {
            let path = DataTestSupport.repositoryRoot + "/examples/" + example
            let file = dir + "/" + example + ".html"
            let report = try explainReport(at: path)
            try FileIO.writeText(report.htmlPage(source: example).render(), to: file)
            let json = try JSON.parse(report.json())
            let steps = try #require(try pageData(FileIO.readText(path: file))["steps"]?.arrayValue)
            let page = try Browser.open(file, fragment: "step=\(steps.count - 1)")
            PageDOM.expectClean(page, example)
            expectClose(PageDOM.numbers(page.dom, "eq:dC/dx"), flat(json["input_gradient"]), "\(example): dC/dx")
            expectClose(PageDOM.numbers(page.dom, "loss"), flat(json["loss"]), "\(example): C")
            // The first layer's weight gradient, with its operands: (dC/ds1)ᵀ · x for a batch, dC/ds1 · xᵀ for a point.
            guard json["gradients"]?["0.weight"] != nil else { continue }
            let model = ExplainPageModel(report)
            let first = try #require(model.steps().last?.equations.first)
            expectClose(PageDOM.numbers(page.dom, "eq:0.weight"), flat(json["gradients"]?["0.weight"]), "\(example): dC/dW1")
            if case let .value(_, g, _) = first.parts[0], case let .value(_, x, _) = first.parts[2] {
                // The product of the operands as shown is the gradient.
                let (gm, xm) = (g.shape.count == 2 ? g : ExplainValue(shape: [g.scalars.count, 1], scalars: g.scalars),
                                x.shape.count == 2 ? x : ExplainValue(shape: [1, x.scalars.count], scalars: x.scalars))
                let (n, k, m) = (gm.shape[0], gm.shape[1], xm.shape[1])
                #expect(k == xm.shape[0], "\(example): operands \(gm.shape) · \(xm.shape)")
                let product = (0..<n).flatMap { i in (0..<m).map { j in (0..<k).reduce(0.0) { $0 + gm.scalars[i * k + $1] * xm.scalars[$1 * m + j] } } }
                expectClose(product, flat(json["gradients"]?["0.weight"]), "\(example): the operands multiply to dC/dW1")
            } else {
                Issue.record("\(example): dC/dW1 is not a product of two values")
            }
        }
    }

    @Test("explain --html on conv networks: feature maps, kernel-shaped gradients, batch norm, as --json says",
          arguments: [("conv2d.json", ["s1", "a1", "a1'", "a1''", "y~"]), ("conv-batchnorm.json", ["s1", "s2", "a2", "a2'", "a2''", "y~"])])
    func explainConvPage(_ example: String, _ names: [String]) throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let path = DataTestSupport.repositoryRoot + "/examples/" + example
        let file = dir + "/" + example + ".html"
        #expect(runCLI(["explain", path, "--html", file]) == 0)
        let json = try JSON.parse(explainFile(at: path, json: true))
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 200_000)
        let outputs = try #require(json["outputs"]?.arrayValue)
        let upstream = try #require(json["output_gradients"]?.arrayValue)
        let steps = try #require(try pageData(html)["steps"]?.arrayValue)
        // Steps: 0 input, then one forward step per layer, the loss, one backward step per layer (the last is layer 0).
        #expect(steps.count == 2 * names.count + 2)

        let conv = try Browser.open(file, fragment: "step=1")
        PageDOM.expectClean(conv, "\(example): forward conv")
        expectClose(PageDOM.numbers(conv.dom, "eq:s1"), flat(outputs[0]), "\(example): s1")
        #expect(conv.dom.contains("class=\"box fwd\" id=\"box-0\""))
        // Each box shows its output's shape: the feature maps stay maps.
        let shape = try #require(json["layers"]?.arrayValue?.first?["output_shape"]?.arrayValue).compactMap(\.intValue)
        #expect(conv.dom.contains("s1 [\(shape.map(String.init).joined(separator: ", "))]"), "\(example): box of layer 0 with its shape")

        let second = try Browser.open(file, fragment: "step=2")
        PageDOM.expectClean(second, "\(example): forward layer 1")
        expectClose(PageDOM.numbers(second.dom, "eq:\(names[1])"), flat(outputs[1]), "\(example): \(names[1])")

        let last = try Browser.open(file, fragment: "step=\(steps.count - 1)")
        PageDOM.expectClean(last, "\(example): backward conv")
        expectClose(PageDOM.numbers(last.dom, "eq:0.weight"), flat(json["gradients"]?["0.weight"]), "\(example): dC/dW1 in the last step")
        expectClose(PageDOM.numbers(last.dom, "eq:0.bias"), flat(json["gradients"]?["0.bias"]), "\(example): dC/db1")
        expectClose(PageDOM.numbers(last.dom, "eq:dC/dx"), flat(json["input_gradient"]), "\(example): dC/dx")
        #expect(last.dom.contains("convolved (full) with the flipped kernel") && last.dom.contains("correlated with dY"))
        for (key, _) in try #require(json["gradients"]?.objectValue) {
            expectClose(PageDOM.numbers(last.dom, "grad:\(key)"), flat(json["gradients"]?[key]), "\(example): table: \(key)")
        }
        for (i, name) in names.enumerated() {
            expectClose(PageDOM.numbers(last.dom, "fwd:\(name)"), flat(outputs[i]), "\(example): table: \(name)")
            expectClose(PageDOM.numbers(last.dom, "up:\(name)"), flat(upstream[i]), "\(example): table: dC/d\(name)")
        }
        expectClose(PageDOM.numbers(last.dom, "loss"), flat(json["loss"]), "\(example): C")

        if example == "conv-batchnorm.json" {
            // The batch norm steps say what it did: the batch statistics forward, its parameters' gradients backward.
            #expect(second.dom.contains("channel 0: mean 2, var 10.75"))
            let back = try Browser.open(file, fragment: "step=\(steps.count - 2)")
            PageDOM.expectClean(back, "backward batch norm")
            expectClose(PageDOM.numbers(back.dom, "eq:1.weight"), flat(json["gradients"]?["1.weight"]), "dC/dγ2")
            expectClose(PageDOM.numbers(back.dom, "eq:1.bias"), flat(json["gradients"]?["1.bias"]), "dC/dβ2")
            expectClose(PageDOM.numbers(back.dom, "eq:dC/ds1"), flat(upstream[0]), "dC/ds1")
        } else {
            // The max pool step says where each window's gradient went.
            let pool = try Browser.open(file, fragment: "step=\(steps.count - 3)")
            PageDOM.expectClean(pool, "backward max pool")
            #expect(pool.dom.contains("the max at a1[0, 3, 3]: dC/da1[0, 3, 3] gets dC/da1'[0, 1, 1] = 3.52"))
            expectClose(PageDOM.numbers(pool.dom, "eq:dC/da1"), flat(upstream[1]), "dC/da1")
        }
    }

    @Test("explain --checkpoint --html: a trained model on one example, as --json says")
    func explainCheckpointPage() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let checkpoint = dir + "/moons.safetensors", file = dir + "/checkpoint.html"
        #expect(runCLI(["train", "--dataset", "moons", "--epochs", "2", "--samples", "200", "--progress", "none", "--checkpoint", checkpoint]) == 0)
        #expect(runCLI(["explain", "--checkpoint", checkpoint, "--example", "3", "--html", file]) == 0)
        let command = try ExplainCommand.parse(["--checkpoint", checkpoint, "--example", "3", "--json"])
        let json = try JSON.parse(command.explainCheckpoint(checkpoint))
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 300_000)
        let steps = try #require(try pageData(html)["steps"]?.arrayValue)
        let page = try Browser.open(file, fragment: "step=\(steps.count - 1)")
        PageDOM.expectClean(page, "checkpoint")
        expectClose(PageDOM.numbers(page.dom, "loss"), flat(json["loss"]), "C")
        for name in ["0.weight", "0.bias", "4.weight"] {
            expectClose(PageDOM.numbers(page.dom, "grad:\(name)"), flat(json["gradients"]?[name]), "table: \(name)")
        }
        expectClose(PageDOM.numbers(page.dom, "eq:0.weight"), flat(json["gradients"]?["0.weight"]), "last step: dC/dW1")
    }

    @Test("train --report: a small digits run's epochs, norms, confusion matrix and misclassified images")
    func trainingReport() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        var o = TrainingOptions()
        o.dataset = .digits
        o.hidden = [16]
        o.epochs = 3
        o.progress = .none
        let result = try TrainingSession.run(o, output: { _ in })
        let file = dir + "/digits.html"
        try FileIO.writeText(result.htmlPage(options: o, command: "backprop train --dataset digits --hidden 16 --epochs 3").render(), to: file)
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 300_000)
        let epochs = result.history.epochs
        #expect(epochs.count == 3 && epochs.allSatisfy { $0.parameterNorms.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"] })

        for k in [0, 2] {
            let page = try Browser.open(file, fragment: "step=\(k)")
            PageDOM.expectClean(page, "epoch \(k + 1)")
            let r = epochs[k]
            expectClose(PageDOM.numbers(page.dom, "epoch:trainLoss"), [r.trainLoss], "train loss, epoch \(k + 1)")
            expectClose(PageDOM.numbers(page.dom, "epoch:validationLoss"), [r.validationLoss!], "validation loss")
            expectClose(PageDOM.numbers(page.dom, "epoch:validationAccuracy"), [r.validationAccuracy!], "validation accuracy")
            for n in r.parameterNorms {
                expectClose(PageDOM.numbers(page.dom, "norm:\(n.name)"), [n.weight], "‖\(n.name)‖")
                expectClose(PageDOM.numbers(page.dom, "gradnorm:\(n.name)"), [n.gradient], "‖grad \(n.name)‖")
            }
            if k == 2 {
                let confusion = try #require(result.validationEvaluation?.confusion)
                for i in 0..<10 {
                    for j in 0..<10 { expectClose(PageDOM.numbers(page.dom, "confusion:\(i):\(j)"), [Double(confusion[i][j])], "confusion[\(i)][\(j)]") }
                }
                let wrong = confusion.indices.reduce(0) { s, i in s + confusion[i].reduce(0, +) - confusion[i][i] }
                expectClose(PageDOM.numbers(page.dom, "misclassified"), [Double(wrong)], "misclassified count")
                #expect(page.dom.matches(of: /<canvas id="img-\d/).count == min(wrong, 40))
                expectClose(PageDOM.numbers(page.dom, "final:validation:accuracy"), [result.validationEvaluation!.accuracy!], "final accuracy")
            }
        }
    }

    @Test("train --report on moons: decision regions with the data on top")
    func decisionRegions() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let file = dir + "/moons.html"
        #expect(runCLI(["train", "--dataset", "moons", "--epochs", "5", "--samples", "300", "--progress", "none", "--report", file]) == 0)
        let html = try FileIO.readText(path: file)
        PageDOM.expectSelfContained(html, maxBytes: 300_000)
        let regions = try #require(try pageData(html)["regions"])
        #expect(regions["classes"]?.arrayValue?.count == 90 * 90)
        let page = try Browser.open(file, fragment: "step=4&log=1")
        PageDOM.expectClean(page, "moons")
        #expect(page.dom.contains("<svg class=\"regions\""))
        #expect(page.dom.matches(of: /<circle cx="\d/).count == regions["train"]?.arrayValue?.count)
        #expect(page.dom.contains("(log scale)"))
    }

    @Test("a JavaScript error shows on the page and in the check")
    func errorsAreRecorded() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let file = dir + "/broken.html"
        try FileIO.writeText(HTMLPage(title: "broken", body: "", data: .null, script: "undefinedFunction();").render(), to: file)
        let page = try Browser.open(file, fragment: "")
        #expect(page.dom.contains("data-js-errors=\"1\""))
        #expect(page.dom.contains("JavaScript error: Uncaught ReferenceError: undefinedFunction is not defined"))
    }

    @Test("the Content Security Policy blocks a request, and the check sees it")
    func requestsAreBlocked() throws {
        let dir = DataTestSupport.temporaryDirectory("html")
        let file = dir + "/fetch.html"
        let page = HTMLPage(title: "fetch", body: "<p id=\"r\">waiting</p>", data: .null, script: """
            fetch('http' + '://127.0.0.1:9/').then(function () { document.getElementById('r').textContent = 'loaded'; },
                                                    function () { document.getElementById('r').textContent = 'blocked'; });
            """)
        try FileIO.writeText(page.render(), to: file)
        let opened = try Browser.open(file, fragment: "")
        #expect(opened.dom.contains("<p id=\"r\">blocked</p>"))
        #expect(opened.log.contains("Refused to connect"))
    }

    @Test("the embedded JSON cannot close its script element")
    func scriptSafeJSON() throws {
        let text = HTMLPage.scriptSafeJSON(.object([("program", .string("a </script><script>alert(1)</script>"))]))
        #expect(!text.contains("<"))
        #expect(try JSON.parse(text)["program"]?.stringValue == "a </script><script>alert(1)</script>")
    }
}

@Suite("Graph layout: edges go around nodes")
struct EdgeRoutingTests {
    @Test("no edge of the seed graph or of a deeper one runs under a node", arguments: [
        ("a = x*y + z; b = a*(x + x); w = a*b + b", "x=1,y=2,z=3"),
        ("h = tanh(W@x + b); L = sum(h*h) + sum(x*x) + sum(b)", "W=[[1,2],[3,4]],x=[1,-1],b=[0.5,0.5]"),
    ])
    func routesAvoidBoxes(program: String, at: String) throws {
        let graph = try ExpressionGraph(program: ExpressionProgram(parsing: program), at: parseBindings(at))
        var layout = LayeredLayout()
        var edges: [(Int, Int)] = []
        for node in graph.nodes {
            layout.vertices[2 * node.id] = .init(width: 60, height: 40)
            guard !node.inputs.isEmpty else { continue }
            layout.vertices[2 * node.id + 1] = .init(width: 30, height: 30)
            edges.append((2 * node.id + 1, 2 * node.id))
            for input in node.inputs where !edges.contains(where: { $0 == (2 * input, 2 * node.id + 1) }) { edges.append((2 * input, 2 * node.id + 1)) }
        }
        layout.edges = edges
        let solved = layout.solveRouted(horizontalGap: 36, verticalGap: 18, margin: 20)
        #expect(solved.routes.count == edges.count)
        var crossings = 0
        for ((a, b), route) in zip(edges, solved.routes) {
            let start = solved.boxes[a]!, end = solved.boxes[b]!
            #expect(route.points.first!.x == start.x + start.width && route.points.last!.x == end.x)
            // Points 0-1, 2-3, ...: the straight pieces cross whole columns: no box may contain them.
            for k in stride(from: 0, to: route.points.count - 1, by: 2) {
                let (p, q) = (route.points[k], route.points[k + 1])
                for box in solved.boxes.values where box.x < q.x && box.x + box.width > p.x && box.y <= p.y && p.y <= box.y + box.height {
                    crossings += 1
                }
            }
            // Points 1-2, 3-4, ...: the curves run between columns, where there are no boxes.
            for k in stride(from: 1, to: route.points.count - 1, by: 2) {
                let (p, q) = (route.points[k], route.points[k + 1])
                #expect(!solved.boxes.values.contains { $0.x < q.x - 0.01 && $0.x + $0.width > p.x + 0.01 })
            }
        }
        #expect(crossings == 0)
        #expect(solved.routes.contains { $0.points.count > 2 }, "some edge spans several layers")
    }
}

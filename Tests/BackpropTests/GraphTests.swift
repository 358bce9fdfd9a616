import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

@Suite("Expression graphs")
struct GraphTests {
    static let seed = "a = x*y + z; b = a*(x + x); w = a*b + b"

    func graph(_ program: String, _ at: String) throws -> ExpressionGraph {
        try ExpressionGraph(program: ExpressionProgram(parsing: program), at: Bindings.parse(at))
    }

    @Test func seedGraphAtOneTwoThree() throws {
        // the lecture: a = 5, b = 10, w = 60, dw/dx = 104, dw/dy = 22, dw/dz = 22.
        let g = try graph(Self.seed, "x=1,y=2,z=3")
        #expect(g.value(of: "a")?.item == 5)
        #expect(g.value(of: "b")?.item == 10)
        #expect(g.value(of: "w")?.item == 60)
        #expect(g.gradient(of: "x")?.item == 104)
        #expect(g.gradient(of: "y")?.item == 22)
        #expect(g.gradient(of: "z")?.item == 22)
        #expect(g.gradient(of: "w")?.item == 1)
        #expect(g.outputName == "w" && !g.outputWasSummed)
        // Nine nodes: three inputs and six ops (x*y, a, x + x, b, a*b, w).
        #expect(g.nodes.count == 9)
        #expect(g.nodes.map(\.operation.name) == ["input", "input", "input", "mul", "add", "add", "mul", "mul", "add"])
    }

    @Test func localPartialsAreTheOpsOwnDerivatives() throws {
        let g = try graph(Self.seed, "x=1,y=2,z=3")
        let b = g.nodes.first { $0.names == ["b"] }!   // b = a*(x + x): ∂b/∂a = x + x = 2, ∂b/∂(x + x) = a = 5
        #expect(b.localPartials.map(\.kind) == [.scalar, .scalar])
        #expect(b.localPartials.map { $0.value.item } == [2, 5])
        // The chain rule on every input: grad(x) = Σ over uses of grad(use) · ∂use/∂x.
        for node in g.nodes where node.gradient != nil {
            let uses = g.nodes.flatMap { user in
                user.localPartials.filter { $0.input == node.id }.map { user.gradient!.item * $0.value.item }
            }
            if node.id != g.output { #expect(abs(uses.reduce(0, +) - node.gradient!.item) < 1e-12) }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func seedGraphAtRandomPointsMatchesTheClosedForms(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let p = Tensor<Double>.randomUniform([3], low: -3, high: 3, generator: &rng).scalars
        let (x, y, z) = (p[0], p[1], p[2])
        let g = try graph(Self.seed, "x=\(x),y=\(y),z=\(z)")
        let a = x * y + z, b = a * 2 * x
        let dx = 6 * x * x * y * y + 8 * x * y * z + 4 * x * y + 2 * z * z + 2 * z
        let dy = 4 * x * x * x * y + 4 * x * x * z + 2 * x * x
        let dz = 4 * x * x * y + 4 * x * z + 2 * x
        func close(_ u: Double?, _ v: Double) -> Bool { u.map { abs($0 - v) <= 1e-10 * max(1, abs(v)) } ?? false }
        #expect(close(g.value(of: "w")?.item, a * b + b))
        #expect(close(g.gradient(of: "x")?.item, dx))
        #expect(close(g.gradient(of: "y")?.item, dy))
        #expect(close(g.gradient(of: "z")?.item, dz))
    }

    @Test func tensorProgramGradientsMatchFiniteDifferences() throws {
        let program = try ExpressionProgram(parsing: "z = W@x + b; h = tanh(z); L = sum(h*h) + mean(exp(-x))")
        let at = try Bindings.parse("W=[[0.5,-1.2,0.3],[0.7,0.1,-0.4]],x=[0.2,-0.9,1.1],b=[0.05,-0.3]")
        let g = try ExpressionGraph(program: program, at: at)
        let eps = 1e-6
        for (name, value) in at {
            let analytic = g.gradient(of: name)!.scalars
            for i in 0..<value.count {
                func f(_ delta: Double) throws -> Double {
                    var values = at
                    var s = value.scalars
                    s[i] += delta
                    values[values.firstIndex { $0.name == name }!].value = Tensor(shape: value.shape, scalars: s)
                    return try ExpressionGraph.evaluate(program, with: Dictionary(uniqueKeysWithValues: values.map { ($0.name, $0.value) })).item
                }
                let numeric = (try f(eps) - f(-eps)) / (2 * eps)
                #expect(abs(numeric - analytic[i]) < 1e-7, "d L / d \(name)[\(i)]")
            }
        }
        // Local partials: elementwise for tanh (1 - tanh²), a Jacobian equal to W for W@x.
        let h = g.nodes.first { $0.names == ["h"] }!
        #expect(h.localPartials[0].kind == .elementwise)
        #expect(h.localPartials[0].value.isClose(to: Tensor<Double>(1.0) - h.value * h.value, rtol: 1e-12))
        let wx = g.nodes.first { $0.text == "W@x" }!
        #expect(wx.localPartials[1].kind == .jacobian)
        #expect(wx.localPartials[1].value == at[0].value)
    }

    @Test func aTensorOutputIsSummedAndTheOutputSaysSo() throws {
        let g = try graph("y = W@x", "W=[[1,2],[3,4]],x=[1,1]")
        #expect(g.outputWasSummed)
        #expect(g.gradient(of: "x")! == Tensor<Double>([4, 6]))   // column sums of W
        #expect(g.table().hasPrefix("output: y, shape [2], is not a scalar: it is summed"))
    }

    @Test func jsonHasEveryNamedVariableAndStatement() throws {
        let g = try graph(Self.seed + "; x*w", "x=1,y=2,z=3")
        #expect(g.json() == """
            {"values": {"x": 1, "y": 2, "z": 3, "a": 5, "b": 10, "w": 60, "x*w": 60}, \
            "gradients": {"x": 164, "y": 22, "z": 22, "a": 22, "b": 6, "w": 1, "x*w": 1}}

            """)
        let t = try graph("v = W@x; s = sum(v)", "W=[[1,2],[3,4]],x=[0.5,1]")
        #expect(t.json() == """
            {"values": {"W": [[1, 2], [3, 4]], "x": [0.5, 1], "v": [2.5, 5.5], "s": 8}, \
            "gradients": {"W": [[0.5, 1], [0.5, 1]], "x": [4, 6], "v": [1, 1], "s": 1}}

            """)
    }

    @Test func commandTextForTheSeedMatchesTheGoldenFile() throws {
        let text = try GraphCommand.output(program: Self.seed, at: ["x=1,y=2,z=3"])
        try VizTestSupport.checkGolden(text, "graph_seed.txt")
        // Several --at options add up, and --json prints the JSON.
        #expect(try GraphCommand.output(program: Self.seed, at: ["x=1", "y=2,z=3"], json: true)
                == graph(Self.seed, "x=1,y=2,z=3").json())
    }

    @Test func tensorTableMatchesTheGoldenFile() throws {
        let text = try GraphCommand.output(program: "z = W@x + b; h = tanh(z); L = sum(h*h)",
                                           at: ["W=[[1,2],[3,4]],x=[1,-1],b=0.5"])
        try VizTestSupport.checkGolden(text, "graph_tensor.txt")
    }

    @Test func dotMatchesTheGoldenFile() throws {
        try VizTestSupport.checkGolden(try graph(Self.seed, "x=1,y=2,z=3").dot(), "graph_seed.dot")
    }

    @Test func svgIsXMLWithOneBoxPerNodeAndOneCirclePerOp() throws {
        for (program, at) in [(Self.seed, "x=1,y=2,z=3"), ("L = sum(relu(W@x - 1) ^ 2) / 2", "W=[[1,2],[3,4]],x=[1,-1]")] {
            let g = try graph(program, at)
            guard let elements = VizTestSupport.parseXML(g.svg()) else {
                Issue.record("SVG of \(program) is not well-formed XML")
                continue
            }
            #expect(VizTestSupport.elements(elements, "g", class: "value-node") == g.nodes.count)
            #expect(VizTestSupport.elements(elements, "g", class: "op-node") == g.nodes.filter { !$0.inputs.isEmpty }.count)
            #expect(VizTestSupport.elements(elements, "path", class: "edge") > 0)
        }
    }

    @Test func svgEscapesText() throws {
        var doc = SVGDocument(width: 10, height: 10)
        doc.append(.text("a < b & \"c\" > 'd'", x: 1, y: 2, ["class": "x<y"]))
        let xml = doc.render()
        #expect(xml.contains("<text x=\"1\" y=\"2\" class=\"x&lt;y\">a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;</text>"))
        #expect(VizTestSupport.parseXML(xml) != nil)
    }

    @Test func layeringPutsEveryEdgeForward() {
        var layout = LayeredLayout()
        for v in 0..<6 { layout.vertices[v] = .init(width: 10, height: 10) }
        layout.edges = [(0, 1), (1, 2), (2, 3), (0, 3), (4, 3), (3, 5)]
        let layer = layout.layers()
        for (a, b) in layout.edges { #expect(layer[a]! < layer[b]!) }
        #expect(layer[3] == 3 && layer[5] == 4)
        #expect(layer[4] == 2)   // a source sits just before its consumer
    }

    @Test func writingToAnUnwritablePathIsOneLineError() {
        var errors: [String] = []
        let code = BackpropCommand.runMain(arguments: ["graph", "x*y", "--at", "x=1,y=2", "--svg", "/nonexistent-dir/graph.svg"],
                                           output: { _ in }, errorOutput: { errors.append($0) })
        #expect(code == 1)
        #expect(errors == ["error: /nonexistent-dir/graph.svg: cannot write: No such file or directory"])
    }
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// Issue 14: `graph --svg` drew edges straight under other nodes (in the seed
/// graph, a → a·b and b → w were hidden, and `x + x` seemed to feed `a`).
@Suite("graph --svg: edges go around boxes")
struct GraphRoutingTests {
    enum Shape {
        case rect(x: Double, y: Double, w: Double, h: Double)
        case circle(cx: Double, cy: Double, r: Double)

        /// Strictly inside, by more than `margin`.
        func contains(_ p: (Double, Double), margin: Double = 0.5) -> Bool {
            switch self {
            case let .rect(x, y, w, h):
                return p.0 > x + margin && p.0 < x + w - margin && p.1 > y + margin && p.1 < y + h - margin
            case let .circle(cx, cy, r):
                return (p.0 - cx) * (p.0 - cx) + (p.1 - cy) * (p.1 - cy) < (r - margin) * (r - margin)
            }
        }

        /// On the outline or inside (where an edge starts or ends).
        func touches(_ p: (Double, Double)) -> Bool {
            switch self {
            case let .rect(x, y, w, h): return p.0 >= x - 0.5 && p.0 <= x + w + 0.5 && p.1 >= y - 0.5 && p.1 <= y + h + 0.5
            case let .circle(cx, cy, r): return (p.0 - cx) * (p.0 - cx) + (p.1 - cy) * (p.1 - cy) <= (r + 0.5) * (r + 0.5)
            }
        }
    }

    /// Points along an SVG path of M, L and C commands, 40 per segment.
    static func samples(_ d: String) -> [(Double, Double)] {
        var tokens: [String] = []
        for part in d.split(separator: " ") {
            if let f = part.first, f.isLetter { tokens.append(String(f)); if part.count > 1 { tokens.append(String(part.dropFirst())) } }
            else { tokens.append(String(part)) }
        }
        var out: [(Double, Double)] = []
        var current = (0.0, 0.0)
        var i = 0
        func number() -> Double { defer { i += 1 }; return Double(tokens[i])! }
        while i < tokens.count {
            let c = tokens[i]; i += 1
            switch c {
            case "M": current = (number(), number()); out.append(current)
            case "L":
                let to = (number(), number())
                for k in 1...40 { let t = Double(k) / 40; out.append((current.0 + (to.0 - current.0) * t, current.1 + (to.1 - current.1) * t)) }
                current = to
            case "C":
                let c1 = (number(), number()), c2 = (number(), number()), to = (number(), number())
                for k in 1...40 {
                    let t = Double(k) / 40, u = 1 - t
                    let a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, e = t * t * t
                    out.append((a * current.0 + b * c1.0 + c * c2.0 + e * to.0, a * current.1 + b * c1.1 + c * c2.1 + e * to.1))
                }
                current = to
            default: Issue.record("unexpected path command \(c)")
            }
        }
        return out
    }

    /// For each edge, the boxes (other than its two ends) that it passes through.
    static func crossings(_ svg: String) throws -> [String] {
        let elements = try #require(VizTestSupport.parseXML(svg))
        var shapes: [Shape] = []
        for e in elements {
            let a = e.attributes
            if e.name == "rect", let x = a["x"].flatMap(Double.init), let y = a["y"].flatMap(Double.init),
               let w = a["width"].flatMap(Double.init), let h = a["height"].flatMap(Double.init), w < 2000 {
                shapes.append(.rect(x: x, y: y, w: w, h: h))
            }
            if e.name == "circle", let cx = a["cx"].flatMap(Double.init), let cy = a["cy"].flatMap(Double.init),
               let r = a["r"].flatMap(Double.init) {
                shapes.append(.circle(cx: cx, cy: cy, r: r))
            }
        }
        #expect(shapes.count > 2)
        var problems: [String] = []
        for e in elements where e.name == "path" && e.attributes["class"] == "edge" {
            let d = e.attributes["d"]!
            let points = samples(d)
            let start = points.first!, end = points.last!
            for (k, shape) in shapes.enumerated() where !shape.touches(start) && !shape.touches(end) {
                if points.contains(where: { shape.contains($0) }) { problems.append("edge \(d) crosses shape \(k): \(shape)") }
            }
        }
        return problems
    }

    @Test("no edge crosses a box or circle that is not its end",
          arguments: [("a = x*y + z; b = a*(x + x); w = a*b + b", "x=1,y=2,z=3"),
                      ("L = sum(relu(W@x - 1) ^ 2) / 2", "W=[[1,2],[3,4]],x=[1,-1]"),
                      ("a = x*x; b = a*x + a; c = b*a + x*b + 3; d = c - a - b - x", "x=0.5"),
                      ("z = W@x + b; h = tanh(z); L = sum(h*h) + mean(exp(-x))", "W=[[1,2],[3,4]],x=[1,-1],b=0.5")])
    func noCrossings(_ program: String, _ at: String) throws {
        let graph = try ExpressionGraph(program: ExpressionProgram(parsing: program), at: Bindings.parse(at))
        let problems = try Self.crossings(graph.svg())
        #expect(problems.isEmpty, "\(problems.count) crossings: \(problems.prefix(3))")
    }

    @Test("a graph too large to draw is refused before drawing; the layering of a long chain needs no recursion")
    func tooLarge() {
        var errors: [String] = []
        let program = Array(repeating: "x", count: 2_001).joined(separator: "+")
        let code = BackpropCommand.runMain(arguments: ["graph", program, "--at", "x=1", "--svg", "/dev/null"],
                                           output: { _ in }, errorOutput: { errors.append($0) })
        #expect(code == 1 && errors == ["error: graph --svg: 2001 nodes are too many to draw (at most 2000); use --dot for Graphviz"])
        var layout = LayeredLayout()
        for v in 0..<100_000 { layout.vertices[v] = .init(width: 1, height: 1) }
        layout.edges = (1..<100_000).map { ($0 - 1, $0) }
        #expect(layout.layers()[99_999] == 99_999)
    }

    @Test("the committed docs/seed-graph.svg is the current drawing of the seed program")
    func committedDrawing() throws {
        let graph = try ExpressionGraph(program: ExpressionProgram(parsing: "a = x*y + z; b = a*(x + x); w = a*b + b"),
                                        at: Bindings.parse("x=1,y=2,z=3"))
        let committed = try String(contentsOfFile: DataTestSupport.repositoryRoot + "/docs/seed-graph.svg", encoding: .utf8)
        #expect(committed == graph.svg(), "regenerate: backprop graph \"a = x*y + z; b = a*(x + x); w = a*b + b\" --at x=1,y=2,z=3 --svg docs/seed-graph.svg")
        #expect(try Self.crossings(committed).isEmpty)
    }
}

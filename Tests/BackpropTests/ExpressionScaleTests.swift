import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropTeaching
@testable import BackpropCLI

// Issue 14: parsing and evaluation are linear, so a program of 100,000 terms
// is an ordinary input. (How fast is measured outside the tests: see the
// branch's report; tests never time.)

@Suite("Expression language at scale")
struct ExpressionScaleTests {
    @Test("x+x+...+x with 100,000 terms, given as four arguments as on the command line: value and gradient 100,000")
    func hundredThousandTerms() throws {
        // One argument is limited to 128 KiB, so the CLI joins a program given in parts with spaces.
        let part = Array(repeating: "x", count: 25_000).joined(separator: "+")
        let command = try #require(try BackpropCommand.parseAsRoot(
            ["graph", part, "+" + part, "+" + part, "+" + part, "--at", "x=1", "--json"]) as? GraphCommand)
        let graph = try GraphCommand.graph(program: command.program, at: command.at)

        // The input x and 99,999 additions, each added to the chain after its operands.
        #expect(graph.nodes.count == 100_000)
        #expect(graph.nodes.filter { $0.operation == .binary(.add) }.count == 99_999)
        #expect(graph.nodes[graph.output].value.item == 100_000)
        #expect(graph.gradient(of: "x")?.item == 100_000)
        // Every addition has ∂/∂(left) = ∂/∂(right) = 1 and gradient 1: the chain rule sums 100,000 ones into x.
        for node in graph.nodes.dropFirst() {
            guard node.localPartials.map(\.kind) == [.scalar, .scalar],
                  node.localPartials.allSatisfy({ $0.value.item == 1 }), node.gradient?.item == 1 else {
                Issue.record("node \(node.id): partials \(node.localPartials.map(\.value)), gradient \(String(describing: node.gradient))")
                return
            }
        }
        // The output's name is its text, cut to 80 characters.
        let name = String(repeating: "x+", count: 40).dropLast() + "…"
        #expect(graph.outputName == name)
        #expect(graph.json() == #"{"values": {"x": 1, "\#(name)": 100000}, "gradients": {"x": 100000, "\#(name)": 1}}"# + "\n")
    }

    @Test("a label is cut to its limit, whitespace runs shown as one space, other characters kept whole")
    func labels() throws {
        let program = try ExpressionProgram(parsing: "w = x   *\t y +  é_1*ü")
        #expect(program.text(of: program.statements[0].expression) == "x * y + é_1*ü")
        #expect(program.text(of: program.statements[0].expression, limit: 9) == "x * y + …")
        #expect(program.text(of: program.statements[0].expression, limit: 10) == "x * y + é…")
        #expect(program.text(of: program.statements[0].expression, limit: 13) == "x * y + é_1*ü")
        let ascii = try ExpressionProgram(parsing: "w = a  +\t b*c")
        let e = ascii.statements[0].expression
        #expect(ascii.text(of: e) == "a + b*c")
        #expect(ascii.text(of: e, limit: 4) == "a +…")
        #expect(ascii.text(of: e, limit: 6) == "a + b…")
        #expect(ascii.text(of: e, limit: 7) == "a + b*c")
        #expect(ascii.text(of: e, limit: 0) == "…")
    }
}

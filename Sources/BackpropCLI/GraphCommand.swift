import ArgumentParser
import Backprop

/// `backprop graph PROGRAM --at NAME=VALUE,...`: evaluates a program, backpropagates
/// from its last statement, and prints every node's value, local partials and gradient.
public struct GraphCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Evaluate an expression program, backpropagate, and show every node's value, local partials and gradient.",
        discussion: """
            The language: numbers, variables, + - * / (elementwise, broadcasting), ^ (power), @ (matrix product), \
            unary minus, parentheses, [1, 2] tensor literals, and the functions exp log sqrt abs sin cos tanh sigmoid \
            relu softplus gelu sum mean. Statements are separated by ';' or newlines; 'name = expression' names a node.

            Example: backprop graph "a = x*y + z; b = a*(x + x); w = a*b + b" --at x=1,y=2,z=3
            """
    )

    @Argument(help: "The program, e.g. \"a = x*y + z; w = a*a\".")
    var program: String

    @Option(name: .long, parsing: .unconditionalSingleValue,
            help: "Variable values: NAME=VALUE,... where VALUE is a number or a bracketed list, e.g. \"W=[[1,2],[3,4]]\",x=[1,1].")
    var at: [String] = []

    @Flag(name: .long, help: "Print {\"values\": ..., \"gradients\": ...} as JSON instead of the table.")
    var json = false

    @Option(name: .long, help: "Also write the graph as Graphviz DOT to this file.")
    var dot: String?

    @Option(name: .long, help: "Also write the graph as an SVG drawing to this file.")
    var svg: String?

    public init() {}

    /// Prints the node table (or JSON with `--json`), and writes the DOT and SVG drawings when asked.
    public func run() throws {
        let graph = try GraphCommand.graph(program: program, at: at)
        if let dot { try FileIO.writeText(graph.dot(), to: dot) }
        if let svg { try FileIO.writeText(graph.svg(), to: svg) }
        print(json ? graph.json() : graph.table(), terminator: "")
    }

    /// Parses and evaluates; every `--at` option adds its bindings.
    static func graph(program: String, at: [String]) throws -> ExpressionGraph {
        try namingExpressionInputs {
            let parsed = try ExpressionProgram(parsing: program)
            let bindings = try at.flatMap { try parseBindings($0) }
            return try ExpressionGraph(program: parsed, at: bindings)
        }
    }

    /// The text the command prints, for tests.
    public static func output(program: String, at: [String], json: Bool = false) throws -> String {
        let g = try graph(program: program, at: at)
        return json ? g.json() : g.table()
    }
}

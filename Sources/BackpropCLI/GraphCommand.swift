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
            """,
        // `-h` alone asks for help; with --at it is a program (the negated variable h), so only --help is taken here.
        helpNames: [.long]
    )

    // `.allUnrecognized` lets the program start with a minus sign (`-x`, `-tanh(x)`) without `--`.
    @Argument(parsing: .allUnrecognized, help: "The program, e.g. \"a = x*y + z; w = a*a\".")
    var programParts: [String] = []

    /// The program: the arguments joined by spaces.
    var program: String { programParts.joined(separator: " ") }

    @Option(name: .long, parsing: .unconditionalSingleValue,
            help: "Variable values: NAME=VALUE,... where VALUE is a number or a bracketed list, e.g. \"W=[[1,2],[3,4]]\",x=[1,1].")
    var at: [String] = []

    @Flag(name: .long, help: "Print {\"values\": ..., \"gradients\": ...} as JSON instead of the table.")
    var json = false

    @Option(name: .long, help: "Also write the graph as Graphviz DOT to this file.")
    var dot: String?

    @Option(name: .long, help: "Also write the graph as an SVG drawing to this file.")
    var svg: String?

    @Option(name: .long, help: "Also write a self-contained HTML page that steps through the forward and backward pass.")
    var html: String?

    public init() {}

    /// The most nodes `--svg` draws.
    static let maximumDrawnNodes = 2_000

    /// An argument of its own that starts with `--` and a letter is a
    /// mistyped option, not part of a program (which `.allUnrecognized` would make it).
    public mutating func validate() throws {
        // `-h` alone (no values, nothing else) asks for help, as for every other command.
        if programParts == ["-h"] && at.isEmpty { throw CleanExit.helpRequest(self) }
        // After `--` every argument is taken as the program, options too (`graph -- "-h" --at h=1`): take them back.
        var parts: [String] = [], i = 0, sawTerminator = false
        while i < programParts.count {
            let part = programParts[i]
            i += 1
            if part == "--" && !sawTerminator { sawTerminator = true; continue }   // kept by .allUnrecognized
            if part == "--json" { json = true; continue }
            guard ["--at", "--dot", "--svg", "--html"].contains(part) else { parts.append(part); continue }
            guard i < programParts.count else { throw ValidationError("Missing value for '\(part)'") }
            let value = programParts[i]
            i += 1
            switch part {
            case "--at": at.append(value)
            case "--dot": dot = value
            case "--svg": svg = value
            default: html = value
            }
        }
        programParts = parts
        if let option = programParts.first(where: { $0.hasPrefix("--") && $0.dropFirst(2).first?.isLetter == true }) {
            throw ValidationError("Unknown option \(DataError.quote(option))")
        }
    }

    /// Prints the node table (or JSON with `--json`), and writes the DOT and SVG drawings when asked.
    public func run() throws {
        guard !programParts.isEmpty else {
            throw CLIError("graph: no program given; e.g. backprop graph \"w = x*y + z\" --at x=1,y=2,z=3")
        }

        let graph = try GraphCommand.graph(program: program, at: at)
        if let dot { try FileIO.writeText(graph.dot(), to: dot) }
        if let svg {
            // The layered layout is quadratic in the worst case, and a drawing of thousands of boxes is unreadable.
            guard graph.nodes.count <= GraphCommand.maximumDrawnNodes else {
                throw CLIError("graph --svg: \(graph.nodes.count) nodes are too many to draw (at most \(GraphCommand.maximumDrawnNodes)); use --dot for Graphviz")
            }
            try FileIO.writeText(graph.svg(), to: svg)
        }
        if let html {
            guard graph.nodes.count <= GraphCommand.maximumDrawnNodes else {
                throw CLIError("graph --html: \(graph.nodes.count) nodes are too many to draw (at most \(GraphCommand.maximumDrawnNodes))")
            }
            try FileIO.writeText(graph.htmlPage(program: program, bindings: at.joined(separator: ",")).render(), to: html)
        }
        CommandOutput.write(json ? graph.json() : graph.table())
    }

    /// Parses and evaluates; every `--at` option adds its bindings.
    static func graph(program: String, at: [String]) throws -> ExpressionGraph {
        try namingExpressionInputs {
            let parsed = try ExpressionProgram(parsing: program)
            let bindings = try at.flatMap { try Bindings.parse($0) }
            return try ExpressionGraph(program: parsed, at: bindings)
        }
    }

    /// The text the command prints, for tests.
    public static func output(program: String, at: [String], json: Bool = false) throws -> String {
        let g = try graph(program: program, at: at)
        return json ? g.json() : g.table()
    }
}

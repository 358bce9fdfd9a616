import ArgumentParser
import Backprop

/// `backprop jacobian PROGRAM --wrt NAME --at ...`: the Jacobian of the last
/// statement, by reverse mode, checked against forward mode.
public struct JacobianCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "jacobian",
        abstract: "Print the Jacobian of a program's last statement with respect to one variable (reverse mode, checked against forward mode).",
        discussion: "Example: backprop jacobian \"W2 @ (W1 @ x)\" --wrt x --at \"W1=[[1,2],[3,4]]\",\"W2=[[0,1],[1,1]]\",x=[1,-1]"
    )

    @Argument(help: "The program; its last statement is differentiated.")
    var program: String

    @Option(name: .long, help: "The variable to differentiate with respect to.")
    var wrt: String

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Variable values: NAME=VALUE,... (see `backprop graph --help`).")
    var at: [String] = []

    public init() {}

    /// Prints the text of ``output(program:wrt:at:)``.
    public func run() throws {
        CommandOutput.write(try JacobianCommand.output(program: program, wrt: wrt, at: at))
    }

    /// The text the command prints, for tests.
    public static func output(program: String, wrt: String, at: [String]) throws -> String {
        try namingExpressionInputs {
            let parsed = try ExpressionProgram(parsing: program)
            let bindings = try at.flatMap { try parseBindings($0) }
            return try ExpressionJacobian(program: parsed, wrt: wrt, at: bindings).report()
        }
    }
}

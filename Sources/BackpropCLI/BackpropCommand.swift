import ArgumentParser
import Backprop
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `backprop` command-line tool.
public struct BackpropCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Neural networks and backpropagation, every number visible.",
        version: Backprop.version,
        subcommands: [DemoCommand.self, ExplainCommand.self, GraphCommand.self, JacobianCommand.self,
                      PlotCommand.self, SoftmaxCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self,
                      BenchCommand.self]
    )
    public init() {}

    /// Parses `arguments` (without the program name), runs the command and
    /// returns the exit code. Help and `--version` go to `output` with code 0.
    /// Every error (a bad option or value, a missing file, malformed input)
    /// is ONE line `error: ...` on `errorOutput`, never a usage screen or a
    /// trap; a parse or validation error ends with a pointer to the command's
    /// help. The commands only throw; this is the one place that prints errors.
    ///
    /// ```swift
    /// exit(BackpropCommand.runMain(arguments: Array(CommandLine.arguments.dropFirst())))
    /// ```
    public static func runMain(
        arguments: [String],
        output: (String) -> Void = { print($0) },
        errorOutput: (String) -> Void = { writeUnbuffered($0 + "\n", to: STDERR_FILENO) }
    ) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return ExitCode.success.rawValue
        } catch {
            let code = exitCode(for: error)
            if code.isSuccess {
                output(fullMessage(for: error))
                return code.rawValue
            }
            // ArgumentParser's messages may span lines (a list of choices); the tool's are one line.
            var line = message(for: error).split(whereSeparator: \.isNewline)
                .map { String($0).trimmed() }.filter { !$0.isEmpty }.joined(separator: " ")
            if code == .validationFailure {
                let subcommand = arguments.first.flatMap { name in
                    configuration.subcommands.first { $0._commandName == name }
                }
                let help = subcommand.map { "backprop help \($0._commandName)" } ?? "backprop help"
                line += " (see '\(help)')"
            }
            // ArgumentParser echoes arguments in full ("3 unexpected arguments: '...'"), and a path or value
            // may hold control bytes (an ESC would recolour the terminal): escape them and keep the line readable.
            line = DataError.excerpt(line, limit: 400)
            // An empty message is a bare exit code (130 after Ctrl-C in training): nothing to say.
            if !line.isEmpty { errorOutput("error: " + line) }
            return code.rawValue
        }
    }
}

/// A bad command-line value: thrown by a command, printed by
/// ``BackpropCommand/runMain(arguments:output:errorOutput:)`` as one line.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes text straight to a file descriptor (progress must appear at once, and `\r` redraws in place).
@usableFromInline
func writeUnbuffered(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
        bytes = bytes.dropFirst(n)
    }
}

import ArgumentParser
import Backprop

// The command line's side of the library's typed options: how a flag's text
// becomes a library value, and how a library error about a value becomes an
// error naming the flag. The library itself knows no flags.

extension OptimizerKind: ExpressibleByArgument {
    /// The lower-case name; any case is accepted (`SGD`, `AdamW`).
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension LossKind: ExpressibleByArgument {}
extension CSVTask: ExpressibleByArgument {}
extension Inference.Split: ExpressibleByArgument {}

/// `--progress`: the library's styles, plus `auto`, which the command resolves.
enum ProgressChoice: String, CaseIterable, ExpressibleByArgument {
    /// A bar on a terminal, lines otherwise.
    case auto
    /// See ``TrainingOptions/ProgressStyle``.
    case bar, lines, none

    /// The style to train with; `auto` looks at whether standard output is a terminal.
    func style(isTerminal: Bool) -> TrainingOptions.ProgressStyle {
        switch self {
        case .auto: return isTerminal ? .bar : .lines
        case .bar: return .bar
        case .lines: return .lines
        case .none: return .none
        }
    }
}

/// Parsers for flag values, used as `@Option(transform:)`: a bad value is an
/// ArgumentParser usage error, `The value 'x' is invalid for '--layers <layers>': ...`.
enum ArgumentParsers {
    /// Comma-separated positive widths: `64,128,10`.
    static func widths(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { item in
            guard let w = Int(item.trimmingPrefix(" ")), w > 0 else {
                throw CLIError("'\(item)' is not a positive integer width")
            }
            return w
        }
    }

    /// Comma-separated names, each trimmed.
    static func names(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmed() }
    }

    /// A dataset in one of ``DatasetSpec/forms``, read by the library's parser.
    static func dataset(_ text: String) throws -> DatasetSpec { try DatasetSpec(parsing: text) }
}

/// Runs `body`; a library ``ValueError`` about one of `flags`' fields becomes
/// an error naming the flag: `--lr: learning rate must be positive, got -1`.
/// With `validation`, it is a usage error (exit code 64, with a pointer to help).
func naming<T>(_ flags: KeyValuePairs<ValueError.Field, String>, validation: Bool = false,
               _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ValueError {
        guard let flag = flags.first(where: { $0.key == error.field })?.value else { throw error }
        let line = "\(flag): \(error.message)"
        if validation { throw ValidationError(line) }
        throw CLIError(line)
    }
}

/// Runs `body`; an ``ExpressionError`` about the variable values or the
/// variable to differentiate names the flag that gave them (`--at`, `--wrt`).
func namingExpressionInputs<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExpressionError {
        switch error.subject {
        case .program: throw error
        case .values(let text):
            throw CLIError("--at \"\(text)\"" + (error.location.map { ", column \($0.column)" } ?? "") + ": \(error.message)")
        case .unboundVariable(let name):
            throw CLIError("\(error); give it a value with --at \(name)=...")
        case .wrt: throw CLIError("--wrt: \(error.message)")
        }
    }
}

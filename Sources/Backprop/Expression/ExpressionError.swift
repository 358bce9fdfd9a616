/// A position in a program's text: 1-based line and column.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`, the prefix of every error message about a program.
    public var description: String { "\(line):\(column)" }
}

/// Why a program cannot be parsed or evaluated, with where: a parse error,
/// an unbound variable, a shape mismatch, an unknown function.
///
/// ```swift
/// do { _ = try ExpressionProgram(parsing: "a = x *") }
/// catch let e as ExpressionError { print(e) }   // 1:8: expected an expression after '*'
/// ```
public struct ExpressionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the problem is; `nil` for problems outside the program text (an
    /// argument such as `--wrt`).
    public let location: SourcePosition?
    /// What is wrong, without the position.
    public let message: String

    public init(_ message: String, at location: SourcePosition? = nil) {
        self.location = location
        self.message = message
    }

    /// `line:column: message`.
    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }
}

import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
/// A position in a program's text: 1-based line and column.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    /// The line, 1-based.
    public var line: Int
    /// The column, 1-based.
    public var column: Int

    /// A position from a 1-based line and column.
    ///
    /// ```swift
    /// let p = SourcePosition(line: 2, column: 5)
    /// print(p)   // 2:5
    /// ```
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

    /// An error with `message`, at `location` in the program when there is one.
    ///
    /// ```swift
    /// let e = ExpressionError("unbound variable 'q'", at: SourcePosition(line: 1, column: 5))
    /// print(e)   // 1:5: unbound variable 'q'
    /// ```
    public init(_ message: String, at location: SourcePosition? = nil) {
        self.location = location
        self.message = message
    }

    /// `line:column: message`.
    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }
}

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
/// an unbound variable, a shape mismatch, an unknown function, or a bad
/// variable value or variable name given with the program.
///
/// ```swift
/// do { _ = try ExpressionProgram(parsing: "a = x *") }
/// catch let e as ExpressionError { print(e) }   // 1:8: expected an expression after '*'
/// ```
public struct ExpressionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which input given with a program an error is about, for a caller
    /// (such as the command-line tool) that names its inputs its own way.
    public enum Subject: Equatable, Sendable {
        /// The program text; ``ExpressionError/location`` is in it.
        case program
        /// The text of variable values read by ``Bindings/parse(_:)``;
        /// ``ExpressionError/location`` is a column in it.
        case values(String)
        /// A variable of the program that was given no value; ``ExpressionError/location`` is in the program.
        case unboundVariable(String)
        /// The variable to differentiate with respect to.
        case wrt(String)
    }

    /// Where the problem is: in the program, or in the values' text; `nil` when there is no position.
    public let location: SourcePosition?
    /// What is wrong, without the position.
    public let message: String
    /// What the error is about: the program, or a value given with it.
    public let subject: Subject

    /// An error with `message`, at `location` in the program (or in the text of ``subject``).
    ///
    /// ```swift
    /// let e = ExpressionError("unbound variable 'q'", at: SourcePosition(line: 1, column: 5))
    /// print(e)   // 1:5: unbound variable 'q'
    /// ```
    public init(_ message: String, at location: SourcePosition? = nil, subject: Subject = .program) {
        self.location = location
        self.message = message
        self.subject = subject
    }

    /// `line:column: message` in a program; `values "x=[1,", column 6: message` in the values' text.
    public var description: String {
        if case .values(let text) = subject {
            return "values \(DataError.quote(text))" + (location.map { ", column \($0.column)" } ?? "") + ": \(message)"
        }
        return location.map { "\($0): \(message)" } ?? message
    }
}

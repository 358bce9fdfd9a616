import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
/// The values of a program's variables, written `name=value,...` (`--at` of graph and jacobian).
///
/// ```swift
/// let at = try Bindings.parse("x=1,y=[2,3]")
/// ```
public enum Bindings {
    /// Parses the values of a program's variables: `name=value` items separated
    /// by commas, where a value is a number or a nested bracketed list. Commas
    /// inside brackets belong to the value. Errors are ``ExpressionError``s with
    /// the subject ``ExpressionError/Subject/values(_:)`` and the column in `text`.
    ///
    /// ```swift
    /// let at = try Bindings.parse("W=[[1,2],[3,4]],x=[1,1],c=-0.5")
    /// at.map(\.name)     // ["W", "x", "c"]
    /// at[0].value.shape  // [2, 2]
    /// ```
    public static func parse(_ text: String) throws -> [(name: String, value: Tensor<Double>)] {
        func error(_ message: String, _ location: SourcePosition) -> ExpressionError {
            ExpressionError(message, at: SourcePosition(line: 1, column: location.column), subject: .values(text))
        }
        let tokens: [Token]
        do { tokens = try Lexer.tokenize(text) } catch let e as ExpressionError {
            throw error(e.message, e.location ?? SourcePosition(line: 1, column: 1))
        }
        var parser = Parser(source: text, tokens: tokens)
        var result: [(name: String, value: Tensor<Double>)] = []
        if parser.current.kind == .end { return [] }
        while true {
            guard case .identifier(let name) = parser.current.kind else {
                throw error("expected a variable name, found \(parser.current.quoted)", parser.current.location)
            }
            _ = parser.advance()
            guard parser.isSymbol("=") else {
                throw error("expected '=' after '\(name)', found \(parser.current.quoted)", parser.current.location)
            }
            _ = parser.advance()
            let valueStart = parser.current
            let value: Tensor<Double>
            do {
                if parser.isSymbol("[") {
                    let open = parser.advance()
                    let nested = try parser.parseList(opening: open)
                    switch nested.validatedShape() {
                    case .success: value = Tensor(nested: nested)
                    case .failure(let e): throw ExpressionError(e.message, at: valueStart.location)
                    }
                } else {
                    var sign = 1.0
                    if parser.isSymbol("-") { _ = parser.advance(); sign = -1 }
                    guard case .number(let v) = parser.current.kind else {
                        throw ExpressionError("expected a number or '[' for '\(name)', found \(parser.current.quoted)",
                                              at: parser.current.location)
                    }
                    _ = parser.advance()
                    value = Tensor(sign * v)
                }
            } catch let e as ExpressionError {
                throw error(e.message, e.location ?? valueStart.location)
            }
            if result.contains(where: { $0.name == name }) {
                throw error("'\(name)' is given twice", valueStart.location)
            }
            result.append((name, value))
            if parser.current.kind == .end { return result }
            guard parser.isSymbol(",") else {
                throw error("expected ',' between values, found \(parser.current.quoted)", parser.current.location)
            }
            _ = parser.advance()
        }
    }
}

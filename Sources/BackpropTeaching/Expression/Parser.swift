import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// A recursive-descent parser for the expression language of `backprop graph`:
//
//   program    := statement (separator statement)*        separator: ';' or a newline
//   statement  := name '=' expression | expression
//   expression := term (('+' | '-') term)*
//   term       := unary (('*' | '/' | '@') unary)*
//   unary      := '-' unary | power                       so -x^2 = -(x^2)
//   power      := primary ('^' unary)?                     right-associative: 2^3^2 = 2^9
//   primary    := number | name | function '(' expression ')' | '(' expression ')'
//               | '[' numbers or nested lists ']'

/// A built-in function of the expression language; each maps to one library op. The activations are
/// those of ``Activation``, by the same names and with their default parameters (`leaky_relu(x)` has
/// slope 0.01, `softplus(x)` has β = 1), so a name means the same here as in `train` and `plot`.
public enum ExpressionFunction: Hashable, Sendable, RawRepresentable, CaseIterable {
    /// Elementwise math, named as in a program: `exp(x)`, `sin(x)`.
    case exp, log, sqrt, abs, sin, cos
    /// Reductions to a scalar: `sum(x)`, `mean(x)`.
    case sum, mean
    /// An activation with its default parameters: `relu(x)`, `tanh(x)`, `softplus(x)`, `softmax(x)`.
    case activation(Activation)

    private static let math: [ExpressionFunction] = [.exp, .log, .sqrt, .abs, .sin, .cos, .sum, .mean]

    /// Every function, math first, then each activation.
    public static var allCases: [ExpressionFunction] { math + Activation.allKinds.map { .activation($0) } }

    /// The function named `rawValue` in a program, or `nil`.
    public init?(rawValue: String) {
        if let f = Self.math.first(where: { $0.rawValue == rawValue }) {
            self = f
        } else if let a = Activation.allKinds.first(where: { $0.name == rawValue }) {
            self = .activation(a)
        } else {
            return nil
        }
    }

    /// The name in a program.
    public var rawValue: String {
        switch self {
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .abs: return "abs"
        case .sin: return "sin"
        case .cos: return "cos"
        case .sum: return "sum"
        case .mean: return "mean"
        case let .activation(a): return a.name
        }
    }

    /// `true` for the functions that apply elementwise (all but `sum`, `mean`, `softmax`, `log_softmax`).
    public var isElementwise: Bool {
        switch self {
        case .sum, .mean: return false
        case let .activation(a): return a.isElementwise
        default: return true
        }
    }
}

/// A binary operator of the expression language.
public enum BinaryOperator: Character, CaseIterable, Sendable {
    /// The operators, by their character; `@` is matrix multiplication.
    case add = "+", subtract = "-", multiply = "*", divide = "/", power = "^", matmul = "@"
}

/// A parsed expression: what it computes, where it is, and its source text
/// (used to label unnamed nodes, as in `x*y`).
public struct Expression: Sendable {
    /// The shape of an expression: a leaf (number, tensor literal, variable) or an operation on sub-expressions.
    public indirect enum Kind: Sendable {
        /// A number literal.
        case number(Double)
        /// A tensor literal such as `[1, 2]` or `[[1, 0], [0, 1]]`.
        case tensor(shape: [Int], scalars: [Double])
        /// A variable or statement name.
        case variable(String)
        /// Unary minus.
        case negate(Expression)
        /// An operator and its two operands.
        case binary(BinaryOperator, Expression, Expression)
        /// A function applied to one argument.
        case call(ExpressionFunction, Expression)
    }

    /// What the expression computes.
    public let kind: Kind
    /// The start of a leaf or call; the operator of a unary or binary expression.
    public let location: SourcePosition
    /// The expression's text in the program, trimmed.
    public let text: String
}

/// A parsed program: statements in order, each optionally named.
///
/// ```swift
/// let program = try ExpressionProgram(parsing: "a = x*y + z; b = a*(x + x); w = a*b + b")
/// program.statements.map(\.name)   // ["a", "b", "w"]
/// ```
public struct ExpressionProgram: Sendable {
    /// One statement: `name = expression` or a bare expression.
    public struct Statement: Sendable {
        /// The assigned name; `nil` for a bare expression.
        public let name: String?
        /// The expression computed.
        public let expression: Expression
        /// Where the statement starts.
        public let location: SourcePosition
        /// The name, or for a bare expression its source text.
        public var displayName: String { name ?? expression.text }
    }

    /// The program text that was parsed.
    public let source: String
    /// The statements, in program order.
    public let statements: [Statement]

    /// Parses `source`; throws ``ExpressionError`` with `line:column` and what was expected.
    public init(parsing source: String) throws {
        self.source = source
        var parser = Parser(source: source, tokens: try Lexer.tokenize(source))
        statements = try parser.parseProgram()
    }
}

struct Parser {
    let chars: [Character]
    let tokens: [Token]
    var position = 0

    init(source: String, tokens: [Token]) {
        chars = Array(source)
        self.tokens = tokens
    }

    var current: Token { tokens[position] }
    var previous: Token { tokens[max(0, position - 1)] }

    mutating func advance() -> Token {
        let t = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    func isSymbol(_ c: Character) -> Bool { current.kind == .symbol(c) }

    /// The program text from `start` to the end of the last consumed token.
    func text(from start: Int) -> String {
        let end = previous.offset + previous.text.count
        guard end > start else { return "" }
        return String(chars[start..<end]).trimmingWhitespace()
    }

    mutating func parseProgram() throws -> [ExpressionProgram.Statement] {
        var statements: [ExpressionProgram.Statement] = []
        while true {
            while current.kind == .separator { _ = advance() }
            if current.kind == .end { break }
            statements.append(try parseStatement())
            switch current.kind {
            case .separator, .end: continue
            default:
                throw ExpressionError("expected an operator, ';' or a new line before \(current.quoted)", at: current.location)
            }
        }
        if statements.isEmpty {
            throw ExpressionError("expected a statement such as 'w = x*y + z'", at: current.location)
        }
        return statements
    }

    mutating func parseStatement() throws -> ExpressionProgram.Statement {
        let start = current.location
        if case .identifier(let name) = current.kind, tokens[position + 1].kind == .symbol("=") {
            if ExpressionFunction(rawValue: name) != nil {
                throw ExpressionError("'\(name)' is a function and cannot be assigned", at: start)
            }
            _ = advance()
            let equals = advance()
            let expression = try parseOperand(after: equals)
            return .init(name: name, expression: expression, location: start)
        }
        return .init(name: nil, expression: try parseExpression(), location: start)
    }

    /// An expression that must follow `token` (an operator, '=' or '(').
    mutating func parseOperand(after token: Token, unary: Bool = false) throws -> Expression {
        guard startsPrimary(current) else {
            throw ExpressionError("expected an expression after \(token.quoted)", at: current.location)
        }
        return unary ? try parseUnary() : try parseExpression()
    }

    func startsPrimary(_ t: Token) -> Bool {
        switch t.kind {
        case .number, .identifier: return true
        case .symbol(let c): return c == "(" || c == "[" || c == "-"
        default: return false
        }
    }

    mutating func parseExpression() throws -> Expression {
        let start = current.offset
        var lhs = try parseTerm()
        while case .symbol(let c) = current.kind, c == "+" || c == "-" {
            let op = advance()
            guard startsPrimary(current) else {
                throw ExpressionError("expected an expression after \(op.quoted)", at: current.location)
            }
            let rhs = try parseTerm()
            lhs = Expression(kind: .binary(BinaryOperator(rawValue: c)!, lhs, rhs), location: op.location, text: text(from: start))
        }
        return lhs
    }

    mutating func parseTerm() throws -> Expression {
        let start = current.offset
        var lhs = try parseUnary()
        while case .symbol(let c) = current.kind, c == "*" || c == "/" || c == "@" {
            let op = advance()
            let rhs = try parseOperand(after: op, unary: true)
            lhs = Expression(kind: .binary(BinaryOperator(rawValue: c)!, lhs, rhs), location: op.location, text: text(from: start))
        }
        return lhs
    }

    mutating func parseUnary() throws -> Expression {
        let start = current.offset
        if isSymbol("-") {
            let minus = advance()
            let operand = try parseOperand(after: minus, unary: true)
            // A negative literal is a number, not a negation node.
            if case .number(let v) = operand.kind {
                return Expression(kind: .number(-v), location: minus.location, text: text(from: start))
            }
            return Expression(kind: .negate(operand), location: minus.location, text: text(from: start))
        }
        guard startsPrimary(current) else {
            throw ExpressionError("expected an expression, found \(current.quoted)", at: current.location)
        }
        return try parsePower()
    }

    mutating func parsePower() throws -> Expression {
        let start = current.offset
        let base = try parsePrimary()
        if isSymbol("^") {
            let caret = advance()
            let exponent = try parseOperand(after: caret, unary: true)
            return Expression(kind: .binary(.power, base, exponent), location: caret.location, text: text(from: start))
        }
        return base
    }

    mutating func parsePrimary() throws -> Expression {
        let token = advance()
        switch token.kind {
        case .number(let v):
            return Expression(kind: .number(v), location: token.location, text: token.text)
        case .identifier(let name):
            guard isSymbol("(") else {
                if ExpressionFunction(rawValue: name) != nil {
                    throw ExpressionError("expected '(' after the function '\(name)'", at: current.location)
                }
                return Expression(kind: .variable(name), location: token.location, text: token.text)
            }
            guard let function = ExpressionFunction(rawValue: name) else {
                let names = ExpressionFunction.allCases.map(\.rawValue).joined(separator: ", ")
                throw ExpressionError("unknown function '\(name)'; the functions are \(names)", at: token.location)
            }
            let open = advance()
            let argument = try parseOperand(after: open)
            if isSymbol(",") {
                throw ExpressionError("'\(name)' takes one argument", at: current.location)
            }
            try expectClose(")", opening: open)
            return Expression(kind: .call(function, argument), location: token.location, text: text(from: token.offset))
        case .symbol("("):
            let inner = try parseOperand(after: token)
            try expectClose(")", opening: token)
            return inner   // labelled without its parentheses
        case .symbol("["):
            let nested = try parseList(opening: token)
            switch nested.validatedShape() {
            case .success(let shape):
                var scalars: [Double] = []
                nested.appendScalars(to: &scalars)
                return Expression(kind: .tensor(shape: shape, scalars: scalars), location: token.location,
                                  text: text(from: token.offset))
            case .failure(let e):
                throw ExpressionError(e.message, at: token.location)
            }
        default:
            throw ExpressionError("expected an expression, found \(token.quoted)", at: token.location)
        }
    }

    /// `[` already consumed: numbers or lists separated by commas, then `]`.
    mutating func parseList(opening: Token) throws -> NestedArray {
        var items: [NestedArray] = []
        if isSymbol("]") { _ = advance(); return .list([]) }
        while true {
            if isSymbol("[") {
                let open = advance()
                items.append(try parseList(opening: open))
            } else {
                var sign = 1.0
                if isSymbol("-") { _ = advance(); sign = -1 }
                guard case .number(let v) = current.kind else {
                    throw ExpressionError("expected a number in the tensor literal, found \(current.quoted)", at: current.location)
                }
                _ = advance()
                items.append(.scalar(sign * v))
            }
            if isSymbol(",") { _ = advance(); continue }
            try expectClose("]", opening: opening)
            return .list(items)
        }
    }

    mutating func expectClose(_ c: Character, opening: Token) throws {
        guard isSymbol(c) else {
            throw ExpressionError("expected '\(c)' to close the '\(opening.text)' at \(opening.location), found \(current.quoted)",
                                  at: current.location)
        }
        _ = advance()
    }
}

private extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

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

    /// Every function by its name; the first of a name wins, math before activations.
    /// The parser asks for every variable of a program whether it names a
    /// function: searching the lists, which builds each activation's name, took
    /// 4,000 instructions a variable.
    private static let byName: [String: ExpressionFunction] =
        Dictionary(allCases.map { ($0.rawValue, $0) }, uniquingKeysWith: { first, _ in first })

    /// The function named `rawValue` in a program, or `nil`.
    public init?(rawValue: String) {
        guard let f = Self.byName[rawValue] else { return nil }
        self = f
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

/// One node of a parsed program: what it computes, where it is, and where
/// its source text is (used to label unnamed nodes, as in `x*y`).
///
/// A program's expressions are stored flat in ``ExpressionProgram/expressions``,
/// every node after its operands, which it names by index. A chain such as
/// `x+x+...+x` is then a list, not a deep tree: evaluating it, or freeing it,
/// needs no recursion.
public struct Expression: Sendable {
    /// The shape of an expression: a leaf (number, tensor literal, variable)
    /// or an operation on operands, given as indices into
    /// ``ExpressionProgram/expressions``.
    public enum Kind: Sendable {
        /// A number literal.
        case number(Double)
        /// A tensor literal such as `[1, 2]` or `[[1, 0], [0, 1]]`.
        case tensor(shape: [Int], scalars: [Double])
        /// A variable or statement name.
        case variable(String)
        /// Unary minus of an operand.
        case negate(Int)
        /// An operator and its two operands.
        case binary(BinaryOperator, Int, Int)
        /// A function applied to one argument.
        case call(ExpressionFunction, Int)
    }

    /// What the expression computes.
    public internal(set) var kind: Kind
    /// The start of a leaf or call; the operator of a unary or binary expression.
    public internal(set) var location: SourcePosition
    /// The expression's text in the program, as character offsets (without
    /// surrounding whitespace or parentheses of its own).
    public internal(set) var textRange: Range<Int>
    /// `true` for a number used as a literal exponent (`x^2`): it is part of
    /// the power node, not a node of its own.
    public internal(set) var isLiteralExponent = false
}

/// A parsed program: statements in order, each optionally named.
///
/// Parsing is linear in the program's length, and nesting (parentheses,
/// function calls, unary minus, powers, tensor literals) deeper than
/// ``maximumNesting`` is an error rather than a stack overflow.
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
        /// The index of the statement's expression in ``ExpressionProgram/expressions``;
        /// its operands are the expressions from ``firstExpression`` up to it.
        public let expression: Int
        /// The index of the first expression of this statement.
        public let firstExpression: Int
        /// Where the statement starts.
        public let location: SourcePosition
        /// The name, or for a bare expression its source text (shortened when long).
        public let displayName: String
    }

    /// How deeply parentheses, calls, unary minus, powers and tensor literals may nest.
    public static let maximumNesting = 200

    /// The program text that was parsed.
    public let source: String
    /// Every expression of every statement, each after its operands,
    /// statement by statement.
    public let expressions: [Expression]
    /// The statements, in program order.
    public let statements: [Statement]
    let characters: [Character]
    let asciiCodes: [UInt8]

    /// Parses `source`; throws ``ExpressionError`` with `line:column` and what was expected.
    public init(parsing source: String) throws {
        self.source = source
        var parser = Parser(source: source, tokens: try Lexer.tokenize(source))
        statements = try parser.parseProgram()
        expressions = parser.expressions
        characters = parser.chars
        asciiCodes = parser.ascii
    }

    /// The source text of an expression, with runs of whitespace (newlines
    /// included) shown as one space, and cut to `limit` characters with `…`.
    ///
    /// ```swift
    /// let p = try ExpressionProgram(parsing: "w = x*y + z")
    /// p.text(of: p.statements[0].expression)   // "x*y + z"
    /// ```
    public func text(of index: Int, limit: Int = 80) -> String {
        Parser.label(characters, asciiCodes, expressions[index].textRange, limit: limit)
    }
}

struct Parser {
    let chars: [Character]
    /// ``chars`` as ASCII codes, for fast labels.
    let ascii: [UInt8]
    let tokens: [Token]
    var position = 0
    var expressions: [Expression] = []
    /// Current nesting, checked against ``ExpressionProgram/maximumNesting``.
    var depth = 0

    init(source: String, tokens: [Token]) {
        chars = Array(source)
        ascii = Parser.asciiCodes(chars)
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

    /// The range from `start` to the end of the last consumed token.
    func range(from start: Int) -> Range<Int> {
        let end = previous.offset + previous.text.count
        return start..<max(start, end)
    }

    mutating func add(_ kind: Expression.Kind, at location: SourcePosition, from start: Int) -> Int {
        expressions.append(Expression(kind: kind, location: location, textRange: range(from: start)))
        return expressions.count - 1
    }

    /// Text for a label: whitespace runs as one space, at most `limit` characters.
    ///
    /// Built as UTF-8 bytes from `ascii` (see ``asciiCodes(_:)``), reading a
    /// `Character` only where it is not ASCII: a chain such as `x+x+...+x` labels
    /// every one of its nodes, and appending `Character`s one by one cost about
    /// 700 instructions each (29% of evaluating 10,000 terms); an ASCII label
    /// takes about 10 a character.
    static func label(_ chars: [Character], _ ascii: [UInt8], _ range: Range<Int>, limit: Int) -> String {
        if let label = asciiLabel(ascii, range, limit: limit) { return label }
        var out: [UInt8] = []
        out.reserveCapacity(Swift.min(range.count, limit) + 4)
        var count = 0
        var lastWasSpace = false
        var lastLength = 0   // bytes of the last character appended
        for i in range {
            let a = ascii[i]
            let space = a == nonASCII ? chars[i].isWhitespace : a == 32 || (9...13).contains(a)
            if space {
                if lastWasSpace { continue }
                lastWasSpace = true
                out.append(32)
                lastLength = 1
            } else if a != nonASCII {
                lastWasSpace = false
                out.append(a)
                lastLength = 1
            } else {
                lastWasSpace = false
                let before = out.count
                out.append(contentsOf: chars[i].utf8)
                lastLength = out.count - before
            }
            count += 1
            if count >= limit && i < range.upperBound - 1 {
                out.removeLast(lastLength)
                return String(decoding: out, as: UTF8.self) + "…"
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// ``label(_:_:_:limit:)`` of ASCII text, written straight into the string's
    /// storage; `nil` when a character it reaches is not ASCII.
    private static func asciiLabel(_ ascii: [UInt8], _ range: Range<Int>, limit: Int) -> String? {
        var isASCII = true
        // At most `limit` characters, the last of them replaced by "…" (3 bytes).
        let capacity = Swift.min(range.count, Swift.max(limit, 0)) + 3
        let label = ascii.withUnsafeBufferPointer { codes in
            String(unsafeUninitializedCapacity: capacity) { out in
                var n = 0
                var lastWasSpace = false
                for i in range {
                    let a = codes[i]
                    if a == nonASCII { isASCII = false; return 0 }
                    if a == 32 || (9...13).contains(a) {
                        if lastWasSpace { continue }
                        lastWasSpace = true
                        out[n] = 32
                    } else {
                        lastWasSpace = false
                        out[n] = a
                    }
                    n += 1   // one byte a character, so n counts the characters too
                    if n >= limit && i < range.upperBound - 1 {
                        n -= 1
                        out[n] = 0xE2; out[n + 1] = 0x80; out[n + 2] = 0xA6   // "…" in UTF-8
                        return n + 3
                    }
                }
                return n
            }
        }
        return isASCII ? label : nil
    }

    /// Marks a character that is not ASCII in ``asciiCodes(_:)``.
    static let nonASCII: UInt8 = 0xFF

    /// Each character's ASCII code, or ``nonASCII``.
    static func asciiCodes(_ chars: [Character]) -> [UInt8] {
        chars.map { $0.asciiValue ?? nonASCII }
    }

    /// Enters one level of nesting, or throws when that is too deep.
    mutating func nest(at location: SourcePosition) throws {
        depth += 1
        guard depth <= ExpressionProgram.maximumNesting else {
            throw ExpressionError("nested more than \(ExpressionProgram.maximumNesting) levels deep (parentheses, calls, unary minus, powers); split the expression into statements",
                                  at: location)
        }
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
        let first = expressions.count
        if case .identifier(let name) = current.kind, tokens[position + 1].kind == .symbol("=") {
            if ExpressionFunction(rawValue: name) != nil {
                throw ExpressionError("\(current.quoted) is a function and cannot be assigned", at: start)
            }
            _ = advance()
            let equals = advance()
            let expression = try parseOperand(after: equals)
            return .init(name: name, expression: expression, firstExpression: first, location: start, displayName: name)
        }
        let expression = try parseExpression()
        return .init(name: nil, expression: expression, firstExpression: first, location: start,
                     displayName: Parser.label(chars, ascii, expressions[expression].textRange, limit: 80))
    }

    /// An expression that must follow `token` (an operator, '=' or '(').
    mutating func parseOperand(after token: Token, unary: Bool = false) throws -> Int {
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

    mutating func parseExpression() throws -> Int {
        let start = current.offset
        var lhs = try parseTerm()
        while case .symbol(let c) = current.kind, c == "+" || c == "-" {
            let op = advance()
            guard startsPrimary(current) else {
                throw ExpressionError("expected an expression after \(op.quoted)", at: current.location)
            }
            let rhs = try parseTerm()
            lhs = add(.binary(BinaryOperator(rawValue: c)!, lhs, rhs), at: op.location, from: start)
        }
        return lhs
    }

    mutating func parseTerm() throws -> Int {
        let start = current.offset
        var lhs = try parseUnary()
        while case .symbol(let c) = current.kind, c == "*" || c == "/" || c == "@" {
            let op = advance()
            let rhs = try parseOperand(after: op, unary: true)
            lhs = add(.binary(BinaryOperator(rawValue: c)!, lhs, rhs), at: op.location, from: start)
        }
        return lhs
    }

    mutating func parseUnary() throws -> Int {
        let start = current.offset
        if isSymbol("-") {
            let minus = advance()
            try nest(at: minus.location)
            defer { depth -= 1 }
            let operand = try parseOperand(after: minus, unary: true)
            // A negative literal is a number, not a negation node: the literal,
            // the last expression added, becomes the negative number.
            if case .number(let v) = expressions[operand].kind {
                expressions[operand] = Expression(kind: .number(-v), location: minus.location, textRange: range(from: start))
                return operand
            }
            return add(.negate(operand), at: minus.location, from: start)
        }
        guard startsPrimary(current) else {
            throw ExpressionError("expected an expression, found \(current.quoted)", at: current.location)
        }
        return try parsePower()
    }

    mutating func parsePower() throws -> Int {
        let start = current.offset
        let base = try parsePrimary()
        if isSymbol("^") {
            let caret = advance()
            try nest(at: caret.location)
            defer { depth -= 1 }
            let exponent = try parseOperand(after: caret, unary: true)
            if case .number = expressions[exponent].kind { expressions[exponent].isLiteralExponent = true }
            return add(.binary(.power, base, exponent), at: caret.location, from: start)
        }
        return base
    }

    mutating func parsePrimary() throws -> Int {
        let token = advance()
        switch token.kind {
        case .number(let v):
            return add(.number(v), at: token.location, from: token.offset)
        case .identifier(let name):
            guard isSymbol("(") else {
                if ExpressionFunction(rawValue: name) != nil {
                    throw ExpressionError("expected '(' after the function '\(name)'", at: current.location)
                }
                return add(.variable(name), at: token.location, from: token.offset)
            }
            guard let function = ExpressionFunction(rawValue: name) else {
                let names = ExpressionFunction.allCases.map(\.rawValue).joined(separator: ", ")
                throw ExpressionError("unknown function \(token.quoted); the functions are \(names)", at: token.location)
            }
            let open = advance()
            try nest(at: open.location)
            defer { depth -= 1 }
            let argument = try parseOperand(after: open)
            if isSymbol(",") {
                throw ExpressionError("'\(name)' takes one argument", at: current.location)
            }
            try expectClose(")", opening: open)
            return add(.call(function, argument), at: token.location, from: token.offset)
        case .symbol("("):
            try nest(at: token.location)
            defer { depth -= 1 }
            let inner = try parseOperand(after: token)
            try expectClose(")", opening: token)
            return inner   // labelled without its parentheses
        case .symbol("["):
            let nested = try parseList(opening: token)
            switch nested.validatedShape() {
            case .success(let shape):
                var scalars: [Double] = []
                nested.appendScalars(to: &scalars)
                return add(.tensor(shape: shape, scalars: scalars), at: token.location, from: token.offset)
            case .failure(let e):
                throw ExpressionError(e.message, at: token.location)
            }
        default:
            throw ExpressionError("expected an expression, found \(token.quoted)", at: token.location)
        }
    }

    /// `[` already consumed: numbers or lists separated by commas, then `]`.
    mutating func parseList(opening: Token) throws -> NestedArray {
        try nest(at: opening.location)
        defer { depth -= 1 }
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

import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// The tokenizer of the expression language. Newlines separate statements,
// except inside parentheses or brackets, where they are plain whitespace;
// `#` starts a comment that runs to the end of the line.

/// One token of a program, with where it starts.
struct Token: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case identifier(String)
        /// One of `+ - * / ^ @ = ( ) [ ] ,`.
        case symbol(Character)
        /// `;` or a newline outside parentheses.
        case separator
        case end
    }

    let kind: Kind
    let location: SourcePosition
    /// The index of the token's first character in the program text.
    let offset: Int
    /// The text of the token, for messages ("'*'", "end of input").
    let text: String

    /// How an error message names this token.
    var quoted: String {
        switch kind {
        case .end: return "end of input"
        case .separator: return text == ";" ? "';'" : "end of line"
        default: return "'\(DataError.excerpt(text, limit: 40))'"
        }
    }
}

enum Lexer {
    /// The tokens of `source`, ending with `.end`.
    static func tokenize(_ source: String) throws -> [Token] {
        let chars = Array(source)
        var tokens: [Token] = []
        var i = 0, line = 1, column = 1, depth = 0

        func advance() {
            if chars[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }

        while i < chars.count {
            let c = chars[i]
            let start = SourcePosition(line: line, column: column), startIndex = i
            if c == "#" {
                while i < chars.count && chars[i] != "\n" { advance() }
            } else if c == "\n" || c == ";" {
                if depth == 0 { tokens.append(Token(kind: .separator, location: start, offset: i, text: String(c))) }
                else if c == ";" { throw ExpressionError("expected ')' before ';'", at: start) }
                advance()
            } else if c.isWhitespace {
                advance()
            } else if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                while i < chars.count && (chars[i].isNumber || chars[i] == ".") { advance() }
                if i < chars.count && (chars[i] == "e" || chars[i] == "E") {
                    // An exponent only when digits follow: `2e` is 2 then the variable e.
                    var j = i + 1
                    if j < chars.count && (chars[j] == "+" || chars[j] == "-") { j += 1 }
                    if j < chars.count && chars[j].isNumber {
                        while i < j { advance() }
                        while i < chars.count && chars[i].isNumber { advance() }
                    }
                }
                let text = String(chars[startIndex..<i])
                guard let value = Double(text) else { throw ExpressionError("malformed number '\(DataError.excerpt(text, limit: 40))'", at: start) }
                // Double("1e999") is inf: a literal must be a number, as a CSV cell or JSON number must.
                guard value.isFinite else {
                    throw ExpressionError("number \(DataError.excerpt(text, limit: 40)) is out of the range of a Double", at: start)
                }
                tokens.append(Token(kind: .number(value), location: start, offset: startIndex, text: text))
            } else if c.isLetter || c == "_" {
                while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_") { advance() }
                let text = String(chars[startIndex..<i])
                tokens.append(Token(kind: .identifier(text), location: start, offset: startIndex, text: text))
            } else if "+-*/^@=(),[]".contains(c) {
                if c == "(" || c == "[" { depth += 1 }
                if c == ")" || c == "]" { depth = max(0, depth - 1) }
                tokens.append(Token(kind: .symbol(c), location: start, offset: startIndex, text: String(c)))
                advance()
            } else {
                throw ExpressionError("unexpected character '\(DataError.excerpt(String(c)))'", at: start)
            }
        }
        tokens.append(Token(kind: .end, location: SourcePosition(line: line, column: column), offset: chars.count, text: ""))
        return tokens
    }
}

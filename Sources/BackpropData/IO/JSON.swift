import BackpropCore
/// A JSON value, parsed with errors that name the line, column and byte
/// offset, and written deterministically (object keys keep their order), so a
/// file written twice is the same byte for byte.
///
/// ```swift
/// let v = try JSON.parse(#"{"layers": [64, 10]}"#, source: "spec.json")
/// v["layers"]?.arrayValue?.count   // 2
/// ```
public enum JSON: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number (JSON has one number type).
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSON])
    /// Key order is kept, as written in the file.
    case object([(String, JSON)])

    /// Structural equality; object members must match in the same order.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member named `key` of an object; `nil` otherwise.
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    /// The string, if this is a `.string`; `nil` otherwise.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The number, if this is a `.number`; `nil` otherwise.
    public var numberValue: Double? { if case .number(let n) = self { return n }; return nil }
    /// The Boolean, if this is a `.bool`; `nil` otherwise.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, if this is an `.array`; `nil` otherwise.
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    /// The members in file order, if this is an `.object`; `nil` otherwise.
    public var objectValue: [(String, JSON)]? { if case .object(let o) = self { return o }; return nil }

    /// An integer value, when the number is an exact integer.
    public var intValue: Int? {
        guard case .number(let n) = self, n == n.rounded(), abs(n) < 9.0e15 else { return nil }
        return Int(n)
    }

    /// A short name of the kind of value, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    // MARK: Parsing

    /// Parses JSON text; errors name `source`, the line and column, and the byte offset:
    /// `spec.json: invalid JSON at line 2, column 10 (byte 24): unexpected character '}'`.
    public static func parse(_ text: String, source: String = "") throws -> JSON {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Parses UTF-8 JSON bytes; errors as for ``parse(_:source:)``.
    public static func parse<C: Collection>(bytes: C, source: String = "") throws -> JSON where C.Element == UInt8 {
        var parser = JSONParser(bytes: Array(bytes), source: source)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index < parser.bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    // MARK: Writing

    /// How ``text(_:)`` lays the JSON out. All layouts write numbers the same
    /// way: the shortest decimal that reads back exactly, whole numbers
    /// without a fraction, and NaN and infinities (which JSON lacks) as `null`.
    public enum Layout: Sendable {
        /// No spaces: `{"a":1,"b":[2,3]}`, the form safetensors headers use.
        case compact
        /// One line, a space after each `,` and `:`: `{"a": 1, "b": [2, 3]}` (JSON lines).
        case line
        /// Indented by two spaces, one item per line, except that a number or
        /// a rectangular nested array of numbers (a tensor) stays on one line:
        /// `"weight": [[1, 2], [3, 4]]`.
        case pretty
    }

    /// The JSON text of this value.
    ///
    /// ```swift
    /// JSON.object([("a", .number(1)), ("b", .array([.number(2), .number(3)]))]).text(.line)   // {"a": 1, "b": [2, 3]}
    /// ```
    public func text(_ layout: Layout) -> String {
        var out = ""
        write(to: &out, layout: layout, level: 0)
        return out
    }

    /// `text(.compact)`: `{"a":1,"b":[2,3]}`.
    public var compactText: String { text(.compact) }

    /// `text(.pretty)`: indented by two spaces, tensors on one line.
    public var prettyText: String { text(.pretty) }

    /// A tensor's values as JSON: a number for a scalar, else nested arrays in
    /// row-major order (`[[1, 2], [3, 4]]` for shape [2, 2]).
    ///
    /// ```swift
    /// JSON.tensor(shape: [2], scalars: [1, 2.5]).text(.line)   // [1, 2.5]
    /// ```
    public static func tensor<C: Collection>(shape: [Int], scalars: C) -> JSON where C.Element == Double {
        precondition(shape.reduce(1, *) == scalars.count, "JSON.tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        func nested(_ values: ArraySlice<Double>, _ dims: ArraySlice<Int>) -> JSON {
            guard let n = dims.first else { return .number(values.first!) }
            let stride = dims.dropFirst().reduce(1, *)
            let start = values.startIndex
            return .array((0..<n).map { nested(values[(start + $0 * stride)..<(start + ($0 + 1) * stride)], dims.dropFirst()) })
        }
        return nested(ArraySlice(scalars), shape[...])
    }

    /// `true` for a number (or `null`) and for a non-empty rectangular nested
    /// array of them: what ``Layout/pretty`` keeps on one line.
    private var isTensor: Bool { tensorShape != nil }

    /// The shape of a number ([]) or of a rectangular nested array of numbers.
    private var tensorShape: [Int]? {
        switch self {
        case .number, .null: return []
        case .array(let items):
            guard let first = items.first?.tensorShape else { return nil }
            for item in items.dropFirst() where item.tensorShape != first { return nil }
            return [items.count] + first
        default: return nil
        }
    }

    private func write(to out: inout String, layout: Layout, level: Int) {
        // Several lines only in `.pretty`, and there not for tensors (whose items are tensors too).
        let multiline = layout == .pretty && !isTensor
        let itemSeparator = multiline ? ",\n" : layout == .compact ? "," : ", "
        let keySeparator = layout == .compact ? ":" : ": "
        let inner = multiline ? String(repeating: "  ", count: level + 1) : ""
        let open = multiline ? "\n" : "", close = multiline ? "\n" + String(repeating: "  ", count: level) : ""
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += JSON.format(n)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + open
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                out += inner
                item.write(to: &out, layout: layout, level: level + 1)
            }
            out += close + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{" + open
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += itemSeparator }
                out += inner
                JSON.writeString(key, to: &out)
                out += keySeparator
                value.write(to: &out, layout: layout, level: level + 1)
            }
            out += close + "}"
        }
    }

    /// A number as JSON: whole numbers without a fraction, others the
    /// shortest decimal that reads back exactly; NaN and infinities as `null`.
    package static func format(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        // Swift prints the shortest representation that round-trips.
        return "\(n)"
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let source: String
    var index = 0

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// An error at the current position: line and column (in characters,
    /// from 1) for a person with an editor, the byte offset for a binary header.
    func error(_ message: String) -> DataError {
        let before = bytes[..<min(index, bytes.count)]
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        // UTF-8 continuation bytes (10xxxxxx) do not start a character.
        let column = bytes[lineStart..<before.endIndex].count { $0 & 0xC0 != 0x80 } + 1
        return DataError(path: source, "invalid JSON at line \(line), column \(column) (byte \(index)): \(message)")
    }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ literal: String, _ value: JSON) throws -> JSON {
        let lit = Array(literal.utf8)
        guard index + lit.count <= bytes.count, Array(bytes[index..<index + lit.count]) == lit else {
            throw error("unexpected character")
        }
        index += lit.count
        return value
    }

    mutating func parseValue(depth: Int) throws -> JSON {
        guard depth < 512 else { throw error("nested too deeply") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default:
            throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    mutating func parseObject(depth: Int) throws -> JSON {
        index += 1
        var members: [(String, JSON)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object([]) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            if members.contains(where: { $0.0 == key }) { throw error("duplicate key \"\(key)\"") }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSON {
        index += 1
        var items: [JSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("bad hex digit in \\u escape")
            }
            v = v * 16 + d
            index += 1
        }
        return v
    }

    mutating func parseString() throws -> String {
        index += 1
        var raw: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let c = bytes[index]
            if c == UInt8(ascii: "\"") { index += 1; break }
            if c < 0x20 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") { raw.append(c); index += 1; continue }
            index += 1
            guard index < bytes.count else { throw error("unterminated escape") }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): raw.append(0x22)
            case UInt8(ascii: "\\"): raw.append(0x5C)
            case UInt8(ascii: "/"): raw.append(0x2F)
            case UInt8(ascii: "b"): raw.append(0x08)
            case UInt8(ascii: "f"): raw.append(0x0C)
            case UInt8(ascii: "n"): raw.append(0x0A)
            case UInt8(ascii: "r"): raw.append(0x0D)
            case UInt8(ascii: "t"): raw.append(0x09)
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                raw.append(contentsOf: Array(String(scalar).utf8))
            default: throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        guard let s = String(validating: raw, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return s
    }

    mutating func parseNumber() throws -> JSON {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let s = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - s
        }
        guard digits() > 0 else { throw error("expected digits") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let v = Double(text) else { throw error("invalid number \(text)") }
        return .number(v)
    }
}

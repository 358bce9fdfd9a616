import BackpropCore

// `Codable` over this library's `JSON` value. Foundation's JSONDecoder would
// parse the text itself and lose what `JSON.parse` gives: line and column for
// syntax errors, numbers read exactly, object keys in file order. So text is
// parsed by `JSON.parse`, and these small coders map between the parsed value
// and `Codable` types (layer and model descriptions), naming the JSON path
// (`layers[2].beta`) in every error.

extension JSON {
    /// Decodes a `Decodable` value from this JSON value. Mismatches are ``DataError``s naming `source`
    /// and the JSON path: `model.json: layers[1].type: expected a string, got a number`; `path` is where
    /// this value sits in its file (`layers[1]`), and starts every path in the errors, including those
    /// the type throws itself from its coding path.
    ///
    /// ```swift
    /// let layer = try JSON.parse(text).decode(LayerSpec.self, source: "model.json", path: "layers[1]")
    /// ```
    public func decode<T: Decodable>(_ type: T.Type, source: String = "", path: String = "") throws -> T {
        do {
            return try T(from: JSONValueDecoder(value: self, codingPath: path.isEmpty ? [] : [PathKey(path)]))
        } catch let error as DataError where error.path.isEmpty {
            throw DataError(path: source, error.message)
        }
    }

    /// The JSON value of an `Encodable` value, keys in the order it encodes them.
    ///
    /// ```swift
    /// let json = try JSON(encoding: Activation.softplus(beta: 2))   // {"type":"softplus","beta":2}
    /// ```
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONValueEncoder(codingPath: [])
        try value.encode(to: encoder)
        self = encoder.storage.value
    }

    /// A coding path as a JSON path: `layers[2].beta`.
    static func pathText(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let i = key.intValue { text += "[\(i)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text
    }
}

private struct PathKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(_ s: String) { stringValue = s; intValue = nil }
    init(index: Int) { stringValue = "\(index)"; intValue = index }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(index: intValue) }
}

private func mismatch(_ expected: String, _ value: JSON, _ path: [any CodingKey]) -> DataError {
    let at = JSON.pathText(path)
    return DataError(path: "", (at.isEmpty ? "" : at + ": ") + "expected \(expected), got \(value.kindName)")
}

private func number<T>(_ value: JSON, _ path: [any CodingKey], _ make: (Double) -> T?) throws -> T {
    guard case let .number(n) = value else { throw mismatch("a number", value, path) }
    guard let v = make(n) else {
        let at = JSON.pathText(path)
        throw DataError(path: "", (at.isEmpty ? "" : at + ": ") + "\(JSON.format(n)) does not fit \(T.self)")
    }
    return v
}

private func integer<I: FixedWidthInteger>(_ value: JSON, _ path: [any CodingKey]) throws -> I {
    try number(value, path) { n in n == n.rounded(.towardZero) ? I(exactly: n) : nil }
}

struct JSONValueDecoder: Decoder {
    let value: JSON
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(members) = value else { throw mismatch("an object", value, codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case let .array(items) = value else { throw mismatch("an array", value, codingPath) }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [(String, JSON)]
        let codingPath: [any CodingKey]
        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.0) } }
        func contains(_ key: Key) -> Bool { members.contains { $0.0 == key.stringValue } }

        func value(_ key: Key) throws -> JSON {
            guard let v = members.first(where: { $0.0 == key.stringValue })?.1 else {
                let at = JSON.pathText(codingPath)
                throw DataError(path: "", (at.isEmpty ? "" : at + ": ") + "missing key '\(key.stringValue)'")
            }
            return v
        }
        func decoder(_ key: Key) throws -> JSONValueDecoder {
            JSONValueDecoder(value: try value(key), codingPath: codingPath + [key])
        }
        func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try decoder(key).singleValueContainer().decode(T.self)
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            try decoder(key).container(keyedBy: N.self)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try decoder(key).unkeyedContainer() }
        func superDecoder() throws -> any Decoder { JSONValueDecoder(value: .object(members), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(key) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSON]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        mutating func next() throws -> JSONValueDecoder {
            guard !isAtEnd else {
                let at = JSON.pathText(codingPath)
                throw DataError(path: "", (at.isEmpty ? "" : at + ": ") + "expected more than \(items.count) elements")
            }
            defer { currentIndex += 1 }
            return JSONValueDecoder(value: items[currentIndex], codingPath: codingPath + [PathKey(index: currentIndex)])
        }
        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().singleValueContainer().decode(T.self) }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
            try next().container(keyedBy: N.self)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
        mutating func superDecoder() throws -> any Decoder { try next() }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSON
        let codingPath: [any CodingKey]
        func decodeNil() -> Bool { value == .null }
        func decode(_ type: Bool.Type) throws -> Bool {
            guard case let .bool(b) = value else { throw mismatch("true or false", value, codingPath) }
            return b
        }
        func decode(_ type: String.Type) throws -> String {
            guard case let .string(s) = value else { throw mismatch("a string", value, codingPath) }
            return s
        }
        func decode(_ type: Double.Type) throws -> Double { try number(value, codingPath) { $0 } }
        func decode(_ type: Float.Type) throws -> Float { try number(value, codingPath) { Float($0).isFinite ? Float($0) : nil } }
        func decode(_ type: Int.Type) throws -> Int { try integer(value, codingPath) }
        func decode(_ type: Int8.Type) throws -> Int8 { try integer(value, codingPath) }
        func decode(_ type: Int16.Type) throws -> Int16 { try integer(value, codingPath) }
        func decode(_ type: Int32.Type) throws -> Int32 { try integer(value, codingPath) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(value, codingPath) }
        func decode(_ type: UInt.Type) throws -> UInt { try integer(value, codingPath) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(value, codingPath) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(value, codingPath) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(value, codingPath) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(value, codingPath) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if T.self == JSON.self { return value as! T }   // a JSON value embedded as is
            return try T(from: JSONValueDecoder(value: value, codingPath: codingPath))
        }
    }
}

/// Builds a `JSON` value; containers write into shared boxes so nested containers fill their parents.
final class JSONValueEncoder: Encoder {
    final class Box {
        var value: JSON = .null
        var members: [(String, Box)]? = nil
        var items: [Box]? = nil
        var resolved: JSON {
            if let members { return .object(members.map { ($0.0, $0.1.resolved) }) }
            if let items { return .array(items.map(\.resolved)) }
            return value
        }
    }
    struct Storage { let root: Box; var value: JSON { root.resolved } }

    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let box: Box
    var storage: Storage { Storage(root: box) }

    init(codingPath: [any CodingKey], box: Box = Box()) {
        self.codingPath = codingPath
        self.box = box
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.members == nil { box.members = [] }
        return KeyedEncodingContainer(Keyed<Key>(box: box, codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if box.items == nil { box.items = [] }
        return Unkeyed(box: box, codingPath: codingPath)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(box: box, codingPath: codingPath) }

    static func encode<T: Encodable>(_ value: T, into box: Box, codingPath: [any CodingKey]) throws {
        if let json = value as? JSON { box.value = json; return }
        if let v = value as? Double { box.value = .number(v); return }
        if let v = value as? Float { box.value = .number(Double(v)); return }
        if let v = value as? String { box.value = .string(v); return }
        if let v = value as? Bool { box.value = .bool(v); return }
        if let v = value as? Int { box.value = .number(Double(v)); return }
        try value.encode(to: JSONValueEncoder(codingPath: codingPath, box: box))
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: Box
        let codingPath: [any CodingKey]
        func child(_ key: Key) -> Box {
            if let existing = box.members?.first(where: { $0.0 == key.stringValue })?.1 { return existing }
            let b = Box()
            box.members!.append((key.stringValue, b))
            return b
        }
        mutating func encodeNil(forKey key: Key) throws { child(key).value = .null }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoder.encode(value, into: child(key), codingPath: codingPath + [key])
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            JSONValueEncoder(codingPath: codingPath + [key], box: child(key)).container(keyedBy: N.self)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            JSONValueEncoder(codingPath: codingPath + [key], box: child(key)).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { JSONValueEncoder(codingPath: codingPath, box: box) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { JSONValueEncoder(codingPath: codingPath + [key], box: child(key)) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let box: Box
        let codingPath: [any CodingKey]
        var count: Int { box.items!.count }
        func next() -> Box {
            let b = Box()
            box.items!.append(b)
            return b
        }
        mutating func encodeNil() throws { next().value = .null }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.encode(value, into: next(), codingPath: codingPath + [PathKey(index: count)])
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> {
            JSONValueEncoder(codingPath: codingPath, box: next()).container(keyedBy: N.self)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            JSONValueEncoder(codingPath: codingPath, box: next()).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { JSONValueEncoder(codingPath: codingPath, box: next()) }
    }

    struct Single: SingleValueEncodingContainer {
        let box: Box
        let codingPath: [any CodingKey]
        mutating func encodeNil() throws { box.value = .null }
        mutating func encode<T: Encodable>(_ value: T) throws { try JSONValueEncoder.encode(value, into: box, codingPath: codingPath) }
    }
}

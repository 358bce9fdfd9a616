import BackpropCore
/// Standard base64 (RFC 4648) decoding; whitespace is skipped.
///
/// ```swift
/// try Base64.decode("aGk=")   // [0x68, 0x69]
/// ```
public enum Base64 {
    static let values: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    /// The bytes encoded by `text`.
    public static func decode(_ text: String, source: String = "base64") throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text.utf8 {
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { continue }
            if c == UInt8(ascii: "=") { padding += 1; continue }
            let v = values[Int(c)]
            guard v >= 0, padding == 0 else { throw DataError(path: source, "invalid base64 character '\(Character(Unicode.Scalar(c)))'") }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}

import BackpropCore
/// Echoing outside input in error messages: every message that shows a value
/// read from a file or a command line goes through ``DataError/excerpt(_:limit:)``
/// (or ``DataError/quote(_:limit:)``), so that a 5 MB CSV field or a tensor
/// name full of control bytes gives a one-line, readable message.
extension DataError {
    /// The default number of characters shown of an echoed value.
    public static let excerptLimit = 80

    /// `text` fit to echo in a message: control characters escaped (`\n`,
    /// `\t`, `\r`, `\0`, others as `\u{1b}`), cut to `limit` characters with
    /// a trailing `…` when longer.
    ///
    /// ```swift
    /// DataError.excerpt("a\u{0}b")                                  // a\0b
    /// DataError.excerpt(String(repeating: "x", count: 500)).count   // 80
    /// ```
    public static func excerpt<S: StringProtocol>(_ text: S, limit: Int = excerptLimit) -> String {
        // Escape only as far as needed to know whether the text must be cut.
        var pieces: [String] = []
        var shown = 0
        for scalar in text.unicodeScalars {
            let piece: String
            switch scalar {
            case "\n": piece = "\\n"
            case "\r": piece = "\\r"
            case "\t": piece = "\\t"
            case "\0": piece = "\\0"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || (scalar.properties.generalCategory == .format && scalar.value != 0x200D):
                piece = "\\u{" + String(scalar.value, radix: 16) + "}"
            default: piece = String(scalar)
            }
            pieces.append(piece)
            shown += piece.count
            if shown > limit { break }
        }
        guard shown > limit else { return pieces.joined() }
        var out = "", kept = 0
        for piece in pieces {
            if kept + piece.count > limit - 1 { break }
            out += piece
            kept += piece.count
        }
        return out + "…"
    }

    /// ``excerpt(_:limit:)`` in double quotes, with `"` and `\` escaped.
    ///
    /// ```swift
    /// DataError.quote("2.\u{0}5")   // "2.\05" with the quotes
    /// ```
    public static func quote<S: StringProtocol>(_ text: S, limit: Int = excerptLimit) -> String {
        // Only the part that can be shown is escaped: the input may be megabytes.
        let head = String(text.prefix(limit + 1))
        let escaped = head.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
        return "\"" + excerpt(escaped, limit: limit) + "\""
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

import Foundation

// Number formatting for reports: integers without a decimal point, other
// values with 6 significant digits; JSON keeps full precision.

/// A number for a table: `60`, `0.5`, `-1.5e-07`, `nan`.
///
/// ```swift
/// formatNumber(104)        // "104"
/// formatNumber(1.0 / 3)    // "0.333333"
/// ```
public func formatNumber(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == v.rounded() && Swift.abs(v) < 1e15 { return String(Int64(v)) }
    return String(format: "%.6g", v)
}

/// A tensor as nested brackets of ``formatNumber(_:)``: `[[1, 2], [3, 4]]`; a scalar as a number.
public func formatTensor(_ t: Tensor<Double>) -> String {
    nested(t.scalars, t.shape[...], format: formatNumber)
}

/// A tensor as JSON: a number or nested arrays, full precision; non-finite values as `null`.
public func jsonTensor(_ t: Tensor<Double>) -> String {
    nested(t.scalars, t.shape[...], format: jsonNumber)
}

/// A number as JSON, with the shortest text that reads back exactly.
public func jsonNumber(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded() && Swift.abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

/// A JSON string literal.
public func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

private func nested(_ values: [Double], _ shape: ArraySlice<Int>, format: (Double) -> String) -> String {
    guard let n = shape.first else { return format(values.first ?? 0) }
    let rest = shape.dropFirst()
    let stride = rest.reduce(1, *)
    let items = (0..<n).map { i in
        nested(Array(values[(i * stride)..<((i + 1) * stride)]), rest, format: format)
    }
    return "[" + items.joined(separator: ", ") + "]"
}

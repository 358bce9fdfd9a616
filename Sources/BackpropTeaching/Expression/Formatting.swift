import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

// Number formatting for reports: integers without a decimal point, other
// values with 6 significant digits. (JSON, in full precision, is ``JSON``'s.)

/// A number for a table: `60`, `0.5`, `-1.5e-07`, `nan`.
///
/// ```swift
/// formatNumber(104)        // "104"
/// formatNumber(1.0 / 3)    // "0.333333"
/// ```
package func formatNumber(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == v.rounded() && Swift.abs(v) < 1e15 { return String(Int64(v)) }
    return String(format: "%.6g", v)
}

/// A tensor as nested brackets of ``formatNumber(_:)``: `[[1, 2], [3, 4]]`; a scalar as a number.
package func formatTensor(_ t: Tensor<Double>) -> String {
    // A scalar without copying its elements into an array: most nodes of a long chain are scalars.
    t.isScalar ? formatNumber(t.item) : nested(t.scalars, t.shape[...])
}

private func nested(_ values: [Double], _ shape: ArraySlice<Int>) -> String {
    guard let n = shape.first else { return formatNumber(values.first ?? 0) }
    let rest = shape.dropFirst()
    let stride = rest.reduce(1, *)
    let items = (0..<n).map { i in
        nested(Array(values[(i * stride)..<((i + 1) * stride)]), rest)
    }
    return "[" + items.joined(separator: ", ") + "]"
}

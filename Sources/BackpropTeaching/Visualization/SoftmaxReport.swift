import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

/// For each β, the softargmax vector exp(β e_i) / Σ_n exp(β e_n) and the
/// smooth maximum (1/β) log Σ_n exp(β e_n), both computed by the library's
/// ``softargmax(_:beta:axis:)`` and ``smoothMaximum(_:beta:axis:)``, with a
/// note on their limits as β grows (what libraries call "softmax" is
/// the softargmax; the smooth maximum is the homework's "softmax").
///
/// Throws a ``ValueError`` with the field ``ValueError/Field/values`` or
/// ``ValueError/Field/betas`` when there are no values, no β or a β of 0.
///
/// ```swift
/// print(try softmaxReport(values: [1, 2, 3], betas: [1, 10]))
/// ```
public func softmaxReport(values: [Double], betas: [Double]) throws -> String {
    guard !values.isEmpty else { throw ValueError(.values, "softmax: no values given") }
    guard !betas.isEmpty else { throw ValueError(.betas, "no β given") }
    if let zero = betas.first(where: { $0 == 0 || !$0.isFinite }) {
        throw ValueError(.betas, "β must be a finite number other than 0, got \(formatNumber(zero)) (the smooth maximum divides by β)")
    }
    let e = Tensor<Double>(values)
    let n = values.count
    let maxValue = values.max()!
    let winners = values.indices.filter { values[$0] == maxValue }

    var rows: [[String]] = [["β", "softargmax_β(e)", "smooth max (1/β) log Σ exp(β e_n)", "minus max(e)", "with 1/N inside the log"]]
    for beta in betas {
        let p = softargmax(e, beta: beta)
        let m = smoothMaximum(e, beta: beta).item
        let p4 = "[" + p.scalars.map { String(format: "%.4f", $0) }.joined(separator: ", ") + "]"
        // Fixed decimals: %g would print 3.0000045 as "3" and hide the gap to the max.
        rows.append([formatNumber(beta), p4, String(format: "%.6f", m), String(format: "%.3e", m - maxValue),
                     String(format: "%.6f", m - Foundation.log(Double(n)) / beta)])
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    var lines = ["e = \(formatTensor(e)), N = \(n), max(e) = \(formatNumber(maxValue)) at index \(winners.map(String.init).joined(separator: ", "))", ""]
    for (r, row) in rows.enumerated() {
        let cells = row.enumerated().map { c, s in c == row.count - 1 ? s : s + String(repeating: " ", count: widths[c] - s.count) }
        lines.append(cells.joined(separator: "  "))
        if r == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
    }
    let limit = winners.count == 1
        ? "the one-hot vector of index \(winners[0])"
        : "1/\(winners.count) on each of the tied maxima (indices \(winners.map(String.init).joined(separator: ", ")))"
    lines.append("")
    lines.append("As β grows, softargmax_β(e) tends to \(limit) (a soft argmax: what libraries call \"softmax\"), and (1/β) log Σ exp(β e_n) tends to max(e) = \(formatNumber(maxValue)) from above, within log(N)/β (a soft maximum; with the 1/N inside the log it is shifted down by log(N)/β).")
    return lines.joined(separator: "\n") + "\n"
}

extension ValueError.Field {
    /// The values e of ``softmaxReport(values:betas:)``.
    public static let values = ValueError.Field("values")
    /// The inverse temperatures β of ``softmaxReport(values:betas:)``.
    public static let betas = ValueError.Field("β")
}

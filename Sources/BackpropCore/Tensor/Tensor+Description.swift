import Foundation

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// PyTorch's repr: `tensor([[1., 2.],\n        [3., 4.]])`, with the
    /// dtype for `Double`, and `requires_grad`/`grad_fn` when set.
    ///
    /// ```swift
    /// print(Tensor<Float>([[1, 2], [3, 4.5]]))
    /// // tensor([[1.0000, 2.0000],
    /// //         [3.0000, 4.5000]])
    /// ```
    public var description: String {
        var suffix: [String] = []
        if count == 0 { suffix.append("size=(\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : ""))") }
        if Scalar.self == Double.self { suffix.append("dtype=torch.float64") }
        if let fn = handle.gradFn { suffix.append("grad_fn=<\(fn.name.prefix(1).uppercased() + fn.name.dropFirst())Backward>") }
        else if handle.requiresGrad { suffix.append("requires_grad=True") }
        let body = TensorFormatter(Array(UnsafeBufferPointer(start: base, count: count)).map(Double.init))
            .format(shape: shape, indent: 7)
        return "tensor(" + body + suffix.map { ", " + $0 }.joined() + ")"
    }

    /// The repr followed by the shape: `tensor([1., 2.]) shape=[2]`.
    public var debugDescription: String { description + " shape=\(shape)" }
}

/// PyTorch's number formatting: integers as `1.`, otherwise 4 decimals,
/// scientific notation when magnitudes span too much; long tensors elided.
struct TensorFormatter {
    let values: [Double]
    let mode: Mode
    let width: Int
    enum Mode { case integer, fixed, scientific }

    init(_ values: [Double]) {
        self.values = values
        let finite = values.filter { $0.isFinite }
        let nonzero = finite.map(Swift.abs).filter { $0 > 0 }
        if finite.allSatisfy({ $0 == $0.rounded() }) && (nonzero.max() ?? 0) < 1e8 {
            mode = .integer
        } else if let lo = nonzero.min(), let hi = nonzero.max(), hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
            mode = .scientific
        } else {
            mode = .fixed
        }
        var w = 0
        for v in values { w = Swift.max(w, Self.text(v, mode).count) }
        width = w
    }

    static func text(_ v: Double, _ mode: Mode) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        switch mode {
        case .integer: return String(format: "%.0f.", v)
        case .fixed: return String(format: "%.4f", v)
        case .scientific: return String(format: "%.4e", v)
        }
    }

    func format(shape: [Int], indent: Int) -> String {
        if shape.isEmpty { return Self.text(values.first ?? 0, mode) }
        return block(shape: shape[...], offset: 0, indent: indent + 1)
    }

    private func block(shape: ArraySlice<Int>, offset: Int, indent: Int) -> String {
        let n = shape.first!
        let rest = shape.dropFirst()
        let stride = rest.reduce(1, *)
        let summarize = values.count > 1000 && n > 6
        let shown: [Int?] = summarize ? Array(0..<3) + [nil] + Array(n - 3..<n) : Array(0..<n)
        if rest.isEmpty {
            let items = shown.map { i in i.map { pad(Self.text(values[offset + $0], mode)) } ?? "..." }
            return "[" + items.joined(separator: ", ") + "]"
        }
        let separator = "," + String(repeating: "\n", count: rest.count) + String(repeating: " ", count: indent)
        let items = shown.map { i in
            i.map { block(shape: rest, offset: offset + $0 * stride, indent: indent + 1) } ?? "..."
        }
        return "[" + items.joined(separator: separator) + "]"
    }

    private func pad(_ s: String) -> String { String(repeating: " ", count: Swift.max(0, width - s.count)) + s }
}

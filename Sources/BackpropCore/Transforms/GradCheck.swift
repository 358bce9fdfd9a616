import Foundation

/// The outcome of ``gradcheck(_:at:eps:atol:rtol:)``: whether autograd agrees
/// with central finite differences, and where it agrees least.
public struct GradCheckResult: CustomStringConvertible, Sendable {
    /// `true` when every element satisfies |analytic - numeric| <= atol + rtol |numeric|.
    public let passed: Bool
    /// The index of the input where agreement is worst.
    public let worstInput: Int
    /// The element of that input (row-major) where agreement is worst.
    public let worstElement: Int
    /// The output element (row-major) where agreement is worst.
    public let worstOutputElement: Int
    /// The autograd Jacobian entry at the worst element.
    public let analytic: Double
    /// The finite-difference Jacobian entry at the worst element.
    public let numeric: Double
    /// |analytic - numeric| / max(|numeric|, atol).
    public let relativeError: Double
    /// The largest |analytic - numeric| over all elements.
    public let maxAbsoluteError: Double

    /// One line: passed or FAILED, where the worst element is, both values and the errors.
    public var description: String {
        let head = passed ? "gradcheck passed" : "gradcheck FAILED"
        return "\(head): worst at input \(worstInput), element \(worstElement), output element \(worstOutputElement): analytic \(analytic), numeric \(numeric), relative error \(String(format: "%.3g", relativeError)), max abs error \(String(format: "%.3g", maxAbsoluteError))"
    }
}

/// Compares the Jacobian computed by autograd with central finite
/// differences, in `Double`, like `torch.autograd.gradcheck`:
///
///   numeric[i][j] = (f(x + eps e_j)[i] - f(x - eps e_j)[i]) / (2 eps)
///
/// ```swift
/// let r = gradcheck({ x in tanh(x[0]) * x[1] }, at: [a, b])
/// #expect(r.passed, "\(r)")
/// ```
public func gradcheck(_ f: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
                      eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3) -> GradCheckResult {
    // Analytic: one reverse pass per output element.
    let (output, analytic): (Tensor<Double>, [[Tensor<Double>]]) = enableGrad {
        let vars = inputs.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars).requiringGrad() }
        let y = f(vars)
        let rows = (0..<y.count).map { i in
            gradients(of: y, wrt: vars, seed: oneHot(i, y.shape), retainGraph: true)
        }
        return (y.detached(), rows)
    }
    var worst = (input: 0, element: 0, output: 0, analytic: 0.0, numeric: 0.0, score: -1.0, rel: 0.0)
    var maxAbs = 0.0
    var passed = true
    for (k, x) in inputs.enumerated() {
        for j in 0..<x.count {
            var plus = inputs.map { $0.detached() }, minus = plus
            plus[k] = x.scalarsChanged(at: j, by: eps)
            minus[k] = x.scalarsChanged(at: j, by: -eps)
            let yp = noGrad { f(plus) }.scalars, ym = noGrad { f(minus) }.scalars
            for i in 0..<output.count {
                let numeric = (yp[i] - ym[i]) / (2 * eps)
                let a = analytic[i][k].scalars[j]
                let err = Swift.abs(a - numeric)
                maxAbs = Swift.max(maxAbs, err.isNaN ? .infinity : err)
                let ok = err <= atol + rtol * Swift.abs(numeric)
                if !ok { passed = false }
                let score = err.isNaN ? .infinity : err / (atol + rtol * Swift.abs(numeric))
                if score > worst.score {
                    worst = (k, j, i, a, numeric, score, err / Swift.max(Swift.abs(numeric), atol))
                }
            }
        }
    }
    return GradCheckResult(passed: passed, worstInput: worst.input, worstElement: worst.element,
                           worstOutputElement: worst.output, analytic: worst.analytic, numeric: worst.numeric,
                           relativeError: worst.rel, maxAbsoluteError: maxAbs)
}

extension Tensor {
    func scalarsChanged(at index: Int, by delta: Scalar) -> Tensor {
        var copy = Tensor(shape: shape, scalars: scalars)
        copy.base[index] += delta
        return copy
    }
}

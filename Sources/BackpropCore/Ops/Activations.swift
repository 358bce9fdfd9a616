import RealModule

// Activation functions composed from primitives: none of them has gradient
// code of its own. Where PyTorch picks a derivative at a kink, the mask is
// chosen to match it (noted at each function).

/// Leaky ReLU: x for x > 0, else `negativeSlope * x`. Derivative 1 for
/// x > 0, else `negativeSlope` (also at 0, as PyTorch).
///
/// ```swift
/// leakyReLU(x, negativeSlope: 0.1)
/// ```
public func leakyReLU<S: TensorScalar>(_ x: Tensor<S>, negativeSlope: S = 0.01) -> Tensor<S> {
    let positive = x .> 0
    return x * (positive + (1 - positive) * negativeSlope)
}

/// How ``gelu(_:approximate:)`` computes Φ.
public enum GELUApproximation: String, Sendable, CaseIterable {
    /// x Φ(x) with Φ from erf.
    case none
    /// 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
    case tanh
}

/// The Gaussian error linear unit, GELU(x) = x Φ(x), where Φ is the standard
/// normal CDF: GELU'(x) = Φ(x) + x φ(x).
///
/// ```swift
/// gelu(x)                       // exact, erf
/// gelu(x, approximate: .tanh)   // PyTorch's approximate="tanh"
/// ```
public func gelu<S: TensorScalar>(_ x: Tensor<S>, approximate: GELUApproximation = .none) -> Tensor<S> {
    switch approximate {
    case .none:
        return x * 0.5 * (1 + erf(x * S(1 / 2.0.squareRoot())))
    case .tanh:
        let k = S((2 / Double.pi).squareRoot())
        return x * 0.5 * (1 + tanh((x + pow(x, 3) * 0.044715) * k))
    }
}

/// The exponential linear unit: x for x > 0, else α (eᕽ - 1).
public func elu<S: TensorScalar>(_ x: Tensor<S>, alpha: S = 1) -> Tensor<S> {
    let positive = x .> 0
    return x * positive + (1 - positive) * (exp(clamp(x, max: 0)) - 1) * alpha
}

/// SiLU (swish): x σ(x).
public func silu<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> { x * sigmoid(x) }

/// What libraries call softmax, the lecture's *softargmax*:
/// exp(x_i) / Σ_n exp(x_n) along `axis`, computed through a stable log-sum-exp.
///
/// ```swift
/// softmax(Tensor<Double>([10, 5]))   // [0.993307, 0.006693]
/// ```
public func softmax<S: TensorScalar>(_ x: Tensor<S>, axis: Int = -1) -> Tensor<S> {
    exp(logSoftmax(x, axis: axis))
}

/// log softmax along `axis`: x - log Σ exp(x).
public func logSoftmax<S: TensorScalar>(_ x: Tensor<S>, axis: Int = -1) -> Tensor<S> {
    x - x.logSumExp(axis: axis, keepDims: true)
}

/// the lecture's softargmax with inverse temperature β:
/// exp(β e_i) / Σ_n exp(β e_n). As β grows it tends to the one-hot argmax.
public func softargmax<S: TensorScalar>(_ x: Tensor<S>, beta: S = 1, axis: Int = -1) -> Tensor<S> {
    softmax(x * beta, axis: axis)
}

/// The smooth maximum (which the homework calls "softmax"):
/// (1/β) log Σ_n exp(β e_n). As β grows it tends to max(e).
public func smoothMaximum<S: TensorScalar>(_ x: Tensor<S>, beta: S = 1, axis: Int = -1) -> Tensor<S> {
    (x * beta).logSumExp(axis: axis) / beta
}

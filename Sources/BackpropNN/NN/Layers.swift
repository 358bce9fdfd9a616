import BackpropCore
// Layers without parameters: the identity, dropout, and a module for each
// activation function of Ops/Activations.swift (each is a thin shell over the
// function, so the module and the function can never disagree).

/// Returns its input unchanged (the homework's identity output g).
///
/// ```swift
/// Sequential<Float>(Linear(2, 3), ReLU(), Linear(3, 2), Identity())
/// ```
public final class Identity<Scalar: TensorScalar>: Module {
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer (it has no parameters).
    public init() {}
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x }
}

/// Inverted dropout: in training, each element is zeroed with probability p
/// and the rest are scaled by 1/(1 - p), so the expected value is unchanged;
/// in evaluation mode (``Module/eval()``) it is the identity.
///
/// ```swift
/// let drop = Dropout<Float>(probability: 0.5, seed: 7)
/// drop(x)          // about half zeros, the rest doubled
/// drop.eval()
/// drop(x) == x     // true
/// ```
public final class Dropout<Scalar: TensorScalar>: Module {
    /// The probability of zeroing an element.
    public let probability: Double
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// Draws the masks; seeded, so a run can be repeated.
    public var generator: SeededGenerator

    /// Dropout with masks from a generator seeded with `seed`.
    public init(probability: Double = 0.5, seed: UInt64) {
        precondition((0...1).contains(probability), "Dropout: probability must be in [0, 1], got \(probability)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    /// Dropout with masks from a generator seeded from the global one.
    public convenience init(probability: Double = 0.5) {
        self.init(probability: probability, seed: GlobalRandom.with { $0.next() })
    }

    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining, probability > 0 else { return x }
        let keep = Scalar(probability == 1 ? 0 : 1 / (1 - probability))
        var scalars = [Scalar](repeating: 0, count: x.count)
        for i in 0..<scalars.count where generator.nextUnit() >= probability { scalars[i] = keep }
        return x * Tensor(shape: x.shape, scalars: scalars)
    }
}

/// ReLU, optionally scaled: scale · max(x, 0). `ReLU(scale: 3)` is the
/// homework's "3 ReLU", whose local Jacobian is diag(3 · 1[x > 0]).
///
/// ```swift
/// ReLU<Double>(scale: 3)(Tensor([-1, 2]))   // [0, 6]
/// ```
public final class ReLU<Scalar: TensorScalar>: Module {
    /// The factor applied after the ReLU (3 for the homework's "3 ReLU").
    public let scale: Scalar
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// scale · max(x, 0).
    public init(scale: Scalar = 1) { self.scale = scale }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { scale == 1 ? relu(x) : relu(x, scale: scale) }
}

/// Leaky ReLU: x for x > 0, else `negativeSlope` · x (see ``leakyReLU(_:negativeSlope:)``).
///
/// ```swift
/// LeakyReLU<Float>(negativeSlope: 0.1)
/// ```
public final class LeakyReLU<Scalar: TensorScalar>: Module {
    /// The slope for x ≤ 0.
    public let negativeSlope: Scalar
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// Leaky ReLU with the given slope for x ≤ 0 (PyTorch's default 0.01).
    public init(negativeSlope: Scalar = 0.01) { self.negativeSlope = negativeSlope }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { leakyReLU(x, negativeSlope: negativeSlope) }
}

/// The hyperbolic tangent; local Jacobian diag(1 - tanh²(x)).
///
/// ```swift
/// Sequential<Float>(Linear(2, 4), Tanh(), Linear(4, 1), Sigmoid())
/// ```
public final class Tanh<Scalar: TensorScalar>: Module {
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer (it has no parameters).
    public init() {}
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { tanh(x) }
}

/// The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ); local Jacobian diag(σ(x)(1 - σ(x))).
///
/// ```swift
/// Sigmoid<Double>()(Tensor([0]))   // [0.5]
/// ```
public final class Sigmoid<Scalar: TensorScalar>: Module {
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer (it has no parameters).
    public init() {}
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { sigmoid(x) }
}

/// Softplus, (1/β) log(1 + e^(βx)), linear where βx > threshold, like PyTorch.
///
/// ```swift
/// Softplus<Float>(beta: 2)
/// ```
public final class Softplus<Scalar: TensorScalar>: Module {
    /// β, the sharpness: larger is closer to ReLU.
    public let beta: Scalar
    /// Where β x > threshold the output is x itself (no overflow).
    public let threshold: Scalar
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// Softplus with PyTorch's defaults β = 1, threshold 20.
    public init(beta: Scalar = 1, threshold: Scalar = 20) {
        self.beta = beta
        self.threshold = threshold
    }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { softplus(x, beta: beta, threshold: threshold) }
}

/// GELU, x Φ(x), exact or with the tanh approximation (see ``gelu(_:approximate:)``).
///
/// ```swift
/// GELU<Float>(approximate: .tanh)
/// ```
public final class GELU<Scalar: TensorScalar>: Module {
    /// `.none` (exact, with erf) or `.tanh`.
    public let approximate: GELUApproximation
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// GELU, exact by default.
    public init(approximate: GELUApproximation = .none) { self.approximate = approximate }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { gelu(x, approximate: approximate) }
}

/// ELU: x for x > 0, else α (eˣ - 1).
///
/// ```swift
/// ELU<Float>(alpha: 0.5)
/// ```
public final class ELU<Scalar: TensorScalar>: Module {
    /// α: the output tends to -α as x → -∞.
    public let alpha: Scalar
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// ELU with the given α.
    public init(alpha: Scalar = 1) { self.alpha = alpha }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { elu(x, alpha: alpha) }
}

/// SiLU (swish), x σ(x).
///
/// ```swift
/// SiLU<Float>()
/// ```
public final class SiLU<Scalar: TensorScalar>: Module {
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer (it has no parameters).
    public init() {}
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { silu(x) }
}

/// Softmax (the lecture's softargmax with β = 1) along `axis`.
///
/// ```swift
/// Softmax<Double>()(Tensor([10, 5]))   // [0.993307, 0.006693]
/// ```
public final class Softmax<Scalar: TensorScalar>: Module {
    /// The axis the probabilities sum over.
    public let axis: Int
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// Along `axis` (negative counts from the end).
    public init(axis: Int = -1) { self.axis = axis }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { softmax(x, axis: axis) }
}

/// Log-softmax along `axis`: x - log Σ exp(x), computed stably.
///
/// ```swift
/// LogSoftmax<Float>(axis: 1)
/// ```
public final class LogSoftmax<Scalar: TensorScalar>: Module {
    /// The axis the probabilities sum over.
    public let axis: Int
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// Along `axis` (negative counts from the end).
    public init(axis: Int = -1) { self.axis = axis }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { logSoftmax(x, axis: axis) }
}

/// the lecture's softargmax with inverse temperature β: exp(β xᵢ) / Σ exp(β xₙ);
/// tends to the one-hot argmax as β grows.
///
/// ```swift
/// SoftArgmax<Double>(beta: 10)(Tensor([1, 2]))   // ≈ [0.0000454, 0.9999546]
/// ```
public final class SoftArgmax<Scalar: TensorScalar>: Module {
    /// β, the inverse temperature.
    public let beta: Scalar
    /// The axis the probabilities sum over.
    /// The axis the probabilities sum over.
    public let axis: Int
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// Softargmax with inverse temperature β along `axis`.
    public init(beta: Scalar = 1, axis: Int = -1) {
        self.beta = beta
        self.axis = axis
    }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { softargmax(x, beta: beta, axis: axis) }
}

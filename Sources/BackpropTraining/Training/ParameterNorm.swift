import BackpropCore
import BackpropNN

/// The size of one parameter and of its gradient, as the L2 norm (the
/// square root of the sum of squares, `torch.linalg.vector_norm`).
///
/// ```swift
/// let norms = ParameterNorm.of(model)   // [ParameterNorm(name: "0.weight", weight: 3.1, gradient: 0.02), ...]
/// ```
public struct ParameterNorm: Sendable, Equatable {
    /// The parameter's state_dict name, e.g. `0.weight`.
    public var name: String
    /// ‖θ‖₂.
    public var weight: Double
    /// ‖dL/dθ‖₂ of the last backward pass; 0 when there is no gradient.
    public var gradient: Double

    /// A norm record: `ParameterNorm(name: "0.bias", weight: 1, gradient: 0.5)`.
    public init(name: String, weight: Double, gradient: Double) {
        self.name = name
        self.weight = weight
        self.gradient = gradient
    }

    /// The norms of every parameter of `model`, in state_dict order.
    public static func of<S: TensorScalar>(_ model: any Module<S>) -> [ParameterNorm] {
        model.namedParameters().map { p in
            ParameterNorm(name: p.name, weight: norm(p.tensor), gradient: p.tensor.grad.map(norm) ?? 0)
        }
    }

    static func norm<S: TensorScalar>(_ t: Tensor<S>) -> Double {
        t.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot()
    }
}

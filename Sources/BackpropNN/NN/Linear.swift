import BackpropCore
/// The affine map y = x Wᵀ + b (for one point, y = W x + b), with W of shape
/// [out, in] and b of shape [out], like `torch.nn.functional.linear`.
///
/// `x` is one point of shape [in] (result [out]) or a batch [..., in]
/// (result [..., out]). The product reads W in place as transposed, with no copy.
///
/// ```swift
/// let w: Tensor<Double> = [[1, 5, 7], [3, 2, 4]]
/// linear(Tensor([2, 10, 5]), weight: w, bias: Tensor([4, 8]))   // [91, 54]
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func linear<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil) -> Tensor<S> {
    if x.rank <= 2 { return Tensor.affine(x, weight: weight, bias: bias) }   // checks the shapes itself
    let outShape = ShapeRule.check { try ShapeRule.linear(input: x.shape, weight: weight.shape, bias: bias?.shape) }
    let rows = x.reshaped(to: [-1, weight.shape[1]])
    var y = Tensor.mm(rows, weight, transposeB: true)
    if let bias { y = y + bias }
    return y.reshaped(to: outShape)
}

/// A fully connected layer: y = W x + b, W of shape [out, in].
///
/// Initialised as PyTorch's `nn.Linear`: W and b uniform in
/// [-1/√in, 1/√in] (Kaiming-uniform with a = √5), W drawn first.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let layer = Linear<Float>(3, 2, generator: &rng)
/// let y = layer(Tensor([1, 2, 3]))          // shape [2]
/// let fixed = Linear(weight: Tensor<Double>([[1, 5, 7], [3, 2, 4]]), bias: Tensor([4, 8]))
/// ```
public final class Linear<Scalar: TensorScalar>: Module {
    /// [out, in].
    public var weight: Tensor<Scalar>
    /// [out], or `nil` for a layer without bias.
    public var bias: Tensor<Scalar>?
    public var isTraining = true

    /// The number of input features.
    public var inputSize: Int { weight.shape[1] }
    /// The number of output features.
    public var outputSize: Int { weight.shape[0] }

    /// A layer with PyTorch's default initialisation from `generator`.
    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, generator: inout SeededGenerator) {
        (weight, self.bias) = Self.initialParameters(inputSize, outputSize, bias: bias, generator: &generator)
    }

    /// A layer initialised from the global generator (see ``GlobalRandom``):
    /// after `GlobalRandom.seed(s)` it equals the layer made with `SeededGenerator(seed: s)`.
    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true) {
        (weight, self.bias) = GlobalRandom.with { Self.initialParameters(inputSize, outputSize, bias: bias, generator: &$0) }
    }

    private static func initialParameters(_ inputSize: Int, _ outputSize: Int, bias: Bool,
                                          generator: inout SeededGenerator) -> (Tensor<Scalar>, Tensor<Scalar>?) {
        precondition(inputSize >= 0 && outputSize >= 0, "Linear: sizes must not be negative, got \(inputSize) -> \(outputSize)")
        let bound = inputSize > 0 ? Scalar(1 / Double(inputSize).squareRoot()) : 0
        let w = Tensor<Scalar>.randomUniform([outputSize, inputSize], low: -bound, high: bound, generator: &generator)
        let b = bias ? Tensor<Scalar>.randomUniform([outputSize], low: -bound, high: bound, generator: &generator) : nil
        return (w.requiringGrad(), b?.requiringGrad())
    }

    /// A layer with the given values (copied; the copies require gradients).
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil) {
        _ = ShapeRule.check { try ShapeRule.linearParameters(weight: weight.shape, bias: bias?.shape) }
        self.weight = Tensor(shape: weight.shape, scalars: weight.scalars, requiresGrad: true)
        self.bias = bias.map { Tensor(shape: $0.shape, scalars: $0.scalars, requiresGrad: true) }
    }

    /// `x Wᵀ + b` over the last axis of `x` (`[..., in]` to `[..., out]`).
    ///
    /// ```swift
    /// let layer = Linear<Float>(4, 3)
    /// let y = layer(Tensor<Float>.zeros([8, 4]))   // shape [8, 3]; every row is the bias
    /// ```
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        linear(x, weight: weight, bias: bias)
    }
}

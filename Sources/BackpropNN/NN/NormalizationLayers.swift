import BackpropCore

// Normalization layers: batch norm with running statistics as buffers
// (train()/eval() switch between batch and running statistics), and layer
// norm. The math is in Ops/Normalization.swift.

/// Batch normalization with PyTorch's parameters, buffers and update rule;
/// ``BatchNorm1d`` and ``BatchNorm2d`` only differ in the input ranks they accept.
public class BatchNormBase<Scalar: TensorScalar>: Module {
    /// γ [C] (ones), or `nil` when not affine.
    public var weight: Tensor<Scalar>?
    /// β [C] (zeros), or `nil` when not affine.
    public var bias: Tensor<Scalar>?
    /// Running mean [C] (zeros), `nil` without running statistics.
    public let runningMean: Buffer<Scalar>?
    /// Running (unbiased) variance [C] (ones), `nil` without running statistics.
    public let runningVar: Buffer<Scalar>?
    /// Training batches seen (int64 in checkpoints), `nil` without running statistics.
    public let numBatchesTracked: Buffer<Scalar>?
    /// The number of channels C.
    public let numFeatures: Int
    /// Added to the variance.
    public let eps: Double
    /// Weight of the new batch in the running statistics; `nil`: a cumulative average.
    public let momentum: Double?
    /// Training mode: batch statistics (and running updates) rather than running statistics.
    public var isTraining = true
    let name: String
    let ranks: [Int]

    init(name: String, ranks: [Int], numFeatures: Int, eps: Double, momentum: Double?, affine: Bool, trackRunningStats: Bool) {
        precondition(numFeatures >= 1, "\(name): num_features must be positive, got \(numFeatures)")
        (self.name, self.ranks, self.numFeatures, self.eps, self.momentum) = (name, ranks, numFeatures, eps, momentum)
        weight = affine ? Tensor<Scalar>.ones([numFeatures]).requiringGrad() : nil
        bias = affine ? Tensor<Scalar>.zeros([numFeatures]).requiringGrad() : nil
        runningMean = trackRunningStats ? Buffer(name: "running_mean", .zeros([numFeatures])) : nil
        runningVar = trackRunningStats ? Buffer(name: "running_var", .ones([numFeatures])) : nil
        numBatchesTracked = trackRunningStats ? Buffer(name: "num_batches_tracked", Tensor(0), isInteger: true) : nil
    }

    /// Normalizes with batch statistics in training (updating the running
    /// ones) and with running statistics in evaluation, as PyTorch.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(ranks.contains(x.rank), "\(name): expected input of rank \(ranks.map(String.init).joined(separator: " or ")), got \(x.shape)")
        precondition(x.shape[1] == numFeatures, "\(name): input \(x.shape) has \(x.shape[1]) channels, expected \(numFeatures)")
        var factor = momentum ?? 0
        if isTraining, let counter = numBatchesTracked {
            counter.value = Tensor(counter.value.item + 1)
            if momentum == nil { factor = 1 / Double(counter.value.item) }
        }
        let useBatch = isTraining || runningMean == nil
        return batchNorm(x, runningMean: useBatch && !isTraining ? nil : runningMean?.value,
                         runningVar: useBatch && !isTraining ? nil : runningVar?.value,
                         weight: weight, bias: bias, training: useBatch, momentum: factor, eps: eps)
    }
}

/// Batch normalization over the channels of [N, C] or [N, C, L], like `torch.nn.BatchNorm1d`.
///
/// ```swift
/// let bn = BatchNorm1d<Float>(16)
/// let y = bn(Tensor<Float>.randomNormal([32, 16]))   // per-feature mean 0, variance 1
/// bn.eval()                                           // now uses running_mean / running_var
/// ```
public final class BatchNorm1d<Scalar: TensorScalar>: BatchNormBase<Scalar> {
    /// PyTorch's defaults: eps 1e-5, momentum 0.1, affine, running statistics.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        super.init(name: "BatchNorm1d", ranks: [2, 3], numFeatures: numFeatures, eps: eps, momentum: momentum,
                   affine: affine, trackRunningStats: trackRunningStats)
    }
}

/// Batch normalization over the channels of [N, C, H, W], like `torch.nn.BatchNorm2d`.
///
/// ```swift
/// let model = Sequential<Float>(Conv2d(1, 8, kernelSize: 3), BatchNorm2d(8), ReLU())
/// model.stateDict().keys.sorted()
/// // ["0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight"]
/// ```
public final class BatchNorm2d<Scalar: TensorScalar>: BatchNormBase<Scalar> {
    /// PyTorch's defaults: eps 1e-5, momentum 0.1, affine, running statistics.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        super.init(name: "BatchNorm2d", ranks: [4], numFeatures: numFeatures, eps: eps, momentum: momentum,
                   affine: affine, trackRunningStats: trackRunningStats)
    }
}

/// Layer normalization over the last axes, like `torch.nn.LayerNorm`:
/// weight (ones) and bias (zeros) of the normalized shape.
///
/// ```swift
/// let norm = LayerNorm<Float>([64])
/// let y = norm(Tensor<Float>.randomNormal([8, 10, 64]))
/// ```
public final class LayerNorm<Scalar: TensorScalar>: Module {
    /// The trailing shape normalized over.
    public let normalizedShape: [Int]
    /// Added to the variance.
    public let eps: Double
    /// γ (ones), `nil` without elementwise affine.
    public var weight: Tensor<Scalar>?
    /// β (zeros), `nil` without elementwise affine or bias.
    public var bias: Tensor<Scalar>?
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true

    /// PyTorch's defaults: eps 1e-5, elementwise affine with bias.
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 >= 1 },
                     "LayerNorm: normalized shape must be non-empty and positive, got \(normalizedShape)")
        (self.normalizedShape, self.eps) = (normalizedShape, eps)
        weight = elementwiseAffine ? Tensor<Scalar>.ones(normalizedShape).requiringGrad() : nil
        self.bias = elementwiseAffine && bias ? Tensor<Scalar>.zeros(normalizedShape).requiringGrad() : nil
    }

    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        layerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}

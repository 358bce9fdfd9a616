// Batch and layer normalization, composed from the primitives (mean, sub,
// mul, sqrt, div), so they carry no gradient code: the gradient through
// the batch statistics comes from the ops they are made of.

/// Batch normalization over the channel axis 1 of x [N, C], [N, C, L] or
/// [N, C, H, W], like `torch.nn.functional.batch_norm`:
///
///              x - E[x]
///   y = ------------------- · weight + bias
///        sqrt(Var[x] + eps)
///
/// In training, E and Var are the batch's (biased variance) and the running
/// statistics, when given, are updated in place without a gradient:
/// running = (1 - momentum) · running + momentum · batch statistic (the
/// variance unbiased, n/(n-1)). In evaluation the running statistics are used.
///
/// ```swift
/// var mean = Tensor<Float>.zeros([16]), variance = Tensor<Float>.ones([16])
/// let y = batchNorm(x, runningMean: mean, runningVar: variance, training: true)
/// ```
public func batchNorm<S: TensorScalar>(_ x: Tensor<S>, runningMean: Tensor<S>?, runningVar: Tensor<S>?,
                                       weight: Tensor<S>? = nil, bias: Tensor<S>? = nil, training: Bool = false,
                                       momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor<S> {
    precondition(x.rank >= 2, "batch_norm: input must be [N, C, ...], got \(x.shape)")
    let c = x.shape[1]
    for (name, t) in [("running_mean", runningMean), ("running_var", runningVar), ("weight", weight), ("bias", bias)] {
        if let t { precondition(t.shape == [c], "batch_norm: \(name) shape \(t.shape) does not match \(c) channels of input \(x.shape)") }
    }
    var statShape = [Int](repeating: 1, count: x.rank)
    statShape[1] = c
    let axes = [0] + Array(2..<x.rank)
    let mean: Tensor<S>, variance: Tensor<S>
    if training {
        let n = x.count / Swift.max(c, 1)
        precondition(n > 1, "batch_norm: expected more than 1 value per channel when training, got input \(x.shape)")
        mean = x.mean(axes: axes, keepDims: true)
        let centered = x - mean
        variance = (centered * centered).mean(axes: axes, keepDims: true)
        if let runningMean, let runningVar {
            let m = S(momentum), unbias = S(Double(n) / Double(n - 1))
            noGrad {
                let newMean = runningMean * (1 - m) + mean.detached().reshaped(to: [c]) * m
                let newVar = runningVar * (1 - m) + variance.detached().reshaped(to: [c]) * (m * unbias)
                newMean.withUnsafeBufferPointer { src in runningMean.updateInPlace { dst, k in dst.update(from: src.baseAddress!, count: k) } }
                newVar.withUnsafeBufferPointer { src in runningVar.updateInPlace { dst, k in dst.update(from: src.baseAddress!, count: k) } }
            }
        }
        var y = centered / sqrt(variance + S(eps))
        if let weight { y = y * weight.reshaped(to: statShape) }
        if let bias { y = y + bias.reshaped(to: statShape) }
        return y
    }
    guard let runningMean, let runningVar else {
        preconditionFailure("batch_norm: running_mean and running_var are needed in evaluation mode")
    }
    mean = runningMean.reshaped(to: statShape)
    variance = runningVar.reshaped(to: statShape)
    var y = (x - mean) / sqrt(variance + S(eps))
    if let weight { y = y * weight.reshaped(to: statShape) }
    if let bias { y = y + bias.reshaped(to: statShape) }
    return y
}

/// Layer normalization over the last axes (those of `normalizedShape`),
/// like `torch.nn.functional.layer_norm`: each sample's slice is shifted to
/// mean 0 and scaled to variance 1 (biased), then multiplied by `weight` and
/// shifted by `bias` (both of shape `normalizedShape`) when given.
///
/// ```swift
/// let y = layerNorm(x, normalizedShape: [64])   // x: [..., 64]
/// ```
public func layerNorm<S: TensorScalar>(_ x: Tensor<S>, normalizedShape: [Int], weight: Tensor<S>? = nil,
                                       bias: Tensor<S>? = nil, eps: Double = 1e-5) -> Tensor<S> {
    let k = normalizedShape.count
    precondition(k >= 1 && x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
                 "layer_norm: input \(x.shape) does not end with normalized shape \(normalizedShape)")
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let t { precondition(t.shape == normalizedShape, "layer_norm: \(name) shape \(t.shape) differs from normalized shape \(normalizedShape)") }
    }
    let axes = Array((x.rank - k)..<x.rank)
    let centered = x - x.mean(axes: axes, keepDims: true)
    let variance = (centered * centered).mean(axes: axes, keepDims: true)
    var y = centered / sqrt(variance + S(eps))
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
}

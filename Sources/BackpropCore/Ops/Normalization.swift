// Batch and layer normalization. Layer norm and batch norm in evaluation are
// composed from the primitives (mean, sub, mul, sqrt, div) and carry no
// gradient code. Batch norm in training, the hot op of a CNN's step, is one
// node (`Tensor.batchNormTraining`) with its vjp next to it: two passes over
// x forward, two over g backward, where the composite made about twenty.

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
    let mean: Tensor<S>, variance: Tensor<S>
    if training {
        // The composite this node replaces (and whose values it equals up to rounding):
        //   mean = x.mean(axes), centered = x - mean, variance = (centered²).mean(axes),
        //   y = centered / sqrt(variance + eps) · weight + bias
        let n = x.count / Swift.max(c, 1)
        precondition(n > 1, "batch_norm: expected more than 1 value per channel when training, got input \(x.shape)")
        let (y, batchMean, batchVariance) = Tensor.batchNormTraining(x, weight: weight, bias: bias, eps: eps)
        if let runningMean, let runningVar {
            let m = S(momentum), unbias = S(Double(n) / Double(n - 1))
            runningMean.updateInPlace { dst, k in for j in 0..<k { dst[j] = dst[j] * (1 - m) + batchMean[j] * m } }
            runningVar.updateInPlace { dst, k in for j in 0..<k { dst[j] = dst[j] * (1 - m) + batchVariance[j] * (m * unbias) } }
        }
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

extension Tensor {
    /// Batch normalization with the batch's statistics, over axis 1 of x [N, C, ...], as one node;
    /// returns y and the per-channel mean and biased variance (for the running statistics).
    /// With M = N · (spatial size), x̂ = (x - mean) / σ, σ = sqrt(var + eps), γ = weight:
    ///
    ///   dx = γ / σ · (g - mean(g) - x̂ · mean(g x̂)),   dγ = Σ g x̂,   dβ = Σ g
    ///
    /// (means and sums per channel). When a graph of the backward pass is recorded
    /// (`createGraph`) the same formula runs in Tensor ops, so it can be differentiated again.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package static func batchNormTraining(_ x: Tensor, weight: Tensor?, bias: Tensor?,
                                          eps: Double) -> (Tensor, mean: [Scalar], variance: [Scalar]) {
        let (n, c) = (x.shape[0], x.shape[1])
        let spatial = x.count / Swift.max(n * c, 1)
        let m = Scalar(n * spatial)
        var mean = [Scalar](repeating: 0, count: c), variance = [Scalar](repeating: 0, count: c)
        var invStd = [Scalar](repeating: 0, count: c)
        let xp = x.base
        let storage = TensorStorage<Scalar>.make(uninitializedCount: x.count)
        let yp = storage.base
        // Channels are independent: split over the threads for large inputs (same values on any count).
        let threads = x.count >= 1 << 16 ? Parallelism.threadCount : 1
        mean.withUnsafeMutableBufferPointer { meanP in
            variance.withUnsafeMutableBufferPointer { varP in
                invStd.withUnsafeMutableBufferPointer { invP in
                    parallelFor(c, threads: threads) { k in
                        var sum: Scalar = 0
                        for i in 0..<n { sum += Kernels.sum(xp + (i * c + k) * spatial, spatial) }
                        let mu = sum / m
                        var squares: Scalar = 0
                        for i in 0..<n { squares += Kernels.squaredDeviation(xp + (i * c + k) * spatial, mu, spatial) }
                        meanP[k] = mu
                        varP[k] = squares / m
                        invP[k] = 1 / (varP[k] + Scalar(eps)).squareRoot()
                        let a = invP[k] * (weight.map { $0.base[k] } ?? 1)
                        let b = (bias.map { $0.base[k] } ?? 0) - mu * a
                        for i in 0..<n { Kernels.affine(xp + (i * c + k) * spatial, a, b, yp + (i * c + k) * spatial, spatial) }
                    }
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let hasWeight = weight != nil, hasBias = bias != nil
        let shape = x.shape
        var statShape = [Int](repeating: 1, count: x.rank)
        statShape[1] = c
        let axes = [0] + Array(2..<x.rank)
        let y = record("batch_norm", inputs, storage, shape: shape) { g, t, _ in
            let x = t[0]
            let w: Tensor? = hasWeight ? t[1] : nil
            let needs = t.map(\.requiresGrad)
            if GradMode.isEnabled {
                let centered = x - x.mean(axes: axes, keepDims: true)
                let sigma = sqrt((centered * centered).mean(axes: axes, keepDims: true) + Scalar(eps))
                let xHat = centered / sigma
                let gw = w.map { g * $0.reshaped(to: statShape) } ?? g
                let dx = (gw - gw.mean(axes: axes, keepDims: true) - xHat * (gw * xHat).mean(axes: axes, keepDims: true)) / sigma
                var grads: [Tensor?] = [needs[0] ? dx : nil]
                if hasWeight { grads.append(needs[1] ? (g * xHat).sum(axes: axes).reshaped(to: [c]) : nil) }
                if hasBias { grads.append(needs[t.count - 1] ? g.sum(axes: axes).reshaped(to: [c]) : nil) }
                return grads
            }
            let gp = g.base
            var sumG = [Scalar](repeating: 0, count: c), sumGXHat = [Scalar](repeating: 0, count: c)
            let dx = needs[0] ? TensorStorage<Scalar>.make(uninitializedCount: x.count) : nil
            sumG.withUnsafeMutableBufferPointer { sumGP in
                sumGXHat.withUnsafeMutableBufferPointer { sumGXP in
                    parallelFor(c, threads: threads) { k in
                        var sg: Scalar = 0, sgx: Scalar = 0
                        for i in 0..<n {
                            let o = (i * c + k) * spatial
                            let (a, b) = Kernels.sumAndDot(gp + o, xp + o, spatial)
                            sg += a; sgx += b
                        }
                        sumGP[k] = sg
                        sumGXP[k] = (sgx - mean[k] * sg) * invStd[k]   // Σ g x̂ = (Σ g x - μ Σ g) / σ
                        guard let dx else { return }
                        let gamma = w.map { $0.base[k] } ?? 1
                        // dx = γ/σ · g - γ/σ · Σg/M - γ/σ · x̂ · Σgx̂/M, with x̂ = (x - μ)/σ:
                        // dx = p · g + q · x + r
                        let p = gamma * invStd[k]
                        let q = -p * invStd[k] * sumGXP[k] / m
                        let r = -p * sg / m - q * mean[k]
                        for i in 0..<n {
                            let o = (i * c + k) * spatial
                            Kernels.linearCombination(gp + o, p, xp + o, q, r, dx.base + o, spatial)
                        }
                    }
                }
            }
            var grads: [Tensor?] = [dx.map { Tensor(storage: $0, shape: shape) }]
            if hasWeight { grads.append(needs[1] ? Tensor(shape: [c], scalars: sumGXHat) : nil) }
            if hasBias { grads.append(needs[t.count - 1] ? Tensor(shape: [c], scalars: sumG) : nil) }
            return grads
        }
        return (y, mean, variance)
    }
}

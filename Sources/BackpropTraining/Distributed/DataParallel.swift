import BackpropCore
import BackpropNN
import BackpropData
/// Replaces each parameter's gradient by its mean over the ranks of `group`,
/// as PyTorch's `DistributedDataParallel` does after `backward()`: every
/// gradient goes into one flat buffer, that buffer takes one all-reduce (sum),
/// and the sum is divided by `group.size`. A parameter without a gradient
/// counts as zero. On a single-process group this does nothing.
///
/// When every rank's loss is a mean over an equal share of the batch, the
/// result is the gradient of the mean loss over the whole (global) batch.
///
/// ```swift
/// optimizer.zeroGrad()
/// loss(model(x), y).backward()
/// try averageGradients(of: model, in: group)
/// optimizer.step()
/// ```
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func averageGradients<Scalar: TensorScalar>(of model: any Module<Scalar>, in group: ProcessGroup) throws(DistributedError) {
    guard group.isDistributed else { return }
    _ = try reduceGradients(model.parameters(), in: group, scaleBefore: 1, scaleAfter: 1 / Scalar(group.size))
}

/// Copies rank `root`'s parameter values into the model of every rank, in
/// place (an optimizer holding the parameters sees them), with one broadcast.
/// PyTorch's `DistributedDataParallel` does this when it wraps a model. On a
/// single-process group this does nothing.
///
/// ```swift
/// let model = spec.makeModel(seed: UInt64(group.rank))   // even if the ranks start differently,
/// try broadcastParameters(of: model, in: group)          // they train the same model from here
/// ```
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func broadcastParameters<Scalar: TensorScalar>(of model: any Module<Scalar>, from root: Int = 0,
                                                      in group: ProcessGroup) throws(DistributedError) {
    guard group.isDistributed else { return }
    let parameters = model.parameters()
    var flat = [Scalar]()
    flat.reserveCapacity(parameters.reduce(0) { $0 + $1.count })
    for p in parameters { p.withUnsafeBufferPointer { flat.append(contentsOf: $0) } }
    try flat.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try group.broadcast(b, from: root) }
    var offset = 0
    for p in parameters {
        flat.withUnsafeBufferPointer { src in
            p.updateInPlace { dst, n in dst.update(from: src.baseAddress! + offset, count: n) }
        }
        offset += p.count
    }
}

/// One all-reduce (sum) of every parameter's gradient, each multiplied by
/// `scaleBefore`, followed by `extras` in the same buffer; each parameter's
/// gradient becomes the sum times `scaleAfter`. Returns the summed extras.
///
/// Fresh gradient tensors are written: a gradient's storage may be shared
/// (the vjp of `a + b` returns one tensor for both), so it is never changed in place.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func reduceGradients<Scalar: TensorScalar>(_ parameters: [Tensor<Scalar>], in group: ProcessGroup,
                                           scaleBefore: Scalar, scaleAfter: Scalar,
                                           extras: [Scalar] = []) throws(DistributedError) -> [Scalar] {
    let total = parameters.reduce(0) { $0 + $1.count }
    return try group.withScratch(count: total + extras.count, of: Scalar.self) { (f) throws(DistributedError) in
        var offset = 0
        for p in parameters {
            if let g = p.grad {
                g.withUnsafeBufferPointer { src in
                    for i in 0..<src.count { f[offset + i] = src[i] * scaleBefore }
                }
            } else {
                (f.baseAddress! + offset).update(repeating: 0, count: p.count)
            }
            offset += p.count
        }
        for (i, e) in extras.enumerated() { f[total + i] = e }
        try group.allReduce(f, .sum)
        offset = 0
        for p in parameters {
            let grad = Tensor<Scalar>.zeros(p.shape)
            grad.updateInPlace { out, n in
                for i in 0..<n { out[i] = f[offset + i] * scaleAfter }
            }
            p.grad = grad
            offset += p.count
        }
        return Array(f[total...])
    }
}

import Backprop

/// The `tiny` network's training step written op by op, as a user of the
/// library writes it in a package of their own: plain tensors for the
/// parameters, `matmul` and `+` for each layer, `relu`, `mseLoss`, `zeroGrad`,
/// `backward`, and the SGD update by hand with `addInPlace`. This module sees
/// public API only, so `backprop bench --workload tiny-ops` times a step as a
/// user gets it, next to the same step through `Linear` and `SGD` (`tiny`).
///
/// The weights are stored [in, out], so that a layer is `matmul(h, w) + b`
/// (x W + b) with no transpose; they hold the values `Linear` draws, so the
/// network computes what the `Sequential` built from the same generator does.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let net = OpByOpNetwork(sizes: [3, 32, 2], reluScale: 3, generator: &rng)
/// let x = Tensor<Float>.randomNormal([1, 3], generator: &rng)
/// let y = Tensor<Float>.randomNormal([1, 2], generator: &rng)
/// let loss = net.step(x, y, learningRate: 0.01)
/// ```
public final class OpByOpNetwork {
    /// Each layer's weight, [in, out]: the transpose of `Linear.weight`.
    public let weights: [Tensor<Float>]
    /// Each layer's bias, [out].
    public let biases: [Tensor<Float>]
    /// The factor of the hidden ReLUs (3 for the homework's "3 ReLU").
    public let reluScale: Float

    /// Parameters drawn as `Linear` draws them (W [out, in], then b, uniform
    /// in ±1/√in), W stored transposed.
    public init(sizes: [Int], reluScale: Float, generator: inout SeededGenerator) {
        precondition(sizes.count >= 2, "OpByOpNetwork: needs at least two layer sizes, got \(sizes)")
        var weights: [Tensor<Float>] = []
        var biases: [Tensor<Float>] = []
        for i in 0..<(sizes.count - 1) {
            let bound = Float(1 / Double(sizes[i]).squareRoot())
            let w = Tensor<Float>.randomUniform([sizes[i + 1], sizes[i]], low: -bound, high: bound, generator: &generator)
            weights.append(w.transposed().detached().requiringGrad())
            biases.append(Tensor<Float>.randomUniform([sizes[i + 1]], low: -bound, high: bound,
                                                      generator: &generator).requiringGrad())
        }
        (self.weights, self.biases, self.reluScale) = (weights, biases, reluScale)
    }

    /// The network's output for `x` of shape [batch, in].
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        var h = x
        for i in weights.indices {
            h = matmul(h, weights[i]) + biases[i]
            if i < weights.count - 1 { h = relu(h, scale: reluScale) }
        }
        return h
    }

    /// One step: forward, summed squared error, zero the gradients, backward,
    /// then p ← p - lr ∂L/∂p for every parameter. Returns the loss.
    @discardableResult
    public func step(_ x: Tensor<Float>, _ y: Tensor<Float>, learningRate: Float) -> Float {
        let loss = mseLoss(self(x), y, reduction: .sum)
        for p in weights + biases { p.zeroGrad() }
        loss.backward()
        for p in weights + biases { p.addInPlace(p.grad!, alpha: -learningRate) }
        return loss.item
    }
}

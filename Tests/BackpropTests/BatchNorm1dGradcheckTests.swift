import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN

/// BatchNorm1d on sequences, [N, C, L]: statistics over the batch and the length, per channel.
@Suite("BatchNorm1d on [N, C, L]: gradcheck in Double")
struct BatchNorm1dGradcheckTests {
    /// f(x) · r summed with a fixed random r: one reverse pass checks the whole vjp.
    func projected(_ y: Tensor<Double>, seed: UInt64) -> Tensor<Double> { (y * randn(y.shape, seed: seed)).sum() }

    @Test func trainingAndEval() {
        let x = randn([4, 3, 5], seed: 90), w = randn([3], seed: 91), b = randn([3], seed: 92)
        expectGradcheck("batch_norm 1d [N, C, L] training", [x, w, b]) {
            projected(batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true), seed: 93)
        }
        // An odd length and a batch of 2: few values per channel.
        expectGradcheck("batch_norm 1d [2, 2, 3] training, no affine", [randn([2, 2, 3], seed: 94)]) {
            projected(batchNorm($0[0], runningMean: nil, runningVar: nil, training: true), seed: 95)
        }
        let rm = randn([3], seed: 96), rv = abs(randn([3], seed: 97)) + 0.5
        expectGradcheck("batch_norm 1d [N, C, L] eval", [x, w, b]) {
            projected(batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2]), seed: 98)
        }
        // The forward is the definition: per channel over axes 0 and 2, biased variance, eps 1e-5.
        let y = batchNorm(x, runningMean: nil, runningVar: nil, training: true)
        let centered = x - x.mean(axes: [0, 2], keepDims: true)
        expectClose(y, centered / sqrt((centered * centered).mean(axes: [0, 2], keepDims: true) + 1e-5), rtol: 1e-12, atol: 1e-12)
    }
}

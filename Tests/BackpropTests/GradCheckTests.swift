import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Every differentiable op against central finite differences in Double.
@Suite("gradcheck of every op")
struct GradCheckTests {
    let a = randn([3, 4], seed: 101)
    let b = randn([3, 4], seed: 102)
    let positive = abs(randn([3, 4], seed: 103)) + 0.5
    /// Away from kinks (|x| > 0.1), so finite differences are meaningful.
    let offKink = randn([3, 4], seed: 104).scalars.map { $0 + ($0 >= 0 ? 0.1 : -0.1) }

    var k: Tensor<Double> { Tensor(shape: [3, 4], scalars: offKink) }

    @Test func arithmetic() {
        expectGradcheck("add", [a, b]) { $0[0] + $0[1] }
        expectGradcheck("sub", [a, b]) { $0[0] - $0[1] }
        expectGradcheck("mul", [a, b]) { $0[0] * $0[1] }
        expectGradcheck("div", [a, positive]) { $0[0] / $0[1] }
        expectGradcheck("neg", [a]) { -$0[0] }
        expectGradcheck("scalar ops", [a]) { 2 - $0[0] * 3 + 1 / ($0[0].squared() + 1) }
        expectGradcheck("pow tensor", [positive, b]) { pow($0[0], $0[1]) }
        expectGradcheck("pow scalar", [positive]) { pow($0[0], 2.5) }
        expectGradcheck("pow integer of negatives", [a]) { pow($0[0], 3) + pow($0[0], Tensor(2)) }
        expectGradcheck("square", [a]) { $0[0].squared() }
        expectGradcheck("maximum", [k, b]) { maximum($0[0], $0[1]) }
        expectGradcheck("minimum", [k, b]) { minimum($0[0], $0[1]) }
    }

    @Test func elementwiseFunctions() {
        expectGradcheck("exp", [a]) { exp($0[0]) }
        expectGradcheck("log", [positive]) { log($0[0]) }
        expectGradcheck("sqrt", [positive]) { sqrt($0[0]) }
        expectGradcheck("abs", [k]) { abs($0[0]) }
        expectGradcheck("sign", [k]) { sign($0[0]) * $0[0] }
        expectGradcheck("tanh", [a]) { tanh($0[0]) }
        expectGradcheck("sigmoid", [a]) { sigmoid($0[0]) }
        expectGradcheck("relu", [k]) { relu($0[0]) }
        expectGradcheck("scaled relu", [k]) { relu($0[0], scale: 3) }
        expectClose(relu(k, scale: 3), relu(k) * 3)
        expectGradcheck("sin", [a]) { sin($0[0]) }
        expectGradcheck("cos", [a]) { cos($0[0]) }
        expectGradcheck("erf", [a]) { erf($0[0]) }
        expectGradcheck("softplus", [a]) { softplus($0[0], beta: 2) }
        expectGradcheck("clamp", [k]) { clamp($0[0], min: -0.05, max: 0.05) + clamp($0[0] * 0.1, min: -0.5, max: 0.5) }
    }

    @Test func activations() {
        expectGradcheck("leakyReLU", [k]) { leakyReLU($0[0], negativeSlope: 0.1) }
        expectGradcheck("gelu", [a]) { gelu($0[0]) }
        expectGradcheck("gelu tanh", [a]) { gelu($0[0], approximate: .tanh) }
        expectGradcheck("elu", [k]) { elu($0[0], alpha: 0.7) }
        expectGradcheck("silu", [a]) { silu($0[0]) }
        expectGradcheck("softmax", [a]) { softmax($0[0], axis: -1) }
        expectGradcheck("softmax axis 0", [a]) { softmax($0[0], axis: 0) }
        expectGradcheck("logSoftmax", [a]) { logSoftmax($0[0]) }
        expectGradcheck("softargmax", [a]) { softargmax($0[0], beta: 3) }
        expectGradcheck("smoothMaximum", [a]) { smoothMaximum($0[0], beta: 2) }
    }

    @Test func reductions() {
        expectGradcheck("sum", [a]) { $0[0].sum() }
        expectGradcheck("sum axis", [a]) { $0[0].sum(axis: 1, keepDims: true) }
        expectGradcheck("sum axes", [randn([2, 3, 4], seed: 5)]) { $0[0].sum(axes: [0, 2]) }
        expectGradcheck("mean", [a]) { $0[0].mean(axis: 0) }
        expectGradcheck("max", [a]) { $0[0].max(axis: 1) }
        expectGradcheck("min", [a]) { $0[0].min(axis: 0, keepDims: true) }
        expectGradcheck("max all", [a]) { $0[0].max() }
        expectGradcheck("logSumExp", [a]) { $0[0].logSumExp(axis: 1) }
        expectGradcheck("sum(toShape:)", [a]) { $0[0].sum(toShape: [1, 4]) }
        expectGradcheck("expanded", [randn([3, 1], seed: 6)]) { $0[0].expanded(to: [2, 3, 4]) }
    }

    @Test func movement() {
        let c = randn([2, 3, 4], seed: 7)
        expectGradcheck("reshape", [a]) { $0[0].reshaped(to: [4, 3]) * Tensor.arange(3) }
        expectGradcheck("permute", [c]) { $0[0].permuted([2, 0, 1]) * Tensor.arange(3) }
        expectGradcheck("transpose", [a]) { $0[0].T * Tensor.arange(3) }
        expectGradcheck("squeeze/unsqueeze", [a]) { $0[0].unsqueezed(axis: 1).squeezed(axis: 1) * Tensor.arange(4) }
        expectGradcheck("slice", [a]) { $0[0].sliced(axis: 1, 1..<3) * 2 }
        expectGradcheck("index", [a]) { $0[0][1] * $0[0][2] }
        expectGradcheck("concatenate", [a, b]) { Tensor.concatenated([$0[0], $0[1] * 2], axis: 1) }
        expectGradcheck("stack", [a, b]) { Tensor.stacked([$0[0], $0[1]], axis: 2).squared() }
        expectGradcheck("gather", [a]) { $0[0].gathered(classIndices: [3, 0, 2]) * Tensor([1, 2, 3]) }
        // The internal inverses that slice and gather use as their vjps.
        expectGradcheck("pad", [a]) { $0[0].padded(into: [3, 7], axis: 1, at: 2) * Tensor.arange(7) }
        expectGradcheck("scatter", [randn([3], seed: 14)]) { $0[0].scattered(into: [3, 4], classIndices: [1, 3, 0]) * Tensor.arange(4) }
    }

    @Test func matrixProducts() {
        let m = randn([4, 5], seed: 8), v = randn([4], seed: 9), batch = randn([2, 3, 4], seed: 10)
        expectGradcheck("matmul 2x2", [a, m]) { matmul($0[0], $0[1]) }
        expectGradcheck("matmul 2x1", [a, v]) { matmul($0[0], $0[1]) }
        expectGradcheck("matmul 1x2", [v, m]) { matmul($0[0], $0[1]) }
        expectGradcheck("matmul 1x1", [v, v * 2]) { matmul($0[0], $0[1]) }
        expectGradcheck("matmul batched x 2-D", [batch, m]) { matmul($0[0], $0[1]) }
        expectGradcheck("matmul batched x batched", [batch, randn([2, 4, 3], seed: 11)]) { matmul($0[0], $0[1]) }
        for (ta, tb) in [(false, true), (true, false), (true, true)] {
            let x = ta ? randn([4, 3], seed: 12) : randn([3, 4], seed: 12)
            let y = tb ? randn([5, 4], seed: 13) : randn([4, 5], seed: 13)
            expectGradcheck("mm \(ta) \(tb)", [x, y]) { Tensor.mm($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
    }

    @Test func secondOrderThroughEveryKindOfOp() {
        // The gradient of a gradient: vjps are Tensor ops, so they are gradchecked too.
        expectGradcheck("grad of grad", [a, b]) { t in
            enableGrad {
                // Under gradcheck's finite differences the inputs are plain values: make x a variable.
                let x = t[0].requiresGrad ? t[0] : t[0].detached().requiringGrad()
                let y = (tanh(x) * t[1] + exp(x * 0.5) * sigmoid(x)).sum() + softmax(x).max(axis: 1).sum()
                return gradients(of: y, wrt: [x], createGraph: true)[0]
            }
        }
    }
}

extension GradCheckTests {
    @Test func fusedOps() {
        let x = randn([5, 3], seed: 201), w = randn([4, 3], seed: 202), b = randn([4], seed: 203)
        expectGradcheck("affine", [x, w, b]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) }
        expectGradcheck("affine without bias", [x, w]) { Tensor.affine($0[0], weight: $0[1], bias: nil) }
        expectGradcheck("affine of a vector", [randn([3], seed: 204), w, b]) { Tensor.affine($0[0], weight: $0[1], bias: $0[2]) }
        expectClose(Tensor.affine(x, weight: w, bias: b), matmul(x, w.T) + b, rtol: 1e-12)
        expectGradcheck("affine, second order", [x, w, b]) { t in
            enableGrad {
                let xv = t[0].requiresGrad ? t[0] : t[0].detached().requiringGrad()
                let y = tanh(Tensor.affine(xv, weight: t[1], bias: t[2])).sum()
                return gradients(of: y, wrt: [xv], createGraph: true)[0]
            }
        }
    }
}

extension GradCheckTests {
    @Test func fusedLosses() {
        let x = randn([5, 3], seed: 211), y = randn([5, 3], seed: 212)
        for mean in [true, false] {
            expectGradcheck("squaredError mean=\(mean)", [x, y]) { Tensor.squaredError($0[0], $0[1], mean: mean) }
            expectClose(Tensor.squaredError(x, y, mean: mean), mean ? (x - y).squared().mean() : (x - y).squared().sum(), rtol: 1e-12)
            expectGradcheck("crossEntropy fused mean=\(mean)", [x]) { Tensor.crossEntropyIndices($0[0], [2, 0, 1, 1, 2], mean: mean) * 3 }
            let composite = -logSoftmax(x).gathered(classIndices: [2, 0, 1, 1, 2])
            expectClose(Tensor.crossEntropyIndices(x, [2, 0, 1, 1, 2], mean: mean), mean ? composite.mean() : composite.sum(), rtol: 1e-12)
        }
        // The kernel path and the Tensor-op path of the backward pass agree, and the latter differentiates again.
        expectGradcheck("crossEntropy fused, second order", [x]) { t in
            enableGrad {
                let v = t[0].requiresGrad ? t[0] : t[0].detached().requiringGrad()
                return gradients(of: Tensor.crossEntropyIndices(v, [0, 1, 2, 0, 1], mean: true), wrt: [v], createGraph: true)[0]
            }
        }
        let v = x.detached().requiringGrad()
        Tensor.crossEntropyIndices(v, [0, 1, 2, 0, 1], mean: true).backward()
        let xv = x.detached().requiringGrad()
        let reference = gradients(of: (-logSoftmax(xv).gathered(classIndices: [0, 1, 2, 0, 1])).mean(), wrt: [xv])[0]
        expectClose(v.grad!, reference, rtol: 1e-12, atol: 1e-15)
    }
}

extension GradCheckTests {
    @Test func whereSelects() {
        let c: Tensor<Double> = [[1, 0, 1, 0]]
        let x = Tensor<Double>([[1, 2, 3, 4], [5, 6, 7, 8]]), y = Tensor<Double>([-1, -2, -3, -4])
        #expect(`where`(c, x, y) == [[1, -2, 3, -4], [5, -2, 7, -4]])
        // Unlike a * m + b * (1 - m), an infinite unselected value does not leak a NaN.
        #expect(`where`(Tensor<Double>([1, 0]), Tensor([1, .infinity]), Tensor([.infinity, 2])) == [1, 2])
        expectGradcheck("where", [randn([2, 4], seed: 301), randn([4], seed: 302)]) { t in `where`(c, t[0], t[1]) }
    }
}

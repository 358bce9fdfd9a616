import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

@Suite("Tensor")
struct TensorTests {
    @Test func literalsAndShapes() {
        let t: Tensor<Float> = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
        #expect(t.shape == [2, 2, 2])
        #expect(t.scalars == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Tensor<Float>(3).shape == [])
        #expect(Tensor<Double>(repeating: 2, shape: [2, 3]).scalars == [2, 2, 2, 2, 2, 2])
        #expect(Tensor<Float>.zeros([2]).scalars == [0, 0])
        #expect(Tensor<Float>.ones([1, 2]).scalars == [1, 1])
        #expect(Tensor<Float>.full([2], 7).scalars == [7, 7])
        #expect(Tensor<Float>.eye(2) == [[1, 0], [0, 1]])
        #expect(Tensor<Double>.arange(0, 1, step: 0.25).scalars == [0, 0.25, 0.5, 0.75])
        #expect(Tensor<Double>.arange(4).scalars == [0, 1, 2, 3])
        #expect(Tensor<Double>.linspace(-1, 1, count: 5).scalars == [-1, -0.5, 0, 0.5, 1])
    }

    @Test func copyOnWrite() {
        var a: Tensor<Float> = [1, 2, 3]
        let b = a
        a[element: 0] = 9
        #expect(a.scalars == [9, 2, 3])
        #expect(b.scalars == [1, 2, 3])
        var r = b.reshaped(to: [3, 1])   // shares storage until written
        r[element: 2, 0] = 5
        #expect(b.scalars == [1, 2, 3] && r.scalars == [1, 2, 5])
    }

    /// xoshiro256** seeded through SplitMix64, values computed independently in Python.
    @Test func seededGeneratorIsPortable() {
        var g = SeededGenerator(seed: 42)
        #expect([g.next(), g.next(), g.next()] == [1546998764402558742, 6990951692964543102, 12544586762248559009])
        var u = SeededGenerator(seed: 42)
        let uniform = Tensor<Double>.randomUniform([4], generator: &u)
        #expect(uniform.scalars == [0.08386297105988216, 0.3789802506626686, 0.6800434110281394, 0.9246929453253876])
        var n = SeededGenerator(seed: 7)
        let normal = Tensor<Double>.randomNormal([3], generator: &n)
        expectClose(normal, [-0.2790239910251981, 1.8997685786889567, 2.136306014732201], rtol: 1e-15)
        var f1 = SeededGenerator(seed: 3), f2 = SeededGenerator(seed: 3)
        #expect(Tensor<Float>.randomNormal([5], generator: &f1) == Tensor<Float>.randomNormal([5], generator: &f2))
    }

    @Test func shapeOps() {
        let x = Tensor<Double>.arange(6).reshaped(to: [2, 3])
        #expect(x == [[0, 1, 2], [3, 4, 5]])
        #expect(x.reshaped(to: [-1]).shape == [6])
        #expect(x.transposed() == [[0, 3], [1, 4], [2, 5]])
        #expect(x.T.shape == [3, 2])
        let y = Tensor<Double>.arange(24).reshaped(to: [2, 3, 4])
        #expect(y.permuted([2, 0, 1]).shape == [4, 2, 3])
        #expect(y.permuted([2, 0, 1])[element: 3, 1, 2] == y[element: 1, 2, 3])
        #expect(x.unsqueezed(axis: 0).shape == [1, 2, 3])
        #expect(x.unsqueezed(axis: -1).shape == [2, 3, 1])
        #expect(x.unsqueezed(axis: 1).squeezed(axis: 1).shape == [2, 3])
        #expect(Tensor.concatenated([x, x], axis: 1) == [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]])
        #expect(Tensor.concatenated([x, x]).shape == [4, 3])
        #expect(Tensor.stacked([x, x], axis: 1).shape == [2, 2, 3])
        #expect(x.sliced(axis: 1, 1..<3) == [[1, 2], [4, 5]])
        #expect(x[1] == [3, 4, 5])
        #expect(x[-1] == [3, 4, 5])
        #expect(y[0..<1].shape == [1, 3, 4])
        #expect(x.gathered(classIndices: [2, 0]) == [2, 3])
        // A large transpose takes the blocked path.
        let big = Tensor<Float>.arange(40 * 50).reshaped(to: [40, 50])
        let bt = big.transposed()
        #expect(bt[element: 17, 33] == big[element: 33, 17])
        #expect(bt.transposed() == big)
    }

    @Test func broadcastingArithmetic() {
        let a: Tensor<Float> = [[1, 2, 3], [4, 5, 6]]
        #expect(a + Tensor<Float>([10, 20, 30]) == [[11, 22, 33], [14, 25, 36]])
        #expect(a * Tensor<Float>([[2], [3]]) == [[2, 4, 6], [12, 15, 18]])
        #expect((Tensor<Float>([1, 2]).reshaped(to: [2, 1]) - Tensor<Float>([1, 2, 3])).shape == [2, 3])
        #expect(a / 2 == [[0.5, 1, 1.5], [2, 2.5, 3]])
        #expect(1 - a == [[0, -1, -2], [-3, -4, -5]])
        #expect(pow(a, 2) == [[1, 4, 9], [16, 25, 36]])
        #expect(pow(Tensor<Float>([-2, 2]), 3) == [-8, 8])
        #expect(pow(Tensor<Float>([-2, 4]), Tensor<Float>([3, 0.5])) == [-8, 2])
        #expect(maximum(a, Tensor(3)) == [[3, 3, 3], [4, 5, 6]])
        #expect(minimum(a, Tensor(3)) == [[1, 2, 3], [3, 3, 3]])
        #expect((a .> 3) == [[0, 0, 0], [1, 1, 1]])
        #expect((a .<= 2) == [[1, 1, 0], [0, 0, 0]])
        #expect((a .== Tensor<Float>([1, 5, 0])) == [[1, 0, 0], [0, 1, 0]])
        // Long rows exercise the SIMD paths and their tails.
        let long = Tensor<Float>.arange(37)
        #expect((long + long).scalars == (0..<37).map { Float(2 * $0) })
        #expect((long * 2 - long).scalars == long.scalars)
        #expect(clamp(Tensor<Float>([-2, 0.5, 3]), min: 0, max: 1) == [0, 0.5, 1])
    }

    @Test func elementwiseMath() {
        let x: Tensor<Double> = [-1, 0, 0.5, 2]
        for (t, f) in [(exp(x), { Double.exp($0) }), (tanh(x), { Double.tanh($0) }), (sin(x), { Double.sin($0) }),
                       (cos(x), { Double.cos($0) }), (erf(x), { Double.erf($0) }), (abs(x), { Swift.abs($0) }),
                       (relu(x), { Swift.max($0, 0) }), (sigmoid(x), { 1 / (1 + Double.exp(-$0)) }),
                       (-x, { -$0 })] as [(Tensor<Double>, (Double) -> Double)] {
            expectClose(t, Tensor(x.scalars.map(f)), rtol: 1e-14)
        }
        expectClose(log(Tensor<Double>([1, 2.5])), Tensor([0, Double.log(2.5)]), rtol: 1e-14)
        expectClose(sqrt(Tensor<Double>([4, 2])), Tensor([2, 2.0.squareRoot()]), rtol: 1e-14)
        // Sigmoid does not overflow at either end.
        #expect(sigmoid(Tensor<Float>([-1000, 1000])) == [0, 1])
        expectClose(softplus(Tensor<Double>([0, 30])), Tensor([Double.log(2), 30]))
    }

    @Test func reductions() {
        let x: Tensor<Double> = [[1, 5, 3], [4, 2, 6]]
        #expect(x.sum().item == 21)
        #expect(x.sum(axis: 0) == [5, 7, 9])
        #expect(x.sum(axis: 1, keepDims: true) == [[9], [12]])
        #expect(x.mean().item == 3.5)
        #expect(x.mean(axis: -1) == [3, 4])
        #expect(x.max(axis: 1) == [5, 6])
        #expect(x.min(axis: 0) == [1, 2, 3])
        #expect(x.max().item == 6)
        #expect(x.argmax(axis: 1) == [1, 2])
        #expect(x.argmax(axis: 0) == [1, 0, 1])
        #expect(x.argmin(axis: 1) == [0, 1])
        expectClose(x.logSumExp(axis: 1), Tensor([Double.log(Double.exp(1) + Double.exp(5) + Double.exp(3)),
                                           Double.log(Double.exp(4) + Double.exp(2) + Double.exp(6))]), rtol: 1e-14)
        // Stable for large values, and for rows of -inf.
        expectClose(Tensor<Double>([1000, 1000]).logSumExp(), Tensor(1000 + Double.log(2)), rtol: 1e-14)
        #expect(Tensor<Double>([-.infinity, -.infinity]).logSumExp().item == -.infinity)
        let y = Tensor<Double>.arange(24).reshaped(to: [2, 3, 4])
        #expect(y.sum(axes: [0, 2]) == [60, 92, 124])   // Σ_i,k (12i + 4j + k) = 60 + 32j
        #expect(y.sum(axes: [0, 2], keepDims: true).shape == [1, 3, 1])
    }

    @Test func matmulShapes() {
        let a: Tensor<Double> = [[1, 2, 3], [4, 5, 6]]
        let v: Tensor<Double> = [1, 0, -1]
        #expect(matmul(a, v) == [-2, -2])
        #expect(matmul(Tensor<Double>([1, 1]), a) == [5, 7, 9])
        #expect(matmul(v, v).item == 2)
        #expect(matmul(a, a.T) == [[14, 32], [32, 77]])
        let batch = Tensor<Double>.stacked([a, a * 2])           // [2, 2, 3]
        #expect(matmul(batch, a.T) == Tensor.stacked([matmul(a, a.T), matmul(a * 2, a.T)]))
        #expect(matmul(batch, v) == [[-2, -2], [-4, -4]])
    }

    @Test func printingLikePyTorch() {
        #expect(Tensor<Float>([[1, 2], [3, 4]]).description == "tensor([[1., 2.],\n        [3., 4.]])")
        #expect(Tensor<Float>([1.5, -2]).description == "tensor([ 1.5000, -2.0000])")
        #expect(Tensor<Double>(3).description == "tensor(3., dtype=torch.float64)")
        #expect(Tensor<Float>([1e-5, 1]).description == "tensor([1.0000e-05, 1.0000e+00])")
        let x = Tensor<Float>([1, 2]).requiringGrad()
        #expect(x.description == "tensor([1., 2.], requires_grad=True)")
        #expect((x * x).description == "tensor([1., 4.], grad_fn=<MulBackward>)")
        #expect(Tensor<Float>.zeros([0]).description == "tensor([], size=(0,))")
        #expect(Tensor<Float>.arange(2000).description.contains("..."))
        #expect(Tensor<Float>([1, 2]).debugDescription.hasSuffix("shape=[2]"))
    }
}

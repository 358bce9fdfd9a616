import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// the lab: the lab's worked examples, at the Tensor level (no nn layers).
@Suite("Lab worked examples (the lab)")
struct LabExampleTests {
    let W: Tensor<Double> = [[1, 5, 7], [3, 2, 4]]
    let x: Tensor<Double> = [2, 10, 5]

    @Test func linearForward() {
        let b: Tensor<Double> = [4, 8]
        #expect(matmul(W, x) + b == [91, 54])
    }

    @Test func linearBackwardWithSeed() {
        let w = W.detached().requiringGrad(), b = Tensor<Double>([4, 9]).requiringGrad(), xv = x.requiringGrad()
        let z = matmul(w, xv) + b
        z.backward(seed: [1, 1])
        #expect(xv.grad! == [4, 7, 11])
        #expect(w.grad! == [[2, 10, 5], [2, 10, 5]])
        #expect(b.grad! == [1, 1])
        // One gradient step with α = 0.1.
        let wStar = w.detached() - w.grad! * 0.1, bStar = b.detached() - b.grad! * 0.1
        expectClose(wStar, [[0.8, 4.0, 6.5], [2.8, 1.0, 3.5]])
        expectClose(bStar, [3.9, 8.9])
    }

    @Test func reluForwardBackward() {
        let v = Tensor<Double>([-4, 10, 5]).requiringGrad()
        let h = relu(v)
        #expect(h == [0, 10, 5])
        h.backward(seed: [1, 1, 1])
        #expect(v.grad! == [0, 1, 1])
    }

    @Test func regularizationBothForms() {
        let w = W.detached().requiringGrad()
        let halved = (w.squared().sum() * 0.1 / 2)
        expectClose(halved.item, 5.2)
        halved.backward()
        expectClose(w.grad!, [[0.1, 0.5, 0.7], [0.3, 0.2, 0.4]])   // λW
        w.zeroGrad()
        let full = w.squared().sum() * 0.1
        expectClose(full.item, 10.4)
        full.backward()
        expectClose(w.grad!, [[0.2, 1.0, 1.4], [0.6, 0.4, 0.8]])   // 2λW: the lab's pairing with λW is inconsistent
    }

    @Test func sumNode() {
        let s1 = Tensor<Double>(50).requiringGrad(), s2 = Tensor<Double>(5).requiringGrad()
        let k = s1 + s2
        #expect(k.item == 55)
        k.backward()
        #expect(s1.grad!.item == 1 && s2.grad!.item == 1)
    }

    @Test func halfL2Loss() {
        let o = Tensor<Double>([10, 5]).requiringGrad(), y: Tensor<Double> = [11, 5]
        let l = (o - y).squared().sum() * 0.5
        #expect(l.item == 0.5)
        l.backward()
        #expect(o.grad! == [-1, 0])
    }

    @Test func softmaxCrossEntropy() {
        let v = Tensor<Double>([10, 5]).requiringGrad(), y: Tensor<Double> = [1, 0]
        let o = softmax(v)
        expectClose(o, [0.9933071490757153, 0.0066928509242848554], rtol: 1e-12)
        let l = -(y * log(o)).sum()
        expectClose(l.item, 0.006715348489118, tol: 1e-12)
        // The lab prints 0.00236 for the loss divided by N = 2: -½ log(0.993307) is 0.0033577.
        expectClose(l.item / 2, 0.0033576742445590, tol: 1e-12)
        l.backward()
        expectClose(v.grad!, o.detached() - y, rtol: 1e-12)
        expectClose(v.grad!, [-0.0066928509242848554, 0.0066928509242848554], rtol: 1e-10)
    }

    @Test func fullNetworkForward() {
        let w1: Tensor<Double> = [[1, 2], [2, 5], [7, 3]], b1: Tensor<Double> = [4, 2, 1]
        let m: Tensor<Double> = [[4, 1, 2], [3, 4, 1]], c: Tensor<Double> = [5, 1]
        let x: Tensor<Double> = [10, 5]
        let h = relu(matmul(w1, x) + b1)
        #expect(h == [24, 47, 86])
        #expect(matmul(m, h) + c == [320, 347])   // the lab prints 441: a slip
    }
}

/// the lecture: the computational graph a = xy + z, b = a(x + x), w = ab + b.
@Suite("Computational graph (the lecture)")
struct SeedGraphTests {
    static func graph(_ x: Tensor<Double>, _ y: Tensor<Double>, _ z: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>, Tensor<Double>) {
        let a = x * y + z
        let b = a * (x + x)
        return (a, b, a * b + b)
    }

    @Test func atOneTwoThree() {
        let x = Tensor<Double>(1).requiringGrad(), y = Tensor<Double>(2).requiringGrad(), z = Tensor<Double>(3).requiringGrad()
        let (a, b, w) = Self.graph(x, y, z)
        #expect(a.item == 5 && b.item == 10 && w.item == 60)
        w.backward()
        #expect(x.grad!.item == 104)
        #expect(y.grad!.item == 22)
        #expect(z.grad!.item == 22)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func closedFormsAtRandomPoints(seed: UInt64) {
        let p = randn([3], seed: seed).scalars
        let (xs, ys, zs) = (p[0], p[1], p[2])
        let x = Tensor<Double>(xs).requiringGrad(), y = Tensor<Double>(ys).requiringGrad(), z = Tensor<Double>(zs).requiringGrad()
        Self.graph(x, y, z).2.backward()
        expectClose(x.grad!.item, 6 * xs * xs * ys * ys + 8 * xs * ys * zs + 4 * xs * ys + 2 * zs * zs + 2 * zs)
        expectClose(y.grad!.item, 4 * xs * xs * xs * ys + 4 * xs * xs * zs + 2 * xs * xs)
        expectClose(z.grad!.item, 4 * xs * xs * ys + 4 * xs * zs + 2 * xs)
    }
}

/// the lecture: Jacobians of linear maps and their sum and composition.
@Suite("Jacobian facts (the lecture)")
struct JacobianFactTests {
    let w1 = randn([3, 3], seed: 11), w2 = randn([3, 3], seed: 12), x = randn([3], seed: 13)

    @Test(arguments: DifferentiationMode.allCases)
    func sumOfLinearMaps(mode: DifferentiationMode) {
        expectClose(jacobian(of: { matmul(w1, $0) + matmul(w2, $0) }, at: x, mode: mode), w1 + w2)
        expectClose(jacobian(of: { matmul(w1, $0) + matmul(w1, $0) }, at: x, mode: mode), w1 * 2)
    }

    @Test(arguments: DifferentiationMode.allCases)
    func compositionOfLinearMaps(mode: DifferentiationMode) {
        let a = randn([4, 3], seed: 14), b = randn([2, 4], seed: 15)   // W1: b x a, W2: c x b
        expectClose(jacobian(of: { matmul(b, matmul(a, $0)) }, at: x, mode: mode), matmul(b, a))
        expectClose(jacobian(of: { matmul(w1, matmul(w1, $0)) }, at: x, mode: mode), matmul(w1, w1))
    }
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

@Suite("Losses")
struct LossTests {
    // MARK: the lab, the lab's worked examples

    @Test("L2 loss: o = (10, 5), y = (11, 5) gives L = 0.5, dJ/do = (-1, 0)")
    func labL2Loss() {
        func check<S: TensorScalar>(_: S.Type) {
            let o = Tensor<S>([10, 5], requiresGrad: true)
            let loss = halfL2Loss(o, Tensor<S>([11, 5]))
            #expect(loss.shape == [])
            #expect(loss.item == 0.5)
            loss.backward()
            #expect(o.grad!.scalars == [-1, 0])
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("softmax + CE: v = (10, 5), y = (1, 0) gives L = 0.0067153, dJ/dv = o - y")
    func labSoftmaxCrossEntropy() {
        let o = softmax(Tensor<Double>([10, 5]))
        #expect(Swift.abs(o.scalars[0] - 0.993307) < 5e-7)
        #expect(Swift.abs(o.scalars[1] - 0.006693) < 5e-7)
        // Indices and probabilities give the same loss and the same gradient.
        for target in ["index", "probabilities"] {
            let v = Tensor<Double>([10, 5], requiresGrad: true)
            let loss = target == "index" ? crossEntropy(v, classIndices: [0])
                                         : crossEntropy(v, probabilities: Tensor([1, 0]))
            #expect(loss.shape == [])
            #expect(Swift.abs(loss.item - 0.0067153) < 5e-8, "\(target)")
            // -log o_1 = log(1 + e^-5), exactly.
            #expect(Swift.abs(loss.item - Foundation.log1p(Foundation.exp(-5))) < 1e-15, "\(target)")
            loss.backward()
            let g = v.grad!.scalars
            #expect(Swift.abs(g[0] - -0.0066929) < 5e-8 && Swift.abs(g[1] - 0.0066929) < 5e-8, "\(target): \(g)")
            // dJ/dv = o - y exactly.
            #expect(Swift.abs(g[0] - (o.scalars[0] - 1)) < 1e-15 && Swift.abs(g[1] - o.scalars[1]) < 1e-15)
        }
        // The lab divides by N = 2 classes: PyTorch's mean is over the batch, so
        // a batch of one point gives the same loss; (1/2) -log o_1 is 0.0033577, not 0.00236.
        let batch = crossEntropy(Tensor<Double>([[10, 5]]), classIndices: [0])
        #expect(Swift.abs(batch.item - 0.0067153) < 5e-8)
        #expect(Swift.abs(batch.item / 2 - 0.0033577) < 5e-8)
    }

    @Test("regularization, λ = 0.1: S = 5.2 with dJ/dW = λW (halved), S = 10.4 with dJ/dW = 2λW")
    func labRegularization() {
        let values: [[Double]] = [[1, 5, 7], [3, 2, 4]]
        let halfW = Tensor<Double>(values, requiresGrad: true)
        let half = l2Regularization(halfW, lambda: 0.1, halved: true)
        #expect(Swift.abs(half.item - 5.2) < 1e-12)
        half.backward()
        expectClose(halfW.grad!, Tensor([[0.1, 0.5, 0.7], [0.3, 0.2, 0.4]]), atol: 1e-15, "λW")

        let fullW = Tensor<Double>(values, requiresGrad: true)
        let full = l2Regularization(fullW, lambda: 0.1, halved: false)
        #expect(Swift.abs(full.item - 10.4) < 1e-12)
        full.backward()
        expectClose(fullW.grad!, Tensor([[0.2, 1.0, 1.4], [0.6, 0.4, 0.8]]), atol: 1e-15, "2λW")

        // Several weights: the sum of each one's term.
        let both = l2Regularization([Tensor<Double>(values), Tensor<Double>([[1.0, 1.0]])], lambda: 0.1, halved: true)
        #expect(Swift.abs(both.item - 5.3) < 1e-12)
    }

    @Test("sum 50 + 5 = 55 with both gradients 1; J = L + S")
    func labSumAndObjective() {
        let s1 = Tensor<Double>(50, requiresGrad: true), s2 = Tensor<Double>(5, requiresGrad: true)
        let k = s1 + s2
        #expect(k.item == 55)
        k.backward()
        #expect(s1.grad!.item == 1 && s2.grad!.item == 1)

        // J = ½||Wx + b - y||² + (λ/2)||W||²: dJ/dW = (o - y) xᵀ + λW, dJ/db = o - y.
        // x = (2, 10, 5), b = (4, 8): o = (91, 54) (the lab); y = (90, 55), so o - y = (1, -1).
        let w = Tensor<Double>([[1, 5, 7], [3, 2, 4]], requiresGrad: true)
        let b = Tensor<Double>([4, 8], requiresGrad: true)
        let o = matmul(w, Tensor<Double>([2, 10, 5])) + b
        #expect(o.scalars == [91, 54])
        let loss = halfL2Loss(o, Tensor([90, 55]))
        let reg = l2Regularization(w, lambda: 0.1, halved: true)
        let j = loss + reg
        #expect(Swift.abs(j.item - (1 + 5.2)) < 1e-12)
        j.backward()
        expectClose(w.grad!, Tensor([[2.1, 10.5, 5.7], [-1.7, -9.8, -4.6]]), atol: 1e-12, "dJ/dW")
        #expect(b.grad!.scalars == [1, -1])
    }

    // MARK: gradcheck, every loss and every reduction

    // Residuals kept away from the kinks (0, ±δ) so that finite differences are valid.
    static var input: Tensor<Double> { [[0.3, -1.2, 2.5], [-0.7, 0.05, 1.1]] }
    static var target: Tensor<Double> { [[0.9, -1.0, 0.4], [-2.0, 0.8, 1.4]] }
    static var probabilities: Tensor<Double> { [[0.2, 0.7, 0.95], [0.4, 0.1, 0.6]] }
    static var binaryTarget: Tensor<Double> { [[0, 1, 1], [0.3, 0, 1]] }

    static var cases: [(String, ([Tensor<Double>], LossReduction) -> Tensor<Double>, [Tensor<Double>])] { [
        ("mse", { mseLoss($0[0], $0[1], reduction: $1) }, [input, target]),
        ("halfL2", { halfL2Loss($0[0], $0[1], reduction: $1) }, [input, target]),
        ("l1", { l1Loss($0[0], $0[1], reduction: $1) }, [input, target]),
        ("huber δ=1", { huberLoss($0[0], $0[1], delta: 1, reduction: $1) }, [input, target]),
        ("huber δ=0.5", { huberLoss($0[0], $0[1], delta: 0.5, reduction: $1) }, [input, target]),
        ("smoothL1 β=0.5", { smoothL1Loss($0[0], $0[1], beta: 0.5, reduction: $1) }, [input, target]),
        ("bce", { binaryCrossEntropy($0[0], $0[1], reduction: $1) }, [probabilities, binaryTarget]),
        ("bceWithLogits", { binaryCrossEntropyWithLogits($0[0], $0[1], reduction: $1) }, [input * Double(3), binaryTarget]),
        ("crossEntropy indices", { crossEntropy($0[0], classIndices: [2, 0], reduction: $1) }, [input]),
        ("crossEntropy one point", { crossEntropy($0[0], classIndices: [1], reduction: $1) }, [Tensor([0.3, -1.2, 2.5])]),
        ("crossEntropy probabilities", { crossEntropy($0[0], probabilities: softmax($0[1]), reduction: $1) }, [input, target]),
        ("nll", { nllLoss(logSoftmax($0[0]), classIndices: [1, 2], reduction: $1) }, [input]),
    ] }

    @Test("gradcheck of every loss, each reduction", arguments: LossReduction.allCases)
    func gradcheckLosses(reduction: LossReduction) {
        for (name, loss, inputs) in Self.cases {
            let result = gradcheck({ loss($0, reduction) }, at: inputs)
            #expect(result.passed, "\(name), \(reduction): \(result)")
        }
        for halved in [true, false] {
            let result = gradcheck({ l2Regularization($0[0], lambda: 0.3, halved: halved) }, at: [Self.input])
            #expect(result.passed, "l2Regularization halved \(halved): \(result)")
        }
    }

    @Test("reductions: .sum is N × .mean, .none keeps the shape")
    func reductions() {
        let none = mseLoss(Self.input, Self.target, reduction: .none)
        #expect(none.shape == [2, 3])
        let sum = mseLoss(Self.input, Self.target, reduction: .sum).item
        let mean = mseLoss(Self.input, Self.target, reduction: .mean).item
        #expect(Swift.abs(sum - 6 * mean) < 1e-12)
        #expect(Swift.abs(sum - none.scalars.reduce(0, +)) < 1e-12)
        // Cross-entropy reduces per point: .none has one value per row.
        #expect(crossEntropy(Self.input, classIndices: [0, 1], reduction: .none).shape == [2])
        #expect(crossEntropy(Tensor<Double>([1, 2, 3]), classIndices: [0], reduction: .none).shape == [])
    }

    @Test("BCE clamps its logs at -100, as PyTorch")
    func bceClamp() {
        let p = Tensor<Double>([0, 1, 1, 0], requiresGrad: true)
        let loss = binaryCrossEntropy(p, Tensor([1, 0, 1, 0]), reduction: .none)
        #expect(loss.scalars == [100, 100, 0, 0])
        loss.sum().backward()
        #expect(p.grad!.scalars.allSatisfy { $0.isFinite })
        #expect(binaryCrossEntropy(Tensor<Float>([0]), Tensor<Float>([1])).item == 100)
    }

    @Test("BCE with logits is stable and has gradient σ(x) - y, at x = 0 too")
    func bceWithLogitsStable() {
        let x = Tensor<Double>([1000, -1000, 0, 0], requiresGrad: true)
        let loss = binaryCrossEntropyWithLogits(x, Tensor([0, 0, 1, 0]), reduction: .none)
        expectClose(loss, Tensor([1000, 0, Foundation.log(2), Foundation.log(2)]), atol: 1e-12, "loss")
        loss.sum().backward()
        expectClose(x.grad!, Tensor([1, 0, -0.5, 0.5]), atol: 1e-15, "gradient")
    }

    // MARK: PyTorch fixtures

    static func pytorchLoss(_ name: String, _ params: [String: Any], _ input: Tensor<Double>, _ target: Any?,
                            _ reduction: LossReduction) throws -> Tensor<Double> {
        let number = { (key: String) in try #require(params[key] as? Double) }
        switch name {
        case "mse_loss": return mseLoss(input, try PyTorchFixture.tensor(target), reduction: reduction)
        case "half_l2": return halfL2Loss(input, try PyTorchFixture.tensor(target), reduction: reduction)
        case "l1_loss": return l1Loss(input, try PyTorchFixture.tensor(target), reduction: reduction)
        case "huber_loss":
            return huberLoss(input, try PyTorchFixture.tensor(target), delta: try number("delta"), reduction: reduction)
        case "smooth_l1_loss":
            return smoothL1Loss(input, try PyTorchFixture.tensor(target), beta: try number("beta"), reduction: reduction)
        case "binary_cross_entropy":
            return binaryCrossEntropy(input, try PyTorchFixture.tensor(target), reduction: reduction)
        case "binary_cross_entropy_with_logits":
            return binaryCrossEntropyWithLogits(input, try PyTorchFixture.tensor(target), reduction: reduction)
        case "cross_entropy" where params["target"] as? String == "class_indices":
            return crossEntropy(input, classIndices: try PyTorchFixture.indices(target), reduction: reduction)
        case "cross_entropy":
            return crossEntropy(input, probabilities: try PyTorchFixture.tensor(target), reduction: reduction)
        case "nll_loss":
            return nllLoss(input, classIndices: try PyTorchFixture.indices(target), reduction: reduction)
        default:
            throw FixtureError.unknown(name)
        }
    }

    enum FixtureError: Error { case unknown(String) }

    @Test("forward and backward of every loss in every reduction match PyTorch (float64)")
    func pytorchFixtures() throws {
        let cases = try PyTorchFixture.object("losses.json")["cases"] as? [[String: Any]] ?? []
        #expect(cases.count >= 34)
        var names: Set<String> = []
        for c in cases {
            let id = try #require(c["id"] as? String)
            let name = try #require(c["name"] as? String)
            let reductionName = try #require(c["reduction"] as? String)
            let reduction = try #require(LossReduction(rawValue: reductionName))
            let input = try PyTorchFixture.tensor(c["input"]).requiringGrad()
            let loss = try Self.pytorchLoss(name, c["params"] as? [String: Any] ?? [:], input, c["target"], reduction)
            expectClose(loss, try PyTorchFixture.tensor(c["loss"]), "\(id) loss")
            if reduction == .none {
                loss.backward(seed: try PyTorchFixture.tensor(c["upstream"]))
            } else {
                loss.backward()
            }
            expectClose(try #require(input.grad), try PyTorchFixture.tensor(c["dinput"]), "\(id) dinput")
            names.insert(name)
        }
        #expect(names.count == 9)
    }
}

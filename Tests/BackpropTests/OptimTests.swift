import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Tests/BackpropTests/Fixtures/optimizers.json, written by scripts/make_fixtures.py
/// from PyTorch in float64: a Linear(3,4)-Tanh-Linear(4,2) network, its
/// initial parameters, data, and ten steps of each optimizer configuration.
private struct OptimizerFixture: Decodable {
    struct Network: Decodable {
        let initial_params: [String: JSONTensor]
        let x: [[Double]]
        let y: [[Double]]
    }
    struct Run: Decodable {
        let id: String
        let optimizer: String
        let hyperparameters: Hyperparameters
        let losses: [Double]
        let params_after_step: [[String: JSONTensor]]
    }
    struct Hyperparameters: Decodable {
        let lr: Double
        let momentum: Double?
        let dampening: Double?
        let nesterov: Bool?
        let weight_decay: Double?
        let betas: [Double]?
        let eps: Double?
        let alpha: Double?
        let centered: Bool?
        let amsgrad: Bool?
    }
    struct Schedule: Decodable {
        let id: String
        let initial_lr: Double
        let lrs: [Double]
    }
    struct Clip: Decodable {
        let max_norm: Double
        let total_norm: Double
        let grads_before: [String: JSONTensor]
        let grads_after: [String: JSONTensor]
    }
    let network: Network
    let runs: [Run]
    let schedulers: [Schedule]
    let clip_grad_norm: Clip

    static func load() throws -> OptimizerFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/optimizers", withExtension: "json"))
        return try JSONDecoder().decode(OptimizerFixture.self, from: Data(contentsOf: url))
    }

    /// The fixture's network with its initial parameters, and the data.
    func makeNetwork() throws -> (Sequential<Double>, Tensor<Double>, Tensor<Double>) {
        var rng = SeededGenerator(seed: 0)
        let model = Sequential<Double>(Linear(3, 4, generator: &rng), Tanh(), Linear(4, 2, generator: &rng))
        try model.loadStateDict(network.initial_params.mapValues { Tensor(nested: $0) })
        return (model, Tensor(network.x), Tensor(network.y))
    }
}

/// A nested JSON array of numbers, decoded to a tensor.
private struct JSONTensor: Decodable {
    let nested: NestedArray
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Double.self) {
            nested = .scalar(v)
        } else {
            nested = .list(try c.decode([JSONTensor].self).map(\.nested))
        }
    }
}

extension Tensor {
    fileprivate init(nested json: JSONTensor) { self.init(nested: json.nested) }
}

private func makeOptimizer(_ run: OptimizerFixture.Run, _ parameters: [Tensor<Double>]) -> any Optimizer {
    let h = run.hyperparameters
    switch run.optimizer {
    case "SGD":
        return SGD(parameters: parameters, learningRate: h.lr, momentum: h.momentum!, dampening: h.dampening!,
                   nesterov: h.nesterov!, weightDecay: h.weight_decay!)
    case "Adam":
        return Adam(parameters: parameters, learningRate: h.lr, betas: (h.betas![0], h.betas![1]), eps: h.eps!,
                    weightDecay: h.weight_decay!, amsgrad: h.amsgrad!)
    case "AdamW":
        return AdamW(parameters: parameters, learningRate: h.lr, betas: (h.betas![0], h.betas![1]), eps: h.eps!,
                     weightDecay: h.weight_decay!, amsgrad: h.amsgrad!)
    case "RMSprop":
        return RMSprop(parameters: parameters, learningRate: h.lr, alpha: h.alpha!, eps: h.eps!,
                       weightDecay: h.weight_decay!, momentum: h.momentum!, centered: h.centered!)
    default:
        fatalError("unknown optimizer \(run.optimizer) in the fixture")
    }
}

@Suite struct OptimTests {
    /// Ten steps of every configuration in the fixture (SGD plain, momentum,
    /// Nesterov, dampening + weight decay; Adam with and without L2; AdamW;
    /// RMSprop with and without momentum) give PyTorch's parameters to 1e-6.
    @Test func optimizersMatchPyTorch() throws {
        let fixture = try OptimizerFixture.load()
        #expect(Set(fixture.runs.map(\.optimizer)) == ["SGD", "Adam", "AdamW", "RMSprop"])
        for run in fixture.runs {
            let (model, x, y) = try fixture.makeNetwork()
            let optimizer = makeOptimizer(run, model.parameters())
            for step in 0..<10 {
                let yHat = model(x)
                let loss = mseLoss(yHat, y)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                expectClose(loss.item, run.losses[step], tol: 1e-9)
                let state = model.stateDict()
                for (name, expected) in run.params_after_step[step] {
                    let actual = try #require(state[name])
                    #expect(actual.isClose(to: Tensor(nested: expected), rtol: 0, atol: 1e-6),
                            "\(run.id) step \(step + 1) \(name): \(actual) vs \(Tensor<Double>(nested: expected))")
                }
            }
            // Much tighter than the required 1e-6: the update rules are PyTorch's, operation for operation.
            let last = model.stateDict()
            for (name, expected) in run.params_after_step[9] {
                #expect(last[name]!.isClose(to: Tensor(nested: expected), rtol: 0, atol: 1e-12), "\(run.id) \(name)")
            }
        }
    }

    /// The same ten steps in Float stay within Float rounding of PyTorch's float64 trajectory.
    @Test func optimizersInFloat() throws {
        let fixture = try OptimizerFixture.load()
        for run in fixture.runs {
            var rng = SeededGenerator(seed: 0)
            let model = Sequential<Float>(Linear(3, 4, generator: &rng), Tanh(), Linear(4, 2, generator: &rng))
            try model.loadStateDict(fixture.network.initial_params.mapValues { Tensor(Tensor<Double>(nested: $0)) })
            let x = Tensor<Float>(Tensor<Double>(fixture.network.x)), y = Tensor<Float>(Tensor<Double>(fixture.network.y))
            let h = run.hyperparameters
            let p = model.parameters()
            let optimizer: any Optimizer = switch run.optimizer {
            case "SGD": SGD(parameters: p, learningRate: h.lr, momentum: h.momentum!, dampening: h.dampening!,
                            nesterov: h.nesterov!, weightDecay: h.weight_decay!)
            case "Adam": Adam(parameters: p, learningRate: h.lr, weightDecay: h.weight_decay!)
            case "AdamW": AdamW(parameters: p, learningRate: h.lr, weightDecay: h.weight_decay!)
            default: RMSprop(parameters: p, learningRate: h.lr, momentum: h.momentum!)
            }
            for _ in 0..<10 {
                let loss = mseLoss(model(x), y)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
            }
            for (name, expected) in run.params_after_step[9] {
                let actual = Tensor<Double>(model.stateDict()[name]!)
                #expect(actual.isClose(to: Tensor(nested: expected), rtol: 0, atol: 2e-5), "\(run.id) \(name)")
            }
        }
    }

    @Test func schedulesMatchPyTorch() throws {
        let fixture = try OptimizerFixture.load()
        for schedule in fixture.schedulers {
            let optimizer = SGD(parameters: [Tensor<Double>.zeros([1]).requiringGrad()], learningRate: schedule.initial_lr)
            let scheduler: any LearningRateSchedule = schedule.id == "step_lr"
                ? StepLR(optimizer: optimizer, stepSize: 3, gamma: 0.5)
                : CosineAnnealingLR(optimizer: optimizer, tMax: 10, etaMin: 0.001)
            var lrs: [Double] = []
            for _ in 0..<11 {
                lrs.append(optimizer.learningRate)
                optimizer.step()
                scheduler.step()
            }
            #expect(lrs.count == schedule.lrs.count)
            for (a, e) in zip(lrs, schedule.lrs) { expectClose(a, e, tol: 1e-15) }
            #expect(scheduler.epoch == 11)
        }
        // Cosine past tMax rises again, the closed form's value at every epoch.
        let optimizer = SGD(parameters: [Tensor<Double>.zeros([1]).requiringGrad()], learningRate: 0.1)
        let cosine = CosineAnnealingLR(optimizer: optimizer, tMax: 4, etaMin: 0.01)
        for t in 1...12 {
            cosine.step()
            let closed = 0.01 + 0.09 * (1 + Foundation.cos(Double.pi * Double(t) / 4)) / 2
            expectClose(optimizer.learningRate, closed, tol: 1e-12)
        }
    }

    @Test func clipGradNormMatchesPyTorch() throws {
        let fixture = try OptimizerFixture.load()
        let clip = fixture.clip_grad_norm
        let (model, x, y) = try fixture.makeNetwork()
        mseLoss(model(x), y).backward()
        let named = model.namedParameters()
        for (name, p) in named {
            #expect(p.grad!.isClose(to: Tensor(nested: clip.grads_before[name]!), rtol: 1e-12, atol: 1e-14), "\(name)")
        }
        let norm = clipGradNorm(model.parameters(), maxNorm: clip.max_norm)
        expectClose(norm, clip.total_norm, tol: 1e-12)
        for (name, p) in named {
            #expect(p.grad!.isClose(to: Tensor(nested: clip.grads_after[name]!), rtol: 1e-12, atol: 1e-14), "\(name)")
        }
        // Now at the limit (up to the 1e-6 guard): a second clip changes nothing but reports the new norm.
        let newNorm = clipGradNorm(model.parameters(), maxNorm: clip.max_norm)
        #expect(Swift.abs(newNorm - clip.max_norm) < 1e-5)
        // Below the limit, gradients are untouched.
        let before = named.map { $0.tensor.grad! }
        _ = clipGradNorm(model.parameters(), maxNorm: 10)
        #expect(named.map { $0.tensor.grad! } == before)
    }

    @Test func clipGradNormScalesASharedGradientOnce() {
        // Two leaves of an add receive the same gradient tensor; each must be scaled once.
        let a = Tensor<Double>([3, 0]).requiringGrad(), b = Tensor<Double>([0, 4]).requiringGrad()
        ((a + b) * Tensor([3, 4])).sum().backward()
        let norm = clipGradNorm([a, b], maxNorm: 1)
        expectClose(norm, (2 * 25.0).squareRoot(), tol: 1e-12)
        let k = 1 / (50.0.squareRoot() + 1e-6)
        expectClose(a.grad!, Tensor([3 * k, 4 * k]), rtol: 1e-12)
        expectClose(b.grad!, Tensor([3 * k, 4 * k]), rtol: 1e-12)
    }

    // MARK: update rules by hand

    /// SGD with momentum: the first step's buffer is the gradient itself (no dampening applied).
    @Test func sgdMomentumRuleByHand() {
        let w = Tensor<Double>([1, -2]).requiringGrad()
        let sgd = SGD(parameters: [w], learningRate: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1)
        // f = ½ ||w||²: gradient w; with L2 decay g = 1.1 w.
        var expected = [1.0, -2], buffer = [0.0, 0]
        for step in 0..<4 {
            w.zeroGrad()
            (w.squared().sum() * 0.5).backward()
            sgd.step()
            for i in 0..<2 {
                let g = expected[i] * 1.1
                buffer[i] = step == 0 ? g : 0.9 * buffer[i] + 0.5 * g
                expected[i] -= 0.1 * buffer[i]
            }
            expectClose(w, Tensor(expected), rtol: 1e-14)
        }
        // Nesterov: g + μ b.
        let v = Tensor<Double>([2]).requiringGrad()
        let nesterov = SGD(parameters: [v], learningRate: 0.1, momentum: 0.5, nesterov: true)
        v.grad = Tensor([4])
        nesterov.step()   // b = 4, update 4 + 0.5 * 4 = 6
        expectClose(v, Tensor([2 - 0.6]), rtol: 1e-14)
        v.grad = Tensor([1])
        nesterov.step()   // b = 0.5 * 4 + 1 = 3, update 1 + 1.5 = 2.5
        expectClose(v, Tensor([1.4 - 0.25]), rtol: 1e-14)
    }

    /// Adam's first step moves each coordinate by lr · sign(g) (m̂ = g, v̂ = g²);
    /// AMSGrad keeps the largest second moment.
    @Test func adamRulesByHand() {
        let w = Tensor<Double>([1, -2, 0.5]).requiringGrad()
        let adam = Adam(parameters: [w], learningRate: 0.01, eps: 0)
        w.grad = Tensor([0.3, -7, 1e-3])
        adam.step()
        expectClose(w, Tensor([0.99, -1.99, 0.49]), rtol: 1e-14)

        let p = Tensor<Double>([0]).requiringGrad()
        let ams = Adam(parameters: [p], learningRate: 1, betas: (0, 0.5), eps: 0, amsgrad: true)
        p.grad = Tensor([2]); ams.step()       // v = 2, v̂ = 2, bc2 = 0.5: step = 2 / √(2 / 0.5) = 1
        expectClose(p, Tensor([-1]), rtol: 1e-14)
        p.grad = Tensor([0.5]); ams.step()     // v = 1.125, v̂ stays 2, bc2 = 0.75: step = 0.5 / √(2 / 0.75)
        expectClose(p, Tensor([-1 - 0.5 / (2 / 0.75).squareRoot()]), rtol: 1e-14)

        // AdamW decays the weight itself, by lr · λ, independently of the gradient.
        let q = Tensor<Double>([10]).requiringGrad()
        let adamw = AdamW(parameters: [q], learningRate: 0.1, eps: 0, weightDecay: 0.5)
        q.grad = Tensor([0.2])
        adamw.step()
        expectClose(q, Tensor([10 * (1 - 0.05) - 0.1]), rtol: 1e-14)
    }

    /// RMSprop, centered: the denominator is √(s - ḡ²) + ε.
    @Test func rmspropCenteredByHand() {
        let w = Tensor<Double>([1]).requiringGrad()
        let rms = RMSprop(parameters: [w], learningRate: 0.1, alpha: 0.5, eps: 0, centered: true)
        w.grad = Tensor([2]); rms.step()   // s = 2, ḡ = 1, denom = 1, w = 1 - 0.2
        expectClose(w, Tensor([0.8]), rtol: 1e-14)
        w.grad = Tensor([-1]); rms.step()  // s = 1.5, ḡ = 0, denom = √1.5
        expectClose(w, Tensor([0.8 + 0.1 / 1.5.squareRoot()]), rtol: 1e-14)
    }

    // MARK: parameters as variables

    @Test func parametersWithoutGradientAreSkipped() {
        let a = Tensor<Double>([1, 2]).requiringGrad(), b = Tensor<Double>([3]).requiringGrad()
        for optimizer in [SGD(parameters: [a, b], learningRate: 0.1, momentum: 0.9) as any Optimizer,
                          Adam(parameters: [a, b]), AdamW(parameters: [a, b]), RMSprop(parameters: [a, b])] {
            let bBefore = b.scalars
            a.grad = Tensor([1, 1])
            b.grad = nil
            optimizer.step()
            #expect(b.scalars == bBefore)
            optimizer.zeroGrad()
            #expect(a.grad == nil)
        }
    }

    /// An optimizer writes where every copy of the parameter looks, and leaves
    /// detached copies taken before the step alone.
    @Test func stepUpdatesSharedVariableNotSnapshots() {
        var rng = SeededGenerator(seed: 1)
        let layer = Linear<Float>(4, 3, generator: &rng)
        let alias = layer.weight
        let snapshot = layer.weight.detached()
        let copyBefore = layer.weight.scalars
        let optimizer = SGD(parameters: layer.parameters(), learningRate: 0.5)
        layer(Tensor.ones([4])).sum().backward()
        optimizer.step()
        #expect(layer.weight.scalars != copyBefore)
        #expect(alias.scalars == layer.weight.scalars)
        #expect(snapshot.scalars == copyBefore)
        // dJ/dW = ones ⊗ x = 1 everywhere, so each weight fell by exactly 0.5.
        #expect(zip(layer.weight.scalars, copyBefore).allSatisfy { $0 == $1 - 0.5 })
        // The optimizer holds the model's variable itself, not a copy.
        #expect(optimizer.parameters[0].isIdentical(to: layer.weight))
    }

    /// Kernels over lengths that are and are not multiples of the SIMD width agree with scalar loops.
    @Test func kernelsHandlePartialChunks() {
        for n in [1, 15, 16, 17, 33, 100] {
            var rng = SeededGenerator(seed: UInt64(n))
            let p0 = Tensor<Float>.randomNormal([n], generator: &rng)
            let g = Tensor<Float>.randomNormal([n], generator: &rng)
            let p = Tensor<Float>(shape: [n], scalars: p0.scalars).requiringGrad()
            p.grad = g
            SGD(parameters: [p], learningRate: 0.25, weightDecay: 0.5).step()
            let expected = zip(p0.scalars, g.scalars).map { $0 - 0.25 * ($1 + 0.5 * $0) }
            #expect(p.scalars == expected, "n = \(n)")
            let ss = g.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress!, n) }
            // Float products and SIMD partial sums, flushed to Double: Float rounding.
            expectClose(ss, g.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }, tol: 1e-6)
        }
    }
}

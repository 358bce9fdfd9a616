import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// A module written the way a user would: properties only, names by reflection.
private final class Block: Module {
    var isTraining = true
    let encoder: Sequential<Double>
    var heads: [Linear<Double>]
    var scale = Tensor<Double>([2]).requiringGrad()
    let constant = Tensor<Double>([5])   // not a parameter: no gradient
    var gate: Linear<Double>? = nil
    let drop = Dropout<Double>(probability: 0.5, seed: 1)

    init(_ rng: inout SeededGenerator) {
        encoder = Sequential(Linear(3, 4, generator: &rng), Tanh())
        heads = [Linear(4, 2, generator: &rng), Linear(4, 1, bias: false, generator: &rng)]
    }

    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        let h = drop(encoder(x))
        return Tensor.concatenated(heads.map { $0(h) }, axis: -1) * scale
    }
}

@Suite struct NNTests {
    // MARK: parameters and state dicts

    @Test func sequentialParameterNamesAndShapes() {
        var rng = SeededGenerator(seed: 0)
        let model = Sequential<Float>(Linear(4, 8, generator: &rng), ReLU(), Linear(8, 3, generator: &rng))
        let named = model.namedParameters()
        #expect(named.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(named.map(\.tensor.shape) == [[8, 4], [8], [3, 8], [3]])
        #expect(named.allSatisfy { $0.tensor.requiresGrad })
        #expect(model.parameterCount == 8 * 4 + 8 + 3 * 8 + 3)
        // parameters() are the model's own variables, not copies.
        #expect(model.parameters()[2].isIdentical(to: (model[2] as! Linear<Float>).weight))
    }

    @Test func nestedModuleNames() {
        var rng = SeededGenerator(seed: 1)
        let block = Block(&rng)
        #expect(block.namedParameters().map(\.name) ==
                ["scale", "encoder.0.weight", "encoder.0.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight"])
        block.gate = Linear(2, 2, generator: &rng)
        #expect(block.namedParameters().map(\.name).suffix(2) == ["gate.weight", "gate.bias"])
        #expect(block.namedChildren().map(\.name) == ["encoder", "heads.0", "heads.1", "gate", "drop"])
    }

    @Test func sharedParameterIsListedOnce() {
        var rng = SeededGenerator(seed: 2)
        let layer = Linear<Double>(2, 2, generator: &rng)
        let model = Sequential<Double>(layer, Tanh(), layer)
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias"])
    }

    @Test func builderAndAppend() {
        var rng = SeededGenerator(seed: 3)
        let deep = true
        let model = Sequential<Float> {
            Linear(2, 4, generator: &rng)
            if deep {
                ReLU()
                Linear(4, 4, generator: &rng)
            }
            for _ in 0..<2 { Identity() }
        }
        #expect(model.count == 5)
        model.append(Linear(4, 1, generator: &rng))
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias"])
        #expect(model(Tensor.ones([7, 2])).shape == [7, 1])
    }

    @Test func trainAndEvalPropagate() {
        var rng = SeededGenerator(seed: 4)
        let block = Block(&rng)
        block.eval()
        #expect(!block.isTraining && !block.encoder.isTraining && !block.drop.isTraining)
        #expect(!block.encoder[0].isTraining && !block.heads[1].isTraining)
        block.train()
        #expect(block.isTraining && block.drop.isTraining && block.encoder[1].isTraining)
    }

    @Test func stateDictRoundTrip() throws {
        var rng = SeededGenerator(seed: 5)
        let a = Sequential<Double>(Linear(3, 5, generator: &rng), Tanh(), Linear(5, 2, generator: &rng))
        let b = Sequential<Double>(Linear(3, 5, generator: &rng), Tanh(), Linear(5, 2, generator: &rng))
        let x = randn([4, 3], seed: 9)
        #expect(a(x) != b(x))
        let saved = a.stateDict()
        #expect(saved.keys.sorted() == ["0.bias", "0.weight", "2.bias", "2.weight"])
        let bWeight = b.parameters()[0]
        let optimizer = SGD(parameters: b.parameters(), learningRate: 0.1)
        try b.loadStateDict(saved)
        #expect(a(x) == b(x))
        // Loaded in place: the optimizer's tensors are the model's, and see the values.
        #expect(bWeight == saved["0.weight"]!)
        // A state dict is a snapshot: a later step does not change it.
        (b(x).squared()).sum().backward()
        optimizer.step()
        #expect(b.parameters()[0] != saved["0.weight"]!)
        #expect(saved["0.weight"]! == a.parameters()[0])
        #expect(a.stateDict()["0.weight"]! == saved["0.weight"]!)
    }

    @Test func loadStateDictErrors() throws {
        var rng = SeededGenerator(seed: 6)
        let model = Sequential<Float>(Linear(4, 8, generator: &rng), ReLU(), Linear(8, 2, generator: &rng))
        let before = model.stateDict()
        var dict = before
        dict["0.weight"] = Tensor.zeros([4, 8])
        #expect(throws: StateDictError.self) { try model.loadStateDict(dict) }
        do {
            try model.loadStateDict(dict)
        } catch let error as StateDictError {
            #expect(error.description == "0.weight: expected [8, 4], got [4, 8]")
        }
        // Shape mismatches are errors even when not strict; nothing was written.
        do {
            try model.loadStateDict(dict, strict: false)
            Issue.record("expected a shape error")
        } catch let error as StateDictError {
            #expect(error.problems == ["0.weight: expected [8, 4], got [4, 8]"])
        }
        #expect(model.stateDict() == before)

        var missing = before
        missing["2.bias"] = nil
        missing["3.weight"] = Tensor.zeros([1])
        do {
            try model.loadStateDict(missing)
            Issue.record("expected missing and unexpected keys")
        } catch let error as StateDictError {
            #expect(error.problems == ["2.bias: missing from the state dict",
                                       "3.weight: unexpected key (the module has no such parameter)"])
        }
        // Not strict: the keys that match are loaded, the others ignored.
        missing["0.bias"] = Tensor.ones([8])
        try model.loadStateDict(missing, strict: false)
        #expect(model.stateDict()["0.bias"]! == Tensor.ones([8]))
        #expect(model.stateDict()["2.bias"]! == before["2.bias"]!)
    }

    // MARK: Linear

    @Test func linearInitialisationIsPyTorchs() {
        var rng = SeededGenerator(seed: 7)
        let layer = Linear<Double>(16, 300, generator: &rng)
        let bound = 1 / 4.0
        for t in [layer.weight, layer.bias!] {
            #expect(t.scalars.allSatisfy { $0 >= -bound && $0 < bound })
        }
        // Uniform on [-1/4, 1/4]: mean about 0, variance (1/2)² / 12.
        let w = layer.weight.scalars
        let mean = w.reduce(0, +) / Double(w.count)
        let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)
        #expect(Swift.abs(mean) < 0.01)
        #expect(Swift.abs(variance - 0.25 / 12) < 0.001)
        // The global generator gives the same layer as an explicit one with the same seed.
        GlobalRandom.seed(11)
        let fromGlobal = Linear<Float>(3, 2)
        var g = SeededGenerator(seed: 11)
        let explicit = Linear<Float>(3, 2, generator: &g)
        #expect(fromGlobal.weight == explicit.weight && fromGlobal.bias! == explicit.bias!)
        #expect(Linear<Float>(3, 2, bias: false, generator: &g).bias == nil)
    }

    /// the lab, the lab's Linear layer: forward, backward with dJ/dz = (1, 1), one step.
    @Test func labLinearWorkedExample() {
        let x = Tensor<Double>([2, 10, 5])
        let w: Tensor<Double> = [[1, 5, 7], [3, 2, 4]]
        #expect(Linear(weight: w, bias: Tensor([4, 8]))(x) == Tensor([91, 54]))

        let layer = Linear(weight: w, bias: Tensor([4, 9]))
        let input = x.requiringGrad()
        let z = layer(input)
        #expect(z == Tensor([91, 55]))
        z.backward(seed: Tensor([1, 1]))
        #expect(input.grad! == Tensor([4, 7, 11]))
        #expect(layer.weight.grad! == Tensor([[2, 10, 5], [2, 10, 5]]))
        #expect(layer.bias!.grad! == Tensor([1, 1]))

        SGD(parameters: layer.parameters(), learningRate: 0.1).step()
        expectClose(layer.weight, [[0.8, 4.0, 6.5], [2.8, 1.0, 3.5]], rtol: 0, atol: 1e-12)
        expectClose(layer.bias!, [3.9, 8.9], rtol: 0, atol: 1e-12)
    }

    @Test func linearShapes() {
        var rng = SeededGenerator(seed: 8)
        let layer = Linear<Double>(3, 2, generator: &rng)
        let batch = randn([5, 3], seed: 1)
        let y = layer(batch)
        #expect(y.shape == [5, 2])
        for i in 0..<5 { expectClose(layer(batch[i]), y[i], rtol: 1e-12, atol: 1e-12) }
        expectClose(y, matmul(batch, layer.weight.T) + layer.bias!, rtol: 1e-12, atol: 1e-12)
        let stacked = layer(randn([2, 4, 3], seed: 2))
        #expect(stacked.shape == [2, 4, 2])
        let noBias = Linear(weight: layer.weight, bias: nil)
        expectClose(noBias(batch), matmul(batch, layer.weight.T), rtol: 1e-12, atol: 1e-12)
    }

    @Test func gradcheckLinear() {
        let x = randn([4, 3], seed: 20), w = randn([2, 3], seed: 21), b = randn([2], seed: 22)
        let layer = Linear(weight: w, bias: b)
        expectGradcheck("Linear batch", [x, w, b]) { v in
            layer.weight = v[1]
            layer.bias = v[2]
            return layer(v[0])
        }
        expectGradcheck("Linear point", [x[0], w, b]) { v in linear(v[0], weight: v[1], bias: v[2]) }
        expectGradcheck("Linear no bias, rank 3", [randn([2, 2, 3], seed: 23), w]) { v in linear(v[0], weight: v[1]) }
    }

    // MARK: activations

    /// Each activation module, its functional form, and PyTorch's name for it.
    static func activationModules() -> [(String, any Module<Double>, (Tensor<Double>) -> Tensor<Double>)] {
        [("ReLU", ReLU(), { relu($0) }),
         ("ReLU(scale: 3)", ReLU(scale: 3), { relu($0) * 3 }),
         ("LeakyReLU(0.1)", LeakyReLU(negativeSlope: 0.1), { leakyReLU($0, negativeSlope: 0.1) }),
         ("Tanh", Tanh(), { tanh($0) }),
         ("Sigmoid", Sigmoid(), { sigmoid($0) }),
         ("Softplus(beta: 2)", Softplus(beta: 2, threshold: 20), { softplus($0, beta: 2, threshold: 20) }),
         ("GELU", GELU(), { gelu($0) }),
         ("GELU(tanh)", GELU(approximate: .tanh), { gelu($0, approximate: .tanh) }),
         ("ELU(0.5)", ELU(alpha: 0.5), { elu($0, alpha: 0.5) }),
         ("SiLU", SiLU(), { silu($0) }),
         ("Softmax(axis: 0)", Softmax(axis: 0), { softmax($0, axis: 0) }),
         ("LogSoftmax", LogSoftmax(), { logSoftmax($0, axis: -1) }),
         ("SoftArgmax(beta: 2)", SoftArgmax(beta: 2), { softargmax($0, beta: 2, axis: -1) }),
         ("Identity", Identity(), { $0 })]
    }

    @Test func activationModulesMatchFunctions() {
        // Away from the kinks, so that finite differences are valid below.
        let x = randn([3, 5], seed: 30) * 2 + 0.05
        for (name, module, function) in Self.activationModules() {
            #expect(module(x) == function(x), "\(name)")
            #expect(module.namedParameters().isEmpty, "\(name)")
        }
        #expect(ReLU<Double>(scale: 3)(Tensor([-4, 0, 10, 5])) == Tensor([0, 0, 30, 15]))
        expectClose(Softmax<Double>()(Tensor([10, 5])), Tensor([0.9933071490757153, 0.0066928509242848554]), rtol: 1e-12)
    }

    @Test func gradcheckActivationModules() {
        let x = randn([3, 5], seed: 31) * 2 + 0.05
        for (name, module, _) in Self.activationModules() {
            expectGradcheck(name, [x]) { v in module(v[0]) }
        }
        // The homework's 3 ReLU: local Jacobian diag(3 · 1[s > 0]), 0 at exactly 0 (PyTorch's convention).
        let s = Tensor<Double>([-1, 0, 2]).requiringGrad()
        ReLU(scale: 3)(s).backward(seed: Tensor([1, 1, 1]))
        #expect(s.grad! == Tensor([0, 0, 3]))
    }

    // MARK: dropout

    @Test func dropoutTrainingAndEval() {
        let drop = Dropout<Double>(probability: 0.25, seed: 42)
        let x = Tensor<Double>.ones([4000]).requiringGrad()
        let y = drop(x)
        let values = Set(y.scalars)
        #expect(values == [0, 1 / 0.75])
        let zeros = y.scalars.filter { $0 == 0 }.count
        #expect(Swift.abs(Double(zeros) / 4000 - 0.25) < 0.03, "\(zeros) zeros of 4000")
        // The gradient is the same mask.
        y.sum().backward()
        #expect(x.grad! == y.detached())
        // Seeded: the same seed gives the same mask; the next call another one.
        #expect(Dropout<Double>(probability: 0.25, seed: 42)(x) == y.detached())
        #expect(drop(x) != y.detached())
        drop.eval()
        #expect(drop(x) == x)
        #expect(Dropout<Double>(probability: 1, seed: 1)(x) == Tensor.zeros([4000]))
        #expect(Dropout<Double>(probability: 0, seed: 1)(x) == x)
    }

    // MARK: the homework's loop

    /// Issue 3 §6: the training loop of the homework is five lines, and stays five lines.
    @Test func fiveStepLoop() {
        // The homework's regression network (the homework): Linear -> 3 ReLU -> Linear -> identity, one point.
        let model = Sequential<Double>(
            Linear(weight: [[1, 2], [2, 5], [7, 3]], bias: [4, 2, 1]),
            ReLU(scale: 3),
            Linear(weight: [[4, 1, 2], [3, 4, 1]], bias: [5, 1]),
            Identity())
        let x = Tensor<Double>([10, 5]), y = Tensor<Double>([320, 340])
        let optimizer = SGD(parameters: model.parameters(), learningRate: 1e-6)

        var losses: [Double] = []
        for _ in 0..<5 {
            let yHat = model(x)
            let loss = mseLoss(yHat, y, reduction: .sum)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item)
            if losses.count == 1 {
                // By hand: s1 = W1 x + b1 = (24, 47, 86), a1 = 3 s1 = (72, 141, 258),
                // y~ = W2 a1 + b2 = (950, 1039), loss = 630² + 699² = 885501;
                // dL/dW2 = 2 (y~ - y) a1ᵀ, dL/db2 = 2 (y~ - y).
                let w2 = (model[2] as! Linear<Double>)
                let r = [2 * 630.0, 2 * 699.0], a1 = [72.0, 141, 258]
                let expected = Tensor<Double>([[4, 1, 2], [3, 4, 1]]) - Tensor(r.map { ri in a1.map { ri * $0 } }) * 1e-6
                expectClose(w2.weight, expected, rtol: 1e-12)
                expectClose(w2.bias!, Tensor([5 - 1e-6 * r[0], 1 - 1e-6 * r[1]]), rtol: 1e-12)
            }
        }
        #expect(losses[0] == 885501)
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $0.1 < $0.0 }, "\(losses)")
    }

    /// The README's example, verbatim but for `print`, which becomes `losses.append`.
    @Test func readmeFiveStepLoop() {
        var losses: [Float] = []
        // --- README begins
        var rng = SeededGenerator(seed: 0)
        let model = Sequential<Float>(
            Linear(2, 16, generator: &rng), Tanh(),
            Linear(16, 1, generator: &rng))
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)

        let x = Tensor<Float>.randomUniform([64, 2], low: -2, high: 2, generator: &rng)
        let y = sin(x.sliced(axis: 1, 0..<1)) * x.sliced(axis: 1, 1..<2)   // y = sin(x1) x2

        for epoch in 0..<200 {
            let yHat = model(x)
            let loss = mseLoss(yHat, y)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            if epoch % 50 == 0 || epoch == 199 { losses.append(loss.item) }   // README: print(epoch, loss.item)
        }
        // --- README ends
        #expect(losses.last! < 0.01 * losses.first!, "\(losses)")
    }
}

// MARK: - training to a stated quality

@Suite struct NNTrainingTests {
    /// y = sin x on [-π, π], 64 points, full batch: a 1-16-16-1 tanh network
    /// with Adam reaches a mean squared error below 0.001 (the variance of sin x is 0.5).
    @Test func sineRegression() {
        var rng = SeededGenerator(seed: 2024)
        let x = Tensor<Float>.linspace(-.pi, .pi, count: 64).reshaped(to: [64, 1])
        let y = sin(x)
        let model = Sequential<Float>(Linear(1, 16, generator: &rng), Tanh(), Linear(16, 16, generator: &rng), Tanh(),
                                      Linear(16, 1, generator: &rng))
        let optimizer = Adam(parameters: model.parameters(), learningRate: 0.02)
        var loss = Tensor<Float>(0)
        for _ in 0..<400 {
            loss = mseLoss(model(x), y)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        let final = noGrad { mseLoss(model(x), y) }.item
        #expect(final < 0.001, "final MSE \(final)")
    }

    /// The classic 3-class spiral, 3 x 60 points with noise: a 2-16-16-3 ReLU
    /// network trained with cross-entropy (Adam, 300 full-batch steps) reaches
    /// at least 95% training accuracy and a loss below 0.1.
    @Test func spiralClassification() {
        var rng = SeededGenerator(seed: 7)
        let perClass = 60, classes = 3
        var points: [Float] = [], labels: [Int] = []
        for c in 0..<classes {
            for i in 0..<perClass {
                let r = Double(i) / Double(perClass - 1)
                let angle = Double(c) * 4 + r * 4 + rng.nextNormal() * 0.2
                points += [Float(r * Double.sin(angle)), Float(r * Double.cos(angle))]
                labels.append(c)
            }
        }
        let x = Tensor<Float>(shape: [perClass * classes, 2], scalars: points)
        let model = Sequential<Float>(Linear(2, 16, generator: &rng), ReLU(), Linear(16, 16, generator: &rng), ReLU(),
                                      Linear(16, classes, generator: &rng))
        let optimizer = Adam(parameters: model.parameters(), learningRate: 0.02)
        let schedule = StepLR(optimizer: optimizer, stepSize: 150, gamma: 0.5)
        for _ in 0..<300 {
            let loss = crossEntropy(model(x), classIndices: labels)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            schedule.step()
        }
        let predicted = noGrad { model(x) }.argmax(axis: -1).scalars.map { Int($0) }
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
        let loss = noGrad { crossEntropy(model(x), classIndices: labels) }.item
        #expect(accuracy >= 0.95, "accuracy \(accuracy), loss \(loss)")
        #expect(loss < 0.1, "loss \(loss)")
    }
}

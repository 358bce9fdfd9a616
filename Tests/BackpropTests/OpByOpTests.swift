import Testing
import Backprop
import BackpropBenchmarks

@Suite("Op-by-op training step")
struct OpByOpTests {
    @Test("addInPlace: p ← p + alpha·other in the variable's storage, outside the graph")
    func addInPlace() {
        let w = Tensor<Double>([1, 2, 3], requiresGrad: true)
        let model = [w]                      // a copy shares the variable
        let before = w.detached()
        ((w * w).sum()).backward()           // ∂/∂w Σ w² = 2w = [2, 4, 6]
        w.addInPlace(w.grad!, alpha: -0.25)  // w - 0.5 w
        #expect(model[0].scalars == [0.5, 1, 1.5])
        #expect(before.scalars == [1, 2, 3])
        #expect(w.requiresGrad && w.grad!.scalars == [2, 4, 6] && w.isLeaf)
        w.addInPlace(w)                      // reads the old values while writing
        #expect(w.scalars == [1, 2, 3])
    }

    @Test("the op-by-op step computes what Linear, ReLU, mseLoss and SGD compute")
    func sameAsLayers() {
        var rngA = SeededGenerator(seed: 7), rngB = SeededGenerator(seed: 7)
        let model = Sequential<Float>(Linear(3, 32, generator: &rngA), ReLU(scale: 3), Linear(32, 2, generator: &rngA))
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.01)
        let net = OpByOpNetwork(sizes: [3, 32, 2], reluScale: 3, generator: &rngB)
        let x = Tensor<Float>([[0.5, -1, 2]]), y = Tensor<Float>([[1, -2]])
        for _ in 0..<3 {
            let loss = mseLoss(model(x), y, reduction: .sum)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            let opLoss = net.step(x, y, learningRate: 0.01)
            #expect(Swift.abs(opLoss - loss.item) <= 1e-5 * Swift.max(1, Swift.abs(loss.item)))
        }
        let linears = model.layers.compactMap { $0 as? Linear<Float> }
        for (i, layer) in linears.enumerated() {
            #expect(net.weights[i].isClose(to: layer.weight.transposed(), rtol: 1e-5, atol: 1e-6))
            #expect(net.biases[i].isClose(to: layer.bias!, rtol: 1e-5, atol: 1e-6))
        }
    }
}

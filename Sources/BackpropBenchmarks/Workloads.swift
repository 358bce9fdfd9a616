import Backprop
import Foundation

/// The training workloads of `backprop bench`, the same ones that
/// `benchmarks/compare.py` runs in PyTorch: float32, plain SGD with lr 0.01,
/// random inputs; one step is forward, loss, zeroGrad, backward and step.
/// Like a program that depends on the library, they use public API only.
///
/// ```swift
/// let result = TrainingWorkload.mnist.measure(minimumSeconds: 1)
/// print(result.medianMicrosecondsPerStep)
/// ```
public enum TrainingWorkload: String, CaseIterable, Sendable {
    /// 3 -> 32 -> 2, 3 ReLU, MSE (sum), batch 1.
    case tiny
    /// The `tiny` step written op by op (``OpByOpNetwork``): `matmul`, `+`,
    /// `relu`, `mseLoss`, `zeroGrad`, `backward`, a hand-written SGD update.
    case tinyOps = "tiny-ops"
    /// 784 -> 256 -> 10, ReLU, cross-entropy (mean), batch 128.
    case mnist
    /// 1024 -> 1024 -> 1024 -> 10, ReLU, cross-entropy (mean), batch 256.
    case wide
    /// Conv2d(1, 32, 3) -> ReLU -> MaxPool2d(2) -> Conv2d(32, 64, 3) -> ReLU ->
    /// MaxPool2d(2) -> Flatten -> Linear(1600, 10) on [64, 1, 28, 28], cross-entropy (mean).
    case cnn

    /// Layer sizes (inputs, hidden widths, outputs; for `cnn`: 28·28 pixels, 1600 features, 10 classes).
    public var sizes: [Int] {
        switch self {
        case .tiny, .tinyOps: [3, 32, 2]
        case .mnist: [784, 256, 10]
        case .wide: [1024, 1024, 1024, 10]
        case .cnn: [784, 1600, 10]
        }
    }

    /// The network in one short line, as `backprop bench` prints it.
    public var networkDescription: String {
        self == .cnn ? "conv32-pool-conv64-pool-10" : sizes.map(String.init).joined(separator: " -> ")
    }

    /// Examples per step (1, 128 or 256).
    public var batchSize: Int {
        switch self {
        case .tiny, .tinyOps: 1
        case .mnist: 128
        case .wide: 256
        case .cnn: 64
        }
    }

    /// What one measurement gives.
    public struct Result: Sendable {
        /// The workload measured.
        public let workload: TrainingWorkload
        /// Timed steps (warm-up excluded).
        public let steps: Int
        /// The median wall-clock time of one timed step, in microseconds.
        public let medianMicrosecondsPerStep: Double
        /// The loss after the last step, so that a broken step is visible.
        public let finalLoss: Float
    }

    /// Builds the model and data, runs `warmupSteps`, then times single steps
    /// until `minimumSeconds` have passed (and at least `minimumSteps`), and
    /// returns the median.
    public func measure(minimumSeconds: Double = 1, minimumSteps: Int = 20, warmupSteps: Int = 10, seed: UInt64 = 0) -> Result {
        var rng = SeededGenerator(seed: seed)
        let step: () -> Float
        if self == .tinyOps {
            let network = OpByOpNetwork(sizes: sizes, reluScale: 3, generator: &rng)
            let x = Tensor<Float>.randomNormal([batchSize, sizes[0]], generator: &rng)
            let y = Tensor<Float>.randomNormal([batchSize, sizes.last!], generator: &rng)
            step = { network.step(x, y, learningRate: 0.01) }
        } else {
            step = layerStep(generator: &rng)
        }
        var lastLoss: Float = .nan
        for _ in 0..<warmupSteps { lastLoss = step() }
        var durations: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while durations.count < minimumSteps
                || Double(DispatchTime.now().uptimeNanoseconds - start) < minimumSeconds * 1e9 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            lastLoss = step()
            durations.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
        }
        durations.sort()
        return Result(workload: self, steps: durations.count, medianMicrosecondsPerStep: durations[durations.count / 2],
                      finalLoss: lastLoss)
    }

    /// One step through the layers: `Sequential` of `Linear` and `ReLU`, the loss, `SGD`.
    private func layerStep(generator rng: inout SeededGenerator) -> () -> Float {
        var layers: [any Module<Float>] = []
        if self == .cnn {
            layers = [Conv2d<Float>(1, 32, kernelSize: 3, generator: &rng), ReLU<Float>(), MaxPool2d<Float>(kernelSize: 2),
                      Conv2d<Float>(32, 64, kernelSize: 3, generator: &rng), ReLU<Float>(), MaxPool2d<Float>(kernelSize: 2),
                      Flatten<Float>(), Linear<Float>(1600, 10, generator: &rng)]
        } else {
            for i in 0..<(sizes.count - 1) {
                layers.append(Linear<Float>(sizes[i], sizes[i + 1], generator: &rng))
                if i < sizes.count - 2 { layers.append(ReLU<Float>(scale: self == .tiny ? 3 : 1)) }
            }
        }
        let model = Sequential<Float>(layers)
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.01)
        let x = Tensor<Float>.randomNormal(self == .cnn ? [batchSize, 1, 28, 28] : [batchSize, sizes[0]], generator: &rng)
        let classes = sizes.last!
        let yRegression = Tensor<Float>.randomNormal([batchSize, classes], generator: &rng)
        let yClasses = (0..<batchSize).map { _ in rng.nextInt(below: classes) }
        let regression = self == .tiny
        return {
            let yHat = model(x)
            let loss = regression ? mseLoss(yHat, yRegression, reduction: .sum)
                                  : crossEntropy(yHat, classIndices: yClasses)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            return loss.item
        }
    }
}

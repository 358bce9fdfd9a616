import BackpropCore
import BackpropNN
import BackpropData
import Foundation

/// The training workloads of `backprop bench`, the same ones that
/// `benchmarks/compare.py` runs in PyTorch: float32, plain SGD with lr 0.01,
/// random inputs; one step is forward, loss, zeroGrad, backward and step.
///
/// ```swift
/// let result = TrainingWorkload.mnist.measure(minimumSeconds: 1)
/// print(result.medianMicrosecondsPerStep)
/// ```
public enum TrainingWorkload: String, CaseIterable, Sendable {
    /// 3 -> 32 -> 2, 3 ReLU, MSE (sum), batch 1.
    case tiny
    /// 784 -> 256 -> 10, ReLU, cross-entropy (mean), batch 128.
    case mnist
    /// 1024 -> 1024 -> 1024 -> 10, ReLU, cross-entropy (mean), batch 256.
    case wide

    /// Layer sizes.
    public var sizes: [Int] {
        switch self {
        case .tiny: [3, 32, 2]
        case .mnist: [784, 256, 10]
        case .wide: [1024, 1024, 1024, 10]
        }
    }

    /// Examples per step (1, 128 or 256).
    public var batchSize: Int {
        switch self {
        case .tiny: 1
        case .mnist: 128
        case .wide: 256
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
        var layers: [any Module<Float>] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(Linear<Float>(sizes[i], sizes[i + 1], generator: &rng))
            if i < sizes.count - 2 { layers.append(ReLU<Float>(scale: self == .tiny ? 3 : 1)) }
        }
        let model = Sequential<Float>(layers)
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.01)
        let x = Tensor<Float>.randomNormal([batchSize, sizes[0]], generator: &rng)
        let classes = sizes.last!
        let yRegression = Tensor<Float>.randomNormal([batchSize, classes], generator: &rng)
        let yClasses = (0..<batchSize).map { _ in rng.nextInt(below: classes) }
        var lastLoss: Float = .nan

        func step() {
            let yHat = model(x)
            let loss = self == .tiny ? mseLoss(yHat, yRegression, reduction: .sum)
                                     : crossEntropy(yHat, classIndices: yClasses)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            lastLoss = loss.item
        }

        for _ in 0..<warmupSteps { step() }
        var durations: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while durations.count < minimumSteps
                || Double(DispatchTime.now().uptimeNanoseconds - start) < minimumSeconds * 1e9 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            step()
            durations.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
        }
        durations.sort()
        return Result(workload: self, steps: durations.count, medianMicrosecondsPerStep: durations[durations.count / 2],
                      finalLoss: lastLoss)
    }
}

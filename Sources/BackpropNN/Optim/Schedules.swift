import BackpropCore
import Foundation

/// A learning-rate schedule: call ``step()`` once per epoch, after the
/// optimizer's step, as in PyTorch.
///
/// ```swift
/// let schedule = StepLR(optimizer: optimizer, stepSize: 30, gamma: 0.1)
/// for _ in 0..<epochs { train(); schedule.step() }
/// ```
public protocol LearningRateSchedule: AnyObject {
    /// Advances one epoch and sets the optimizer's learning rate.
    func step()
    /// The number of calls to ``step()`` so far (PyTorch's `last_epoch`).
    var epoch: Int { get }
}

/// Multiplies the learning rate by `gamma` every `stepSize` epochs
/// (`torch.optim.lr_scheduler.StepLR`).
///
/// ```swift
/// StepLR(optimizer: optimizer, stepSize: 3, gamma: 0.5)   // 0.1, 0.1, 0.1, 0.05, ...
/// ```
public final class StepLR: LearningRateSchedule {
    /// The optimizer whose learning rate this sets.
    public let optimizer: any Optimizer
    /// Epochs between two decays.
    public let stepSize: Int
    /// The factor of each decay.
    public let gamma: Double
    /// Calls to ``step()`` so far.
    public private(set) var epoch = 0

    /// Decays `optimizer`'s learning rate by `gamma` every `stepSize` epochs.
    public init(optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
        self.optimizer = optimizer
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// Advances one epoch and sets the optimizer's learning rate.
    public func step() {
        epoch += 1
        // PyTorch's recursive form: changes made to the rate in between persist.
        if epoch % stepSize == 0 { optimizer.learningRate *= gamma }
    }
}

/// Cosine annealing from the initial rate η₀ down to `etaMin` over `tMax`
/// epochs (`torch.optim.lr_scheduler.CosineAnnealingLR`):
///
///     η_t = η_min + (η₀ - η_min)(1 + cos(π t / T_max)) / 2
///
/// computed with PyTorch's recursive update, so the sequence agrees with
/// PyTorch's to rounding, also past `tMax` (where the rate rises again).
public final class CosineAnnealingLR: LearningRateSchedule {
    /// The optimizer whose learning rate this sets.
    public let optimizer: any Optimizer
    /// The number of epochs from η₀ down to `etaMin` (half a period).
    public let tMax: Int
    /// The smallest learning rate.
    public let etaMin: Double
    /// η₀, the learning rate when the schedule was made.
    public let initialLearningRate: Double
    /// Calls to ``step()`` so far.
    public private(set) var epoch = 0

    /// Anneals from the optimizer's current learning rate to `etaMin` over `tMax` epochs.
    public init(optimizer: any Optimizer, tMax: Int, etaMin: Double = 0) {
        precondition(tMax > 0, "CosineAnnealingLR: tMax must be positive, got \(tMax)")
        self.optimizer = optimizer
        self.tMax = tMax
        self.etaMin = etaMin
        initialLearningRate = optimizer.learningRate
    }

    /// Advances one epoch and sets the optimizer's learning rate.
    public func step() {
        epoch += 1
        let t = Double(epoch), T = Double(tMax)
        let lr = optimizer.learningRate
        if (epoch - 1 - tMax) % (2 * tMax) == 0 {
            optimizer.learningRate = lr + (initialLearningRate - etaMin) * (1 - cos(Double.pi / T)) / 2
        } else {
            optimizer.learningRate = (1 + cos(Double.pi * t / T)) / (1 + cos(Double.pi * (t - 1) / T)) * (lr - etaMin) + etaMin
        }
    }
}

/// Scales the gradients of `parameters` in place so that their global 2-norm
/// is at most `maxNorm` (`torch.nn.utils.clip_grad_norm_`), and returns the
/// norm before clipping. Parameters without a gradient are ignored.
///
///     ‖g‖ = √(Σ_p ‖g_p‖²),   g_p ← g_p · min(1, maxNorm / (‖g‖ + 1e-6))
///
/// ```swift
/// loss.backward()
/// let norm = clipGradNorm(model.parameters(), maxNorm: 1)
/// optimizer.step()
/// ```
@discardableResult
public func clipGradNorm<S: TensorScalar>(_ parameters: [Tensor<S>], maxNorm: Double) -> Double {
    var sumOfSquares = 0.0
    var seen = Set<ObjectIdentifier>()
    let withGrad = parameters.filter { $0.grad != nil && seen.insert(ObjectIdentifier($0.handle)).inserted }
    for p in withGrad {
        let g = p.grad!
        let norm = g.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress!, $0.count) }.squareRoot()
        sumOfSquares += norm * norm
    }
    let total = sumOfSquares.squareRoot()
    let coefficient = min(maxNorm / (total + 1e-6), 1)
    if coefficient < 1 {
        for p in withGrad { p.scaleGrad(by: S(coefficient)) }
    }
    return total
}

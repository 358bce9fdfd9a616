import BackpropCore
import RealModule

// Optimizers update parameters in place, outside the graph: one kernel pass
// over each parameter's buffers (Kernels/Optimizer.swift). A parameter whose
// `.grad` is nil is skipped, as in PyTorch. Each rule follows PyTorch's
// single-tensor implementation, so ten steps agree with PyTorch to rounding.

/// Something that updates parameters from their gradients: the last two
/// steps of the training loop.
///
/// ```swift
/// let yHat = model(x)
/// let loss = mseLoss(yHat, y, reduction: .sum)
/// optimizer.zeroGrad()
/// loss.backward()
/// optimizer.step()
/// ```
public protocol Optimizer: AnyObject {
    /// Updates every parameter that has a gradient.
    func step()
    /// Clears the gradients of the parameters (sets `.grad` to nil).
    func zeroGrad()
    /// η, read and changed by the learning-rate schedules.
    var learningRate: Double { get set }
}

/// One optimizer-state buffer per parameter, allocated on first use.
struct StateBuffers<Scalar: TensorScalar> {
    var buffers: [TensorStorage<Scalar>?]

    init(count: Int) { buffers = Array(repeating: nil, count: count) }

    /// The buffer of parameter `i`, zero-filled when new; `isNew` tells which.
    mutating func pointer(_ i: Int, count: Int) -> (pointer: UnsafeMutablePointer<Scalar>, isNew: Bool) {
        if let b = buffers[i] { return (b.base, false) }
        let b = TensorStorage<Scalar>.make(zeroedCount: count)
        buffers[i] = b
        return (b.base, true)
    }
}

/// Runs `body(index, parameter pointer, gradient pointer, count)` for every
/// parameter that has a gradient.
func forEachParameterWithGradient<S: TensorScalar>(
    _ parameters: [Tensor<S>],
    _ body: (Int, UnsafeMutablePointer<S>, UnsafePointer<S>, Int) -> Void
) {
    for (i, p) in parameters.enumerated() {
        guard let g = p.grad else { continue }
        precondition(g.shape == p.shape, "optimizer: gradient shape \(g.shape) does not match parameter shape \(p.shape)")
        // `base`, not the public `withUnsafeBufferPointer`, which is generic over
        // its result and so runs unspecialised from this module.
        withExtendedLifetime(g) { p.updateInPlace { pp, n in body(i, pp, g.base, n) } }
    }
}

/// Stochastic gradient descent with optional momentum, dampening, Nesterov
/// momentum and L2 weight decay, exactly as `torch.optim.SGD`:
///
///     g ← ∇θ + λ θ
///     b ← g on the first step, then μ b + (1 - τ) g
///     g ← g + μ b (Nesterov) or b
///     θ ← θ - η g
///
/// ```swift
/// let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)
/// ```
public final class SGD<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates (the model's own variables, not copies).
    public let parameters: [Tensor<Scalar>]
    /// η.
    public var learningRate: Double
    /// μ; 0 for plain SGD.
    public let momentum: Double
    /// τ: the buffer takes (1 - τ) of each new gradient.
    public let dampening: Double
    /// Nesterov momentum: step along g + μ b.
    public let nesterov: Bool
    /// λ, the L2 penalty added to the gradient.
    public let weightDecay: Double
    var momentumBuffers: StateBuffers<Scalar>

    /// SGD over `parameters` with PyTorch's defaults (no momentum, no decay).
    public init(parameters: [Tensor<Scalar>], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                nesterov: Bool = false, weightDecay: Double = 0) {
        precondition(learningRate >= 0, "SGD: learning rate must not be negative, got \(learningRate)")
        precondition(momentum >= 0, "SGD: momentum must not be negative, got \(momentum)")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        momentumBuffers = StateBuffers(count: parameters.count)
    }

    /// One update of every parameter that has a gradient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step() {
        forEachParameterWithGradient(parameters) { i, p, g, n in
            if momentum == 0 && weightDecay == 0 {
                // Plain SGD, θ ← θ - η g: one fused multiply-add pass.
                Kernels.axpy(Scalar(-learningRate), g, p, n)
                return
            }
            var buffer: UnsafeMutablePointer<Scalar>? = nil
            var first = false
            if momentum != 0 { (buffer, first) = momentumBuffers.pointer(i, count: n) }
            Kernels.sgdStep(param: p, grad: g, momentumBuffer: buffer, count: n,
                            learningRate: Scalar(learningRate), momentum: Scalar(momentum),
                            dampening: Scalar(dampening), nesterov: nesterov,
                            weightDecay: Scalar(weightDecay), firstStep: first)
        }
    }

    /// Sets every parameter's `.grad` to nil.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Adam (`torch.optim.Adam`), with optional L2 weight decay added to the
/// gradient and optional AMSGrad:
///
///     m ← β1 m + (1 - β1) g,   v ← β2 v + (1 - β2) g²
///     θ ← θ - η/(1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + ε)
///
/// ```swift
/// let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-3)
/// ```
public final class Adam<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates (the model's own variables, not copies).
    public let parameters: [Tensor<Scalar>]
    /// η.
    public var learningRate: Double
    /// The decay rate of the first moment.
    public let beta1: Double
    /// The decay rate of the second moment.
    public let beta2: Double
    /// ε, added to the denominator.
    public let eps: Double
    /// λ: L2 added to the gradient (Adam) or decoupled decay (AdamW).
    public let weightDecay: Double
    /// Use the largest second moment so far (AMSGrad).
    public let amsgrad: Bool
    /// Decoupled decay (AdamW) instead of L2 added to the gradient.
    let decoupled: Bool
    var steps: [Int]
    var firstMoments, secondMoments, maxSecondMoments: StateBuffers<Scalar>

    /// Adam with PyTorch's defaults: η = 1e-3, β = (0.9, 0.999), ε = 1e-8.
    public convenience init(parameters: [Tensor<Scalar>], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) {
        self.init(parameters: parameters, learningRate: learningRate, betas: betas, eps: eps,
                  weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
    }

    init(parameters: [Tensor<Scalar>], learningRate: Double, betas: (Double, Double), eps: Double,
         weightDecay: Double, amsgrad: Bool, decoupled: Bool) {
        precondition(learningRate >= 0, "Adam: learning rate must not be negative, got \(learningRate)")
        precondition((0..<1).contains(betas.0) && (0..<1).contains(betas.1), "Adam: betas must be in [0, 1), got \(betas)")
        self.parameters = parameters
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupled = decoupled
        steps = Array(repeating: 0, count: parameters.count)
        firstMoments = StateBuffers(count: parameters.count)
        secondMoments = firstMoments
        maxSecondMoments = firstMoments
    }

    /// One update of every parameter that has a gradient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step() {
        forEachParameterWithGradient(parameters) { i, p, g, n in
            steps[i] += 1
            let t = Double(steps[i])
            let biasCorrection1 = 1 - Double.pow(beta1, t)
            let biasCorrection2 = 1 - Double.pow(beta2, t)
            let m = firstMoments.pointer(i, count: n).pointer
            let v = secondMoments.pointer(i, count: n).pointer
            let vmax = amsgrad ? maxSecondMoments.pointer(i, count: n).pointer : nil
            Kernels.adamStep(param: p, grad: g, firstMoment: m, secondMoment: v, maxSecondMoment: vmax, count: n,
                             stepSize: Scalar(learningRate / biasCorrection1),
                             biasCorrection2Sqrt: Scalar(biasCorrection2.squareRoot()),
                             beta1: Scalar(beta1), beta2: Scalar(beta2), eps: Scalar(eps),
                             l2Decay: decoupled ? 0 : Scalar(weightDecay),
                             decoupledDecayFactor: decoupled ? Scalar(1 - learningRate * weightDecay) : 1)
        }
    }

    /// Sets every parameter's `.grad` to nil.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay,
/// θ ← θ (1 - η λ) before the Adam update. The default λ is 0.01, as in PyTorch.
///
/// ```swift
/// let optimizer = AdamW(parameters: model.parameters(), learningRate: 1e-3, weightDecay: 0.01)
/// ```
public final class AdamW<Scalar: TensorScalar>: Optimizer {
    let adam: Adam<Scalar>
    /// The parameters this optimizer updates.
    public var parameters: [Tensor<Scalar>] { adam.parameters }
    /// η.
    public var learningRate: Double {
        get { adam.learningRate }
        set { adam.learningRate = newValue }
    }
    /// λ: each step multiplies the weights by 1 - η λ.
    public var weightDecay: Double { adam.weightDecay }

    /// AdamW with PyTorch's defaults: η = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0.01.
    public init(parameters: [Tensor<Scalar>], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0.01, amsgrad: Bool = false) {
        adam = Adam(parameters: parameters, learningRate: learningRate, betas: betas, eps: eps,
                    weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
    }

    /// One update of every parameter that has a gradient.
    public func step() { adam.step() }
    /// Sets every parameter's `.grad` to nil.
    public func zeroGrad() { adam.zeroGrad() }
}

/// RMSprop (`torch.optim.RMSprop`), optionally centered and with momentum:
///
///     s ← α s + (1 - α) g²
///     θ ← θ - η g / (√s + ε)      (centered: √(s - ḡ²), ḡ the running mean of g)
///
/// ```swift
/// let optimizer = RMSprop(parameters: model.parameters(), learningRate: 0.01)
/// ```
public final class RMSprop<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates (the model's own variables, not copies).
    public let parameters: [Tensor<Scalar>]
    /// η.
    public var learningRate: Double
    /// α, the decay rate of the squared-gradient average.
    public let alpha: Double
    /// ε, added to the denominator.
    public let eps: Double
    /// λ, the L2 penalty added to the gradient.
    public let weightDecay: Double
    /// μ; 0 for none.
    public let momentum: Double
    /// Divide by the estimated variance instead of the raw second moment.
    public let centered: Bool
    var squareAverages, gradAverages, momentumBuffers: StateBuffers<Scalar>
    /// Steps taken per parameter (PyTorch's `state[p]["step"]`); the update does not use it.
    var steps: [Int]

    /// RMSprop with PyTorch's defaults: η = 0.01, α = 0.99, ε = 1e-8.
    public init(parameters: [Tensor<Scalar>], learningRate: Double = 0.01, alpha: Double = 0.99, eps: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        precondition(learningRate >= 0, "RMSprop: learning rate must not be negative, got \(learningRate)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        squareAverages = StateBuffers(count: parameters.count)
        steps = Array(repeating: 0, count: parameters.count)
        gradAverages = squareAverages
        momentumBuffers = squareAverages
    }

    /// One update of every parameter that has a gradient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step() {
        forEachParameterWithGradient(parameters) { i, p, g, n in
            steps[i] += 1
            let sq = squareAverages.pointer(i, count: n).pointer
            let ga = centered ? gradAverages.pointer(i, count: n).pointer : nil
            let buf = momentum > 0 ? momentumBuffers.pointer(i, count: n).pointer : nil
            Kernels.rmspropStep(param: p, grad: g, squareAverage: sq, gradAverage: ga, momentumBuffer: buf, count: n,
                                learningRate: Scalar(learningRate), alpha: Scalar(alpha), eps: Scalar(eps),
                                momentum: Scalar(momentum), weightDecay: Scalar(weightDecay))
        }
    }

    /// Sets every parameter's `.grad` to nil.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

// Update kernels for the optimizers: one pass over each parameter's buffers.
// Float and Double go to the C kernels of CBackpropKernels (optim.c), through
// requirements of ``TensorScalar`` (`S.sgdStep`, ...; Kernels/TensorScalar+Kernels.swift).
// The C kernels are compiled per instruction set and dispatched like the GEMM kernels: in a
// build without target flags, Swift's SIMD16 square roots and divisions are
// per-lane scalar code, which made Adam several times slower than the memory
// traffic allows. The Swift loops at the end (SIMD16 chunks with a padded last
// chunk), the requirements' defaults, remain for any other scalar type and say the same thing; both
// follow PyTorch's single-tensor (foreach=False) formulas and their order, so
// trajectories agree to rounding (and the two implementations bit for bit:
// the C side does not contract into FMAs).
import CBackpropKernels

/// The C kernels' path argument: the given path, or the current one (`nil`).
@inline(__always) private func isa(_ path: KernelPath?) -> Int32 { path.map { $0.rawValue } ?? -1 }

@inline(__always) private func load<S: TensorScalar>(_ p: UnsafePointer<S>, _ r: Int) -> SIMD16<S> {
    if r == 16 { return loadVector(p) }
    var v = SIMD16<S>(repeating: 0)
    for j in 0..<r { v[j] = p[j] }
    return v
}

@inline(__always) private func store<S: TensorScalar>(_ v: SIMD16<S>, _ p: UnsafeMutablePointer<S>, _ r: Int) {
    if r == 16 { storeVector(v, p); return }
    for j in 0..<r { p[j] = v[j] }
}

/// Calls `body(offset, lanes)` for chunks of 16 elements and a last, shorter one.
@inline(__always) private func chunks(_ n: Int, _ body: (Int, Int) -> Void) {
    var i = 0
    while i < n { body(i, Swift.min(16, n - i)); i += 16 }
}

extension Kernels {
    /// x *= factor.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func scale<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ factor: S, _ n: Int) {
        let f = SIMD16<S>(repeating: factor)
        chunks(n) { i, r in store(load(x + i, r) * f, x + i, r) }
    }

    /// Σ x², accumulated in Double.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func sumOfSquares<S: TensorScalar>(_ x: UnsafePointer<S>, _ n: Int) -> Double {
        var total = 0.0
        var acc = SIMD16<S>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let v = loadVector(x + i)
            acc += v * v
            i += 16
            // Flush every 1024 elements so that Float accumulators stay accurate.
            if i & 1023 == 0 { total += Double(acc.sum()); acc = .zero }
        }
        total += Double(acc.sum())
        while i < n { total += Double(x[i]) * Double(x[i]); i += 1 }
        return total
    }

    /// PyTorch's SGD:
    ///   g ← grad + λ p
    ///   b ← g (first step), else μ b + (1 - τ) g
    ///   g ← g + μ b (Nesterov), else b
    ///   p ← p - η g
    /// `path` forces a kernel path (tests); `nil` uses the current one.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func sgdStep<S: TensorScalar>(param p: UnsafeMutablePointer<S>, grad: UnsafePointer<S>,
                                         momentumBuffer buf: UnsafeMutablePointer<S>?, count n: Int,
                                         learningRate: S, momentum: S, dampening: S, nesterov: Bool,
                                         weightDecay: S, firstStep: Bool, path: KernelPath? = nil) {
        S.sgdStep(param: p, grad: grad, momentumBuffer: buf, count: n, learningRate: learningRate, momentum: momentum,
                  dampening: dampening, nesterov: nesterov, weightDecay: weightDecay, firstStep: firstStep,
                  kernelPath: isa(path))
    }

    /// PyTorch's Adam and AdamW:
    ///   p ← p (1 - η λ)              (AdamW, decoupled decay)
    ///   g ← grad + λ p               (Adam, L2 decay)
    ///   m ← m + (1 - β1)(g - m);  v ← β2 v + (1 - β2) g²;  v̂ ← max(v̂, v) (AMSGrad)
    ///   p ← p - (η / (1 - β1ᵗ)) m / (√v / √(1 - β2ᵗ) + ε)
    /// `path` forces a kernel path (tests); `nil` uses the current one.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func adamStep<S: TensorScalar>(param p: UnsafeMutablePointer<S>, grad: UnsafePointer<S>,
                                          firstMoment m: UnsafeMutablePointer<S>, secondMoment v: UnsafeMutablePointer<S>,
                                          maxSecondMoment vmax: UnsafeMutablePointer<S>?, count n: Int,
                                          stepSize: S, biasCorrection2Sqrt: S, beta1: S, beta2: S, eps: S,
                                          l2Decay: S, decoupledDecayFactor: S, path: KernelPath? = nil) {
        S.adamStep(param: p, grad: grad, firstMoment: m, secondMoment: v, maxSecondMoment: vmax, count: n,
                   stepSize: stepSize, biasCorrection2Sqrt: biasCorrection2Sqrt, beta1: beta1, beta2: beta2, eps: eps,
                   l2Decay: l2Decay, decoupledDecayFactor: decoupledDecayFactor, kernelPath: isa(path))
    }

    /// PyTorch's RMSprop:
    ///   g ← grad + λ p;  s ← α s + (1 - α) g²
    ///   centered: ḡ ← ḡ + (1 - α)(g - ḡ), a ← √(s - ḡ²) + ε; else a ← √s + ε
    ///   momentum: b ← μ b + g / a, p ← p - η b; else p ← p - η g / a
    /// `path` forces a kernel path (tests); `nil` uses the current one.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func rmspropStep<S: TensorScalar>(param p: UnsafeMutablePointer<S>, grad: UnsafePointer<S>,
                                             squareAverage sq: UnsafeMutablePointer<S>,
                                             gradAverage ga: UnsafeMutablePointer<S>?,
                                             momentumBuffer buf: UnsafeMutablePointer<S>?, count n: Int,
                                             learningRate: S, alpha: S, eps: S, momentum: S, weightDecay: S,
                                             path: KernelPath? = nil) {
        S.rmspropStep(param: p, grad: grad, squareAverage: sq, gradAverage: ga, momentumBuffer: buf, count: n,
                      learningRate: learningRate, alpha: alpha, eps: eps, momentum: momentum, weightDecay: weightDecay,
                      kernelPath: isa(path))
    }
}

// The Swift loops for a scalar type other than Float and Double, which have C
// kernels (Kernels/TensorScalar+Kernels.swift): the same formulas, in the same
// order, in SIMD16 chunks with a padded last chunk.
extension TensorScalar {
    /// SGD as a Swift loop (the default for types without a C kernel).
    ///
    /// ```swift
    /// S.sgdStep(param: p, grad: g, momentumBuffer: nil, count: n, learningRate: 0.1, momentum: 0,
    ///           dampening: 0, nesterov: false, weightDecay: 0, firstStep: true, kernelPath: -1)
    /// ```
    public static func sgdStep(param p: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>,
                               momentumBuffer buf: UnsafeMutablePointer<Self>?, count n: Int,
                               learningRate: Self, momentum: Self, dampening: Self, nesterov: Bool,
                               weightDecay: Self, firstStep: Bool, kernelPath: Int32) {
        typealias S = Self
        let lr = SIMD16<S>(repeating: learningRate), mu = SIMD16<S>(repeating: momentum)
        let keep = SIMD16<S>(repeating: 1 - dampening), wd = SIMD16<S>(repeating: weightDecay)
        chunks(n) { i, r in
            let pv = load(p + i, r)
            var g = load(grad + i, r)
            if weightDecay != 0 { g = g + wd * pv }
            if let buf {
                let b = firstStep ? g : load(buf + i, r) * mu + keep * g
                store(b, buf + i, r)
                g = nesterov ? g + mu * b : b
            }
            store(pv - lr * g, p + i, r)
        }
    }

    /// Adam and AdamW as a Swift loop (the default for types without a C kernel).
    ///
    /// ```swift
    /// S.adamStep(param: p, grad: g, firstMoment: m, secondMoment: v, maxSecondMoment: nil, count: n,
    ///            stepSize: 1, biasCorrection2Sqrt: 0.03, beta1: 0.9, beta2: 0.999, eps: 1e-8,
    ///            l2Decay: 0, decoupledDecayFactor: 1, kernelPath: -1)
    /// ```
    public static func adamStep(param p: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>,
                                firstMoment m: UnsafeMutablePointer<Self>, secondMoment v: UnsafeMutablePointer<Self>,
                                maxSecondMoment vmax: UnsafeMutablePointer<Self>?, count n: Int,
                                stepSize: Self, biasCorrection2Sqrt: Self, beta1: Self, beta2: Self, eps: Self,
                                l2Decay: Self, decoupledDecayFactor: Self, kernelPath: Int32) {
        typealias S = Self
        let w1 = SIMD16<S>(repeating: 1 - beta1), b2 = SIMD16<S>(repeating: beta2), w2 = SIMD16<S>(repeating: 1 - beta2)
        let bc2 = SIMD16<S>(repeating: biasCorrection2Sqrt), epsv = SIMD16<S>(repeating: eps)
        let step = SIMD16<S>(repeating: -stepSize), wd = SIMD16<S>(repeating: l2Decay)
        let decay = SIMD16<S>(repeating: decoupledDecayFactor)
        chunks(n) { i, r in
            var pv = load(p + i, r)
            if decoupledDecayFactor != 1 { pv = pv * decay }
            var g = load(grad + i, r)
            if l2Decay != 0 { g = g + wd * pv }
            let mv = load(m + i, r)
            let mNew = mv + w1 * (g - mv)
            let vNew = load(v + i, r) * b2 + w2 * g * g
            store(mNew, m + i, r)
            store(vNew, v + i, r)
            var second = vNew
            if let vmax {
                second = load(vmax + i, r)
                second.replace(with: vNew, where: vNew .> second)
                store(second, vmax + i, r)
            }
            let denom = second.squareRoot() / bc2 + epsv
            store(pv + step * (mNew / denom), p + i, r)
        }
    }

    /// RMSprop as a Swift loop (the default for types without a C kernel).
    ///
    /// ```swift
    /// S.rmspropStep(param: p, grad: g, squareAverage: sq, gradAverage: nil, momentumBuffer: nil, count: n,
    ///               learningRate: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, weightDecay: 0, kernelPath: -1)
    /// ```
    public static func rmspropStep(param p: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>,
                                   squareAverage sq: UnsafeMutablePointer<Self>, gradAverage ga: UnsafeMutablePointer<Self>?,
                                   momentumBuffer buf: UnsafeMutablePointer<Self>?, count n: Int,
                                   learningRate: Self, alpha: Self, eps: Self, momentum: Self, weightDecay: Self,
                                   kernelPath: Int32) {
        typealias S = Self
        let a = SIMD16<S>(repeating: alpha), wa = SIMD16<S>(repeating: 1 - alpha)
        let epsv = SIMD16<S>(repeating: eps), mu = SIMD16<S>(repeating: momentum)
        let lr = SIMD16<S>(repeating: learningRate), wd = SIMD16<S>(repeating: weightDecay)
        chunks(n) { i, r in
            let pv = load(p + i, r)
            var g = load(grad + i, r)
            if weightDecay != 0 { g = g + wd * pv }
            let s = load(sq + i, r) * a + wa * g * g
            store(s, sq + i, r)
            var avg: SIMD16<S>
            if let ga {
                let gv = load(ga + i, r)
                let gNew = gv + wa * (g - gv)
                store(gNew, ga + i, r)
                avg = (s - gNew * gNew).squareRoot()
            } else {
                avg = s.squareRoot()
            }
            avg = avg + epsv
            if let buf {
                let b = load(buf + i, r) * mu + g / avg
                store(b, buf + i, r)
                store(pv - lr * b, p + i, r)
            } else {
                store(pv - lr * (g / avg), p + i, r)
            }
        }
    }
}

import Testing
import Backprop
@testable import BackpropCore

/// The C update kernels (optim.c) on every kernel path against plain scalar
/// loops of PyTorch's formulas, written out here in the same order. The C side
/// does not contract into FMAs and IEEE square roots and divisions are
/// correctly rounded, so every path must agree with the loops bit for bit.
@Suite("Optimizer kernels")
struct OptimizerKernelTests {
    /// Lengths around the vector widths (4, 8, 16 floats) and loop unrolling.
    let lengths = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257]

    private func inputs(_ n: Int, seed: UInt64) -> (p: [Float], g: [Float], a: [Float], b: [Float], c: [Float]) {
        var rng = SeededGenerator(seed: seed)
        func vec(_ positive: Bool) -> [Float] {
            (0..<n).map { _ in
                let x = Float(rng.next() >> 40) / Float(1 << 24) - 0.5
                return positive ? x * x + 0.01 : x
            }
        }
        return (vec(false), vec(false), vec(false), vec(true), vec(true))
    }

    @Test("Adam and AdamW, with and without AMSGrad and decay, on every path")
    func adam() {
        for path in KernelPath.supported {
            for n in lengths {
                for (l2, decay, ams) in [(Float(0), Float(1), false), (0.1, 1, true), (0, 0.999, false), (0.05, 0.99, true)] {
                    let x = inputs(n, seed: UInt64(n * 7 + (ams ? 1 : 0)))
                    var p = x.p, m = x.a, v = x.b, vmax = x.c
                    let stepSize: Float = 0.01 / (1 - 0.9 * 0.9), bc2: Float = (1 - Float(0.999 * 0.999)).squareRoot()
                    let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
                    x.g.withUnsafeBufferPointer { g in
                        vmax.withUnsafeMutableBufferPointer { vm in
                            Kernels.adamStep(param: &p, grad: g.baseAddress!, firstMoment: &m, secondMoment: &v,
                                             maxSecondMoment: ams ? vm.baseAddress! : nil, count: n,
                                             stepSize: stepSize, biasCorrection2Sqrt: bc2, beta1: beta1, beta2: beta2,
                                             eps: eps, l2Decay: l2, decoupledDecayFactor: decay, path: path)
                        }
                    }
                    var ok = true
                    for i in 0..<n {
                        var pv = x.p[i]
                        if decay != 1 { pv = pv * decay }
                        var g = x.g[i]
                        if l2 != 0 { g = g + l2 * pv }
                        let mNew = x.a[i] + (1 - beta1) * (g - x.a[i])
                        let vNew = x.b[i] * beta2 + (1 - beta2) * g * g
                        var second = vNew
                        if ams { second = vNew > x.c[i] ? vNew : x.c[i] }
                        let denom = second.squareRoot() / bc2 + eps
                        let want = pv + (-stepSize) * (mNew / denom)
                        if p[i] != want || m[i] != mNew || v[i] != vNew || (ams && vmax[i] != second) { ok = false }
                    }
                    #expect(ok, "path \(path.name) n \(n) l2 \(l2) decay \(decay) amsgrad \(ams)")
                }
            }
        }
    }

    @Test("SGD with momentum, dampening, Nesterov and weight decay, on every path")
    func sgd() {
        for path in KernelPath.supported {
            for n in lengths {
                for (wd, useBuf, nesterov, first) in [(Float(0), false, false, false), (0.5, false, false, false),
                                                      (0, true, false, true), (0.1, true, true, false), (0, true, true, true)] {
                    let x = inputs(n, seed: UInt64(n * 3 + 1))
                    var p = x.p, buf = x.a
                    let lr: Float = 0.05, mu: Float = 0.9, damp: Float = 0.1
                    x.g.withUnsafeBufferPointer { g in
                        buf.withUnsafeMutableBufferPointer { b in
                            Kernels.sgdStep(param: &p, grad: g.baseAddress!, momentumBuffer: useBuf ? b.baseAddress! : nil,
                                            count: n, learningRate: lr, momentum: mu, dampening: damp,
                                            nesterov: nesterov, weightDecay: wd, firstStep: first, path: path)
                        }
                    }
                    var ok = true
                    for i in 0..<n {
                        var g = x.g[i]
                        if wd != 0 { g = g + wd * x.p[i] }
                        if useBuf {
                            let b = first ? g : x.a[i] * mu + (1 - damp) * g
                            if buf[i] != b { ok = false }
                            g = nesterov ? g + mu * b : b
                        }
                        if p[i] != x.p[i] - lr * g { ok = false }
                    }
                    #expect(ok, "path \(path.name) n \(n) wd \(wd) momentum \(useBuf) nesterov \(nesterov) first \(first)")
                }
            }
        }
    }

    @Test("RMSprop, centered and with momentum, on every path")
    func rmsprop() {
        for path in KernelPath.supported {
            for n in lengths {
                for (wd, centered, useBuf) in [(Float(0), false, false), (0.1, true, false), (0, false, true), (0.2, true, true)] {
                    let x = inputs(n, seed: UInt64(n * 5 + 2))
                    // Centered: keep s - ḡ² positive (ḡ small against s).
                    let ga0 = x.a.map { $0 * 0.01 }
                    var p = x.p, sq = x.b, ga = ga0, buf = x.c
                    let lr: Float = 0.01, alpha: Float = 0.99, eps: Float = 1e-8, mu: Float = 0.5
                    x.g.withUnsafeBufferPointer { g in
                        ga.withUnsafeMutableBufferPointer { gaPtr in
                            buf.withUnsafeMutableBufferPointer { b in
                                Kernels.rmspropStep(param: &p, grad: g.baseAddress!, squareAverage: &sq,
                                                    gradAverage: centered ? gaPtr.baseAddress! : nil,
                                                    momentumBuffer: useBuf ? b.baseAddress! : nil, count: n,
                                                    learningRate: lr, alpha: alpha, eps: eps, momentum: useBuf ? mu : 0,
                                                    weightDecay: wd, path: path)
                            }
                        }
                    }
                    var ok = true
                    for i in 0..<n {
                        var g = x.g[i]
                        if wd != 0 { g = g + wd * x.p[i] }
                        let s = x.b[i] * alpha + (1 - alpha) * g * g
                        var avg: Float
                        if centered {
                            let gNew = ga0[i] + (1 - alpha) * (g - ga0[i])
                            if ga[i] != gNew { ok = false }
                            avg = (s - gNew * gNew).squareRoot()
                        } else {
                            avg = s.squareRoot()
                        }
                        avg = avg + eps
                        let want: Float
                        if useBuf {
                            let b = x.c[i] * mu + g / avg
                            if buf[i] != b { ok = false }
                            want = x.p[i] - lr * b
                        } else {
                            want = x.p[i] - lr * (g / avg)
                        }
                        if sq[i] != s || p[i] != want { ok = false }
                    }
                    #expect(ok, "path \(path.name) n \(n) wd \(wd) centered \(centered) momentum \(useBuf)")
                }
            }
        }
    }

    @Test("Double Adam on every path")
    func adamDouble() {
        for path in KernelPath.supported {
            let n = 37
            var p = (0..<n).map { Double($0) * 0.1 - 1 }, m = [Double](repeating: 0.01, count: n)
            var v = [Double](repeating: 0.02, count: n)
            let g = (0..<n).map { Double($0 % 5) - 2 }
            Kernels.adamStep(param: &p, grad: g, firstMoment: &m, secondMoment: &v, maxSecondMoment: nil, count: n,
                             stepSize: 0.1, biasCorrection2Sqrt: 0.5, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                             l2Decay: 0, decoupledDecayFactor: 1, path: path)
            var ok = true
            for i in 0..<n {
                let p0 = Double(i) * 0.1 - 1
                let mNew = 0.01 + (1 - 0.9) * (g[i] - 0.01)
                let vNew = 0.02 * 0.999 + (1 - 0.999) * g[i] * g[i]
                if m[i] != mNew || v[i] != vNew || p[i] != p0 + (-0.1) * (mNew / (vNew.squareRoot() / 0.5 + 1e-8)) { ok = false }
            }
            #expect(ok, "path \(path.name)")
        }
    }
}

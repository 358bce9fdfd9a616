// Kernels of the fused batch norm (Ops/Normalization.swift): per-channel sums
// and affine maps over one contiguous run of a channel's values. Sums keep
// 16 SIMD lanes and flush into Double every 1,024 elements, as sumOfSquares does.

extension Kernels {
    /// Σ x over n elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func sum<S: TensorScalar>(_ x: UnsafePointer<S>, _ n: Int) -> S {
        var total = 0.0
        var acc = SIMD16<S>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc += loadVector(x + i)
            i += 16
            if i & 1023 == 0 { total += Double(acc.sum()); acc = .zero }
        }
        total += Double(acc.sum())
        while i < n { total += Double(x[i]); i += 1 }
        return S(total)
    }

    /// Σ (x - mu)² over n elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func squaredDeviation<S: TensorScalar>(_ x: UnsafePointer<S>, _ mu: S, _ n: Int) -> S {
        var total = 0.0
        var acc = SIMD16<S>(repeating: 0)
        let m = SIMD16<S>(repeating: mu)
        var i = 0
        while i + 16 <= n {
            let d = loadVector(x + i) - m
            acc += d * d
            i += 16
            if i & 1023 == 0 { total += Double(acc.sum()); acc = .zero }
        }
        total += Double(acc.sum())
        while i < n { let d = Double(x[i] - mu); total += d * d; i += 1 }
        return S(total)
    }

    /// (Σ g, Σ g · x) over n elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func sumAndDot<S: TensorScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ n: Int) -> (S, S) {
        var total = 0.0, dot = 0.0
        var acc = SIMD16<S>(repeating: 0), accDot = SIMD16<S>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let v = loadVector(g + i)
            acc += v
            accDot += v * loadVector(x + i)
            i += 16
            if i & 1023 == 0 { total += Double(acc.sum()); dot += Double(accDot.sum()); acc = .zero; accDot = .zero }
        }
        total += Double(acc.sum()); dot += Double(accDot.sum())
        while i < n { total += Double(g[i]); dot += Double(g[i]) * Double(x[i]); i += 1 }
        return (S(total), S(dot))
    }

    /// y = a · x + b over n elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func affine<S: TensorScalar>(_ x: UnsafePointer<S>, _ a: S, _ b: S, _ y: UnsafeMutablePointer<S>, _ n: Int) {
        let av = SIMD16<S>(repeating: a), bv = SIMD16<S>(repeating: b)
        var i = 0
        while i + 16 <= n { storeVector(av * loadVector(x + i) + bv, y + i); i += 16 }
        while i < n { y[i] = a * x[i] + b; i += 1 }
    }

    /// out = p · g + q · x + r over n elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func linearCombination<S: TensorScalar>(_ g: UnsafePointer<S>, _ p: S, _ x: UnsafePointer<S>, _ q: S, _ r: S,
                                                           _ out: UnsafeMutablePointer<S>, _ n: Int) {
        let pv = SIMD16<S>(repeating: p), qv = SIMD16<S>(repeating: q), rv = SIMD16<S>(repeating: r)
        var i = 0
        while i + 16 <= n { storeVector(pv * loadVector(g + i) + qv * loadVector(x + i) + rv, out + i); i += 16 }
        while i < n { out[i] = p * g[i] + q * x[i] + r; i += 1 }
    }
}

import RealModule

/// Elementwise functions of one tensor. The kernels switch on the op once per
/// call, then run a tight loop over contiguous memory.
enum UnaryOp: Sendable {
    case neg, exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos, erf, sign, square
    /// c · max(x, 0): the homework's scaled ReLU.
    case scaledRelu(Double)
    /// c · 1[x > 0]: the derivative of a (scaled) ReLU.
    case positiveIndicator(Double)
    case softplus(beta: Double, threshold: Double)
    /// x^p for a constant p.
    case powScalar(Double)
    /// min(max(x, lo), hi)
    case clamp(Double, Double)
}

/// Elementwise functions of two tensors (after broadcasting).
enum BinaryOp: Sendable {
    case add, sub, mul, div, pow, maximum, minimum
    /// Comparisons give 1 where true and 0 where false.
    case less, lessEqual, greater, greaterEqual, equal, notEqual
}

@inline(__always) func loadVector<S: TensorScalar>(_ p: UnsafePointer<S>) -> SIMD16<S> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<S>.self)
}

@inline(__always) func storeVector<S: TensorScalar>(_ v: SIMD16<S>, _ p: UnsafeMutablePointer<S>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<S>.self)
}

package enum Kernels {
    // MARK: unary

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func unary<S: TensorScalar>(_ op: UnaryOp, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int) {
        switch op {
        case .neg: mapVector(x, y, n, { -$0 }, { -$0 })
        // Plain loops for selections: LLVM vectorises them, while SIMD masks
        // (`replacing(with:where:)`) are lowered element by element without AVX-512.
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .relu: for i in 0..<n { let v = x[i]; y[i] = v < 0 ? 0 : v }
        case .scaledRelu(let c): let k = S(c); for i in 0..<n { let v = x[i]; y[i] = v < 0 ? 0 : k * v }
        case .positiveIndicator(let c): let k = S(c); for i in 0..<n { y[i] = x[i] > 0 ? k : 0 }
        case .square: mapVector(x, y, n, { $0 * $0 }, { $0 * $0 })
        case .sqrt: mapVector(x, y, n, { $0.squareRoot() }, { $0.squareRoot() })
        case .sign:
            for i in 0..<n { let v = x[i]; y[i] = v > 0 ? 1 : (v < 0 ? -1 : (v.isNaN ? v : 0)) }
        case .clamp(let lo, let hi):
            let l = S(lo), h = S(hi)
            for i in 0..<n { let v = x[i]; y[i] = v.isNaN ? v : Swift.min(Swift.max(v, l), h) }
        case .exp: for i in 0..<n { y[i] = S.exp(x[i]) }
        case .log: for i in 0..<n { y[i] = S.log(x[i]) }
        case .tanh: for i in 0..<n { y[i] = S.tanh(x[i]) }
        case .sin: for i in 0..<n { y[i] = S.sin(x[i]) }
        case .cos: for i in 0..<n { y[i] = S.cos(x[i]) }
        case .erf: for i in 0..<n { y[i] = S.erf(x[i]) }
        case .sigmoid:
            // Written so that neither branch overflows: exp of a non-positive number.
            for i in 0..<n {
                let v = x[i]
                if v >= 0 { y[i] = 1 / (1 + S.exp(-v)) } else { let e = S.exp(v); y[i] = e / (1 + e) }
            }
        case .softplus(let beta, let threshold):
            // PyTorch: x when beta*x > threshold, else log1p(exp(beta*x)) / beta.
            let b = S(beta), t = S(threshold)
            for i in 0..<n {
                let bx = b * x[i]
                y[i] = bx > t ? x[i] : S.log(onePlus: S.exp(bx)) / b
            }
        case .powScalar(let p):
            if p == 2 { mapVector(x, y, n, { $0 * $0 }, { $0 * $0 }) }
            else if p == 1 { y.update(from: x, count: n) }
            else if p == 0.5 { mapVector(x, y, n, { $0.squareRoot() }, { $0.squareRoot() }) }
            else if let k = Int(exactly: p), Swift.abs(k) < 1 << 30 { for i in 0..<n { y[i] = S.pow(x[i], k) } }
            else { let e = S(p); for i in 0..<n { y[i] = S.pow(x[i], e) } }
        }
    }

    @inline(__always)
    static func mapVector<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int,
                                           _ v: (SIMD16<S>) -> SIMD16<S>, _ s: (S) -> S) {
        var i = 0
        while i + 16 <= n { storeVector(v(loadVector(x + i)), y + i); i += 16 }
        while i < n { y[i] = s(x[i]); i += 1 }
    }

    // MARK: binary

    /// out[i] = a[i * aStep] op b[i * bStep], with steps 0 (broadcast scalar) or 1.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func binary<S: TensorScalar>(_ op: BinaryOp, _ a: UnsafePointer<S>, _ aStep: Int,
                                        _ b: UnsafePointer<S>, _ bStep: Int,
                                        _ out: UnsafeMutablePointer<S>, _ n: Int) {
        switch op {
        case .add: zip(a, aStep, b, bStep, out, n, { $0 + $1 }, { $0 + $1 })
        case .sub: zip(a, aStep, b, bStep, out, n, { $0 - $1 }, { $0 - $1 })
        case .mul: zip(a, aStep, b, bStep, out, n, { $0 * $1 }, { $0 * $1 })
        case .div: zip(a, aStep, b, bStep, out, n, { $0 / $1 }, { $0 / $1 })
        case .maximum: select(a, aStep, b, bStep, out, n) { $0.isNaN || $1.isNaN ? .nan : ($1 > $0 ? $1 : $0) }
        case .minimum: select(a, aStep, b, bStep, out, n) { $0.isNaN || $1.isNaN ? .nan : ($1 < $0 ? $1 : $0) }
        case .pow: for i in 0..<n { out[i] = power(a[i * aStep], b[i * bStep]) }
        case .less: select(a, aStep, b, bStep, out, n) { $0 < $1 ? 1 : 0 }
        case .lessEqual: select(a, aStep, b, bStep, out, n) { $0 <= $1 ? 1 : 0 }
        case .greater: select(a, aStep, b, bStep, out, n) { $0 > $1 ? 1 : 0 }
        case .greaterEqual: select(a, aStep, b, bStep, out, n) { $0 >= $1 ? 1 : 0 }
        case .equal: select(a, aStep, b, bStep, out, n) { $0 == $1 ? 1 : 0 }
        case .notEqual: select(a, aStep, b, bStep, out, n) { $0 != $1 ? 1 : 0 }
        }
    }

    /// A scalar loop per stride pattern, which LLVM vectorises (compare + blend).
    @inline(__always)
    static func select<S: TensorScalar>(_ a: UnsafePointer<S>, _ aStep: Int, _ b: UnsafePointer<S>, _ bStep: Int,
                                        _ out: UnsafeMutablePointer<S>, _ n: Int, _ f: (S, S) -> S) {
        switch (aStep, bStep) {
        case (1, 1): for i in 0..<n { out[i] = f(a[i], b[i]) }
        case (1, 0): let bs = b[0]; for i in 0..<n { out[i] = f(a[i], bs) }
        case (0, 1): let as_ = a[0]; for i in 0..<n { out[i] = f(as_, b[i]) }
        default: let r = f(a[0], b[0]); for i in 0..<n { out[i] = r }
        }
    }


    @inline(__always)
    static func zip<S: TensorScalar>(_ a: UnsafePointer<S>, _ aStep: Int, _ b: UnsafePointer<S>, _ bStep: Int,
                                     _ out: UnsafeMutablePointer<S>, _ n: Int,
                                     _ v: (SIMD16<S>, SIMD16<S>) -> SIMD16<S>, _ s: (S, S) -> S) {
        var i = 0
        switch (aStep, bStep) {
        case (1, 1):
            while i + 16 <= n { storeVector(v(loadVector(a + i), loadVector(b + i)), out + i); i += 16 }
            while i < n { out[i] = s(a[i], b[i]); i += 1 }
        case (1, 0):
            let bs = b[0], bv = SIMD16<S>(repeating: bs)
            while i + 16 <= n { storeVector(v(loadVector(a + i), bv), out + i); i += 16 }
            while i < n { out[i] = s(a[i], bs); i += 1 }
        case (0, 1):
            let as_ = a[0], av = SIMD16<S>(repeating: as_)
            while i + 16 <= n { storeVector(v(av, loadVector(b + i)), out + i); i += 16 }
            while i < n { out[i] = s(as_, b[i]); i += 1 }
        default:
            let r = s(a[0], b[0])
            while i < n { out[i] = r; i += 1 }
        }
    }

    /// a^b, with integer exponents of negative bases defined, as in PyTorch: (-2)^3 = -8.
    @inline(__always)
    static func power<S: TensorScalar>(_ a: S, _ b: S) -> S {
        if a < 0, let k = Int(exactly: b), Swift.abs(k) < 1 << 30 { return S.pow(a, k) }
        return S.pow(a, b)
    }

    /// y = a * x + y over n elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func axpy<S: TensorScalar>(_ a: S, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int) {
        let av = SIMD16<S>(repeating: a)
        var i = 0
        while i + 16 <= n { storeVector(loadVector(UnsafePointer(y) + i) + av * loadVector(x + i), y + i); i += 16 }
        while i < n { y[i] += a * x[i]; i += 1 }
    }
}

extension Kernels {
    /// x[0..<n] = value. (The standard library's `update(repeating:count:)` is a
    /// per-element loop that runs unspecialised when reached from generic code.)
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func fill<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ value: S, _ n: Int) {
        let v = SIMD16<S>(repeating: value)
        var i = 0
        while i + 16 <= n { storeVector(v, x + i); i += 16 }
        while i < n { x[i] = value; i += 1 }
    }
}

extension Kernels {
    /// dz = g · (y > 0 ? scale : 0) for g and y of shape [rows, columns] (the
    /// ReLU's vjp, with y its input or, for a scale >= 1, its output), and,
    /// when `columnSums` is given, Σ_rows dz per column in the same pass (rows
    /// added in order, as `sum(axis: 0)` adds them).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func reluGradient<S: TensorScalar>(_ g: UnsafePointer<S>, _ y: UnsafePointer<S>, scale: S, rows: Int, columns: Int,
                                              _ dz: UnsafeMutablePointer<S>, columnSums: UnsafeMutablePointer<S>?) {
        for r in 0..<rows {
            let (gr, yr, dr) = (g + r * columns, y + r * columns, dz + r * columns)
            guard let sums = columnSums else {
                for j in 0..<columns { dr[j] = gr[j] * (yr[j] > 0 ? scale : 0) }
                continue
            }
            if r == 0 {
                for j in 0..<columns { let v = gr[j] * (yr[j] > 0 ? scale : 0); dr[j] = v; sums[j] = v }
            } else {
                for j in 0..<columns { let v = gr[j] * (yr[j] > 0 ? scale : 0); dr[j] = v; sums[j] += v }
            }
        }
        if rows == 0, let sums = columnSums { sums.initialize(repeating: 0, count: columns) }
    }
}

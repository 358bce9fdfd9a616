import CBackpropKernels

/// A kernel path of the C micro-kernels (see `Sources/CBackpropKernels`).
package enum KernelPath: Int32, CaseIterable, Sendable {
    case generic = 0   // BP_ISA_GENERIC
    case avx2 = 1      // BP_ISA_AVX2
    case avx512 = 2    // BP_ISA_AVX512

    /// The path in use: `BACKPROP_KERNEL` (avx512|avx2|generic) if set, lowered to
    /// what the CPU supports, else the best supported; or what `current` was set to.
    static var current: KernelPath {
        get { KernelPath(rawValue: bp_isa_current()) ?? .generic }
        set { _ = bp_isa_set(newValue.rawValue) }
    }

    /// Back to the default (the environment variable or the best supported).
    static func resetToDefault() { _ = bp_isa_set(-1) }

    /// Whether this CPU (and build) can run the path.
    var isSupported: Bool { bp_isa_supported(rawValue) != 0 }

    /// Paths this machine can run, best first.
    static var supported: [KernelPath] { allCases.reversed().filter(\.isSupported) }

    var name: String { String(cString: bp_isa_name(rawValue)) }

    /// Register tile (rows x columns) of the float micro-kernel.
    var floatTile: (rows: Int, columns: Int) {
        var mr: Int32 = 0, nr: Int32 = 0
        bp_sgemm_tile(rawValue, &mr, &nr)
        return (Int(mr), Int(nr))
    }

    /// Register tile (rows x columns) of the double micro-kernel.
    var doubleTile: (rows: Int, columns: Int) {
        var mr: Int32 = 0, nr: Int32 = 0
        bp_dgemm_tile(rawValue, &mr, &nr)
        return (Int(mr), Int(nr))
    }
}

/// The dispatched matrix-multiply path, e.g. "avx512 14x32".
public var kernelDescription: String {
    let path = KernelPath.current
    let t = path.floatTile
    return "\(path.name) \(t.rows)x\(t.columns)"
}

/// Matrix products on the C kernels: cache-blocked packing, a register-blocked
/// micro-kernel, threads over the rows (or columns) of C, and direct loops for
/// small products.
enum GEMM {
    /// C[m x n] = alpha * op(A) * op(B) + beta * C. Row-major; op(X) = X or X^T;
    /// lda/ldb/ldc are row strides of the stored matrices.
    ///
    /// beta == 0 overwrites C without reading it (NaN in C does not propagate);
    /// k == 0 or alpha == 0 gives C = beta * C without reading A or B.
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, path: nil, threads: Parallelism.threadCount, flags: 0)
    }

    static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, path: nil, threads: Parallelism.threadCount, flags: 0)
    }

    /// Flags for the overloads below (tests use them to reach every code path).
    static let forcePacked = Int32(BP_GEMM_FORCE_PACKED)
    static let forceThreads = Int32(BP_GEMM_FORCE_THREADS)

    /// As above, on a given kernel path (nil: the current one) and thread limit;
    /// `flags`: `forcePacked` (no direct small-product loops) and/or
    /// `forceThreads` (use `threads` threads however small the product).
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                      path: KernelPath?, threads: Int, flags: Int32 = 0) {
        checkShape(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        bp_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                 path?.rawValue ?? -1, Int32(clamping: threads), flags)
    }

    static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int,
                      path: KernelPath?, threads: Int, flags: Int32 = 0) {
        checkShape(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        bp_dgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                 path?.rawValue ?? -1, Int32(clamping: threads), flags)
    }

    @inline(__always)
    private static func checkShape(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                   lda: Int, ldb: Int, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        // Row strides must cover a stored row (when there is anything to read).
        assert(m == 0 || k == 0 || lda >= (transA ? m : k), "GEMM: lda too small")
        assert(n == 0 || k == 0 || ldb >= (transB ? k : n), "GEMM: ldb too small")
        assert(m == 0 || n == 0 || ldc >= n, "GEMM: ldc too small")
    }
}

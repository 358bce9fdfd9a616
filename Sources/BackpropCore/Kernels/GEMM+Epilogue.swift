import CBackpropKernels

// The GEMM with an epilogue (a bias per column of C and a ReLU, applied as
// each register tile is stored), for the fused Linear + ReLU node
// (`Tensor.affineReLU` in Ops/Fused.swift). See bp_sgemm_epilogue.

extension GEMM {
    /// C[m x n] = relu?(alpha * op(A) * op(B) + beta * C + 1 biasᵀ), where
    /// relu(v) = v < 0 ? 0 : scale * v, on a given kernel path (nil: the
    /// current one) and thread limit, with `flags` as for `sgemm`.
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                      bias: UnsafePointer<Float>?, reluScale: Float?,
                      path: KernelPath? = nil, threads: Int = Parallelism.threadCount, flags: Int32 = 0) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        bp_sgemm_epilogue(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                          bias, reluScale == nil ? 0 : 1, reluScale ?? 1,
                          path?.rawValue ?? -1, Int32(clamping: threads), flags)
    }

    static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int,
                      bias: UnsafePointer<Double>?, reluScale: Double?,
                      path: KernelPath? = nil, threads: Int = Parallelism.threadCount, flags: Int32 = 0) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        bp_dgemm_epilogue(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                          bias, reluScale == nil ? 0 : 1, reluScale ?? 1,
                          path?.rawValue ?? -1, Int32(clamping: threads), flags)
    }
}

extension Float {
    /// The product with a bias and a ReLU in the kernel's store (`sgemm` with an epilogue).
    ///
    /// ```swift
    /// Float.gemm(transposeA: false, transposeB: true, m: 1, n: 1, k: 2, a: [1, 2], lda: 2,
    ///            b: [3, -4], ldb: 2, c: &c, ldc: 1, bias: [1], reluScale: 1)   // c[0] == 0
    /// ```
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, reluScale: Float?) {
        GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                   b: b, ldb: ldb, beta: 0, c: c, ldc: ldc, bias: bias, reluScale: reluScale)
    }
}

extension Double {
    /// The product with a bias and a ReLU in the kernel's store (`dgemm` with an epilogue).
    ///
    /// ```swift
    /// Double.gemm(transposeA: false, transposeB: true, m: 1, n: 1, k: 2, a: [1, 2], lda: 2,
    ///             b: [3, 4], ldb: 2, c: &c, ldc: 1, bias: [1], reluScale: 2)   // c[0] == 24
    /// ```
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            c: UnsafeMutablePointer<Double>, ldc: Int, bias: UnsafePointer<Double>?, reluScale: Double?) {
        GEMM.dgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                   b: b, ldb: ldb, beta: 0, c: c, ldc: ldc, bias: bias, reluScale: reluScale)
    }
}

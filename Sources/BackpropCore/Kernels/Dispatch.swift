extension Kernels {
    /// C[m x n] = op(A) op(B) (+ C when `accumulate`), for either scalar type.
    static func gemm<S: TensorScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                      a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
                                      c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool = false) {
        if S.self == Float.self {
            GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
                       a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
                       b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb,
                       beta: accumulate ? 1 : 0, c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc: ldc)
        } else if S.self == Double.self {
            GEMM.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
                       a: UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda: lda,
                       b: UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb: ldb,
                       beta: accumulate ? 1 : 0, c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc: ldc)
        } else {
            preconditionFailure("matmul: no GEMM kernel for scalar type \(S.self); use Float or Double")
        }
    }
}

/// Matrix products. (Reference loops; the packed SIMD kernel replaces this file.)
enum GEMM {
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        naive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        naive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    static func naive<S: TensorScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: S,
                                       a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
                                       beta: S, c: UnsafeMutablePointer<S>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s: S = 0
                for p in 0..<k {
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}

import RealModule

/// The element types a ``Tensor`` can hold: `Float` (the default in layers and
/// the command-line tool) and `Double` (gradient checking, `backprop explain`).
///
/// What differs between the two is a requirement here, answered once per type
/// (as `Float: Real` does in swift-numerics), never a test of `Scalar.self` at
/// run time: the GEMM kernel and the dtype name. Kernels are specialised for
/// both, so generic code never boxes a scalar or calls a closure per element.
///
/// ```swift
/// let a = Tensor<Float>([1, 2, 3])
/// let b = Tensor<Double>([1, 2, 3])
/// print(Double.dtypeName)   // float64
/// ```
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Sendable,
    LosslessStringConvertible, Codable
where RawSignificand: FixedWidthInteger {
    /// PyTorch's name for the type: `"float32"` or `"float64"` (`torch.float64`).
    static var dtypeName: String { get }

    /// The matrix product on this type's GEMM kernel (`sgemm` or `dgemm`):
    /// C = op(A) op(B), or C += op(A) op(B) when `accumulate`; row-major, with
    /// op(X) = X, or Xᵀ when its `transpose` flag is set. A is m x k and B is
    /// k x n after op; lda, ldb and ldc are the row strides of the stored
    /// matrices. Without `accumulate`, C is written without being read.
    ///
    /// ```swift
    /// let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6]   // A 2 x 2, B 2 x 1
    /// var c = [Float](repeating: 0, count: 2)
    /// Float.gemm(transposeA: false, transposeB: false, m: 2, n: 1, k: 2,
    ///            a: a, lda: 2, b: b, ldb: 1, c: &c, ldc: 1, accumulate: false)
    /// // c == [17, 39]
    /// ```
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     c: UnsafeMutablePointer<Self>, ldc: Int, accumulate: Bool)

    /// The matrix product with a Linear layer's bias and an optional ReLU
    /// applied as the kernel stores C (its epilogue: C is written once, never
    /// read): C = op(A) op(B) + 1 biasᵀ (`bias[j]` added to column j, when
    /// given), then C = reluScale · max(C, 0) when `reluScale` is given. The
    /// result equals, bit for bit, the bias copied into C, the product
    /// accumulated onto it, then `relu(_:scale:)`.
    ///
    /// ```swift
    /// let x: [Float] = [1, -2], w: [Float] = [1, 1, 3, 1], b: [Float] = [0, 0.5]   // x 1 x 2, W 2 x 2
    /// var y = [Float](repeating: 0, count: 2)
    /// Float.gemm(transposeA: false, transposeB: true, m: 1, n: 2, k: 2, a: x, lda: 2, b: w, ldb: 2,
    ///            c: &y, ldc: 2, bias: b, reluScale: 1)
    /// // y == [0, 1.5]: relu(x Wᵀ + b)
    /// ```
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     c: UnsafeMutablePointer<Self>, ldc: Int, bias: UnsafePointer<Self>?, reluScale: Self?)
}

extension Float: TensorScalar {
    /// `"float32"`, as `torch.float32`.
    public static var dtypeName: String { "float32" }

    /// The matrix product on the single-precision kernel (`sgemm`).
    ///
    /// ```swift
    /// Float.gemm(transposeA: false, transposeB: true, m: 1, n: 1, k: 2,
    ///            a: [1, 2], lda: 2, b: [3, 4], ldb: 2, c: &c, ldc: 1, accumulate: false)   // c[0] == 11
    /// ```
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                   b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }
}

extension Double: TensorScalar {
    /// `"float64"`, as `torch.float64`.
    public static var dtypeName: String { "float64" }

    /// The matrix product on the double-precision kernel (`dgemm`).
    ///
    /// ```swift
    /// Double.gemm(transposeA: true, transposeB: false, m: 1, n: 1, k: 2,
    ///             a: [1, 2], lda: 1, b: [3, 4], ldb: 1, c: &c, ldc: 1, accumulate: false)   // c[0] == 11
    /// ```
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        GEMM.dgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                   b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }
}

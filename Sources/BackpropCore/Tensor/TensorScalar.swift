import CBackpropKernels
import RealModule

/// The element types a ``Tensor`` can hold: `Float` (the default in layers and
/// the command-line tool) and `Double` (gradient checking, `backprop explain`).
///
/// What differs between the two is a requirement here, answered once per type
/// (as `Float: Real` does in swift-numerics), never a test of `Scalar.self` at
/// run time: the GEMM kernel, the other C kernels (optimizer steps, pooling,
/// im2col/col2im: `bp_s*`/`bp_d*`, `*_f32`/`*_f64` in CBackpropKernels) and
/// the dtype name. Kernels are specialised for both, so generic code never
/// boxes a scalar or calls a closure per element. `scripts/check_layers.sh`
/// fails on a run-time comparison of the scalar type with Float or Double.
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

    /// One step of PyTorch's SGD over `count` elements, in place, on this
    /// type's C kernel (`bp_ssgd_step`/`bp_dsgd_step`); the formulas are in
    /// `Kernels/Optimizer.swift`. `kernelPath` is a kernel path's number, or -1
    /// for the one the CPU dispatch chose. Other scalar types get a Swift loop.
    ///
    /// ```swift
    /// var p: [Float] = [1], g: [Float] = [0.5]
    /// Float.sgdStep(param: &p, grad: g, momentumBuffer: nil, count: 1, learningRate: 0.1, momentum: 0,
    ///               dampening: 0, nesterov: false, weightDecay: 0, firstStep: true, kernelPath: -1)
    /// // p == [0.95]
    /// ```
    static func sgdStep(param: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>,
                        momentumBuffer: UnsafeMutablePointer<Self>?, count: Int,
                        learningRate: Self, momentum: Self, dampening: Self, nesterov: Bool,
                        weightDecay: Self, firstStep: Bool, kernelPath: Int32)

    /// One step of PyTorch's Adam or AdamW over `count` elements, in place, on
    /// this type's C kernel (`bp_sadam_step`/`bp_dadam_step`); `stepSize` is
    /// η / (1 - β1ᵗ), `decoupledDecayFactor` is 1 - ηλ (AdamW) or 1.
    ///
    /// ```swift
    /// var p: [Double] = [1], m: [Double] = [0], v: [Double] = [0]
    /// Double.adamStep(param: &p, grad: [2], firstMoment: &m, secondMoment: &v, maxSecondMoment: nil,
    ///                 count: 1, stepSize: 0.1 / 0.1, biasCorrection2Sqrt: 0.001.squareRoot(), beta1: 0.9,
    ///                 beta2: 0.999, eps: 0, l2Decay: 0, decoupledDecayFactor: 1, kernelPath: -1)
    /// // p ≈ [0.9]: the first step moves by η
    /// ```
    static func adamStep(param: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>,
                         firstMoment: UnsafeMutablePointer<Self>, secondMoment: UnsafeMutablePointer<Self>,
                         maxSecondMoment: UnsafeMutablePointer<Self>?, count: Int,
                         stepSize: Self, biasCorrection2Sqrt: Self, beta1: Self, beta2: Self, eps: Self,
                         l2Decay: Self, decoupledDecayFactor: Self, kernelPath: Int32)

    /// One step of PyTorch's RMSprop over `count` elements, in place, on this
    /// type's C kernel (`bp_srmsprop_step`/`bp_drmsprop_step`); `gradAverage`
    /// is given when centered, `momentumBuffer` when momentum is used.
    ///
    /// ```swift
    /// var p: [Float] = [1], sq: [Float] = [0]
    /// Float.rmspropStep(param: &p, grad: [1], squareAverage: &sq, gradAverage: nil, momentumBuffer: nil,
    ///                   count: 1, learningRate: 0.01, alpha: 0.99, eps: 0, momentum: 0, weightDecay: 0,
    ///                   kernelPath: -1)
    /// // sq == [0.01], p == [1 - 0.01 / 0.1] == [0.9]
    /// ```
    static func rmspropStep(param: UnsafeMutablePointer<Self>, grad: UnsafePointer<Self>,
                            squareAverage: UnsafeMutablePointer<Self>, gradAverage: UnsafeMutablePointer<Self>?,
                            momentumBuffer: UnsafeMutablePointer<Self>?, count: Int,
                            learningRate: Self, alpha: Self, eps: Self, momentum: Self, weightDecay: Self,
                            kernelPath: Int32)

    /// Max pooling's argmax on this type's C kernel (`bp_maxpool2d_indices_f32`/`_f64`):
    /// for planes `planes` of x (each `geometry.height` x `geometry.width`), the flat
    /// index into x of the largest element of every window, written to
    /// `indices[plane · out_h · out_w + ...]` (the first of equal ones; NaN wins).
    ///
    /// ```swift
    /// let g = bp_conv_geometry(channels: 1, height: 2, width: 2, out_h: 1, out_w: 1, kernel_h: 2, kernel_w: 2,
    ///                          stride_h: 2, stride_w: 2, pad_top: 0, pad_left: 0, dilation_h: 1, dilation_w: 1)
    /// var index = [0]
    /// Float.maxPoolIndices([1, 4, 3, 2], geometry: g, planes: 0..<1, indices: &index)   // index == [1]
    /// ```
    static func maxPoolIndices(_ x: UnsafePointer<Self>, geometry: bp_conv_geometry, planes: Range<Int>,
                               indices: UnsafeMutablePointer<Int>)

    /// Max pooling over 2 x 2 windows with stride 2 (`bp_maxpool2d_2x2_f32`/`_f64`):
    /// the pooled values and the indices ``maxPoolIndices(_:geometry:planes:indices:)``
    /// would choose, for planes `planes`, in one vectorised pass.
    ///
    /// ```swift
    /// var value: [Double] = [0], index = [0]
    /// Double.maxPool2x2([1, 4, 3, 2], geometry: g, planes: 0..<1, values: &value, indices: &index)
    /// // value == [4], index == [1]
    /// ```
    static func maxPool2x2(_ x: UnsafePointer<Self>, geometry: bp_conv_geometry, planes: Range<Int>,
                           values: UnsafeMutablePointer<Self>, indices: UnsafeMutablePointer<Int>)

    /// The gradient of ``maxPool2x2(_:geometry:planes:values:indices:)``
    /// (`bp_maxunpool2d_2x2_f32`/`_f64`): for planes `planes` of dx, grad at the
    /// chosen element of each window and zeros elsewhere (dx is overwritten).
    ///
    /// ```swift
    /// var dx: [Float] = [9, 9, 9, 9]
    /// Float.maxUnpool2x2([5], indices: [1], geometry: g, planes: 0..<1, dx: &dx)   // dx == [0, 5, 0, 0]
    /// ```
    static func maxUnpool2x2(_ grad: UnsafePointer<Self>, indices: UnsafePointer<Int>, geometry: bp_conv_geometry,
                             planes: Range<Int>, dx: UnsafeMutablePointer<Self>)

    /// im2col of one image x [C, H, W] (`bp_im2col_f32`/`_f64`):
    /// cols[(c, i, j) · ld + y · out_w + x] = the element under tap (i, j) of
    /// the window at output (y, x) of channel c, or 0 in the padding.
    ///
    /// ```swift
    /// var cols = [Float](repeating: 0, count: 4)   // 1 x 2 x 2 image, 2 x 2 window, one position
    /// Float.im2col([1, 2, 3, 4], geometry: g, cols: &cols, ld: 1)   // cols == [1, 2, 3, 4]
    /// ```
    static func im2col(_ x: UnsafePointer<Self>, geometry: bp_conv_geometry, cols: UnsafeMutablePointer<Self>, ld: Int)

    /// The adjoint of ``im2col(_:geometry:cols:ld:)`` (`bp_col2im_f32`/`_f64`):
    /// dx [C, H, W] = the sums of the cols entries read from each element
    /// (dx is overwritten).
    ///
    /// ```swift
    /// var dx = [Double](repeating: 9, count: 4)
    /// Double.col2im([1, 2, 3, 4], ld: 1, geometry: g, dx: &dx)   // dx == [1, 2, 3, 4]
    /// ```
    static func col2im(_ cols: UnsafePointer<Self>, ld: Int, geometry: bp_conv_geometry, dx: UnsafeMutablePointer<Self>)
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

// Convolution as three primitives that are each other's derivatives:
//
//   y  = conv(x, w)            the forward convolution (+ bias)
//   dx = convInputGrad(g, w)   the adjoint in x: g convolved with the flipped kernel
//   dw = convWeightGrad(x, g)  the adjoint in w: x correlated with g
//
// All three are bilinear, so the vjp of each is written with the other two:
//   conv:            dx = convInputGrad(g, w),   dw = convWeightGrad(x, g),   db = Σ g
//   convInputGrad:   dg = conv(h, w),            dw = convWeightGrad(h, g)
//   convWeightGrad:  dx = convInputGrad(g, k),   dg = conv(x, k)
// and a gradient of a gradient needs no further code. Each runs image by image
// (Kernels/ConvolutionPerImage.swift): im2col of one image into a scratch
// buffer and a packed GEMM per group, images shared out over the threads.
// conv1d is conv2d of height 1.

/// Two sizes of a 2-D window, (height, width); an integer literal gives both.
///
/// ```swift
/// let s: Size2 = 2          // (2, 2)
/// let k: Size2 = [3, 5]     // (3, 5)
/// ```
public struct Size2: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The size along the height axis.
    public var height: Int
    /// The size along the width axis.
    public var width: Int
    /// The two sizes.
    public init(_ height: Int, _ width: Int) { self.height = height; self.width = width }
    /// The same size along both axes.
    public init(_ both: Int) { self.init(both, both) }
    /// `2` means (2, 2).
    public init(integerLiteral value: Int) { self.init(value) }
    /// `[3, 5]` means (3, 5); a one-element array gives both.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 1 || elements.count == 2, "Size2: expected 1 or 2 sizes, got \(elements)")
        self.init(elements[0], elements[elements.count - 1])
    }
    /// `(h, w)`, as PyTorch prints a pair.
    public var description: String { "(\(height), \(width))" }
}

/// The padding of a convolution, as PyTorch's `padding` argument: zeros
/// added on each side, `"valid"` (none) or `"same"` (the output has the
/// input's size; stride 1 only, extra padding after when the total is odd).
///
/// ```swift
/// conv2d(x, weight: w, padding: 1)
/// conv2d(x, weight: w, padding: .same)
/// conv2d(x, weight: w, padding: [1, 2])
/// ```
public enum ConvolutionPadding: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    /// No padding.
    case valid
    /// Output size = input size (stride 1).
    case same
    /// Zeros on both sides of each axis: (height, width).
    case explicit(Size2)

    /// `1` means one row/column of zeros on each side.
    public init(integerLiteral value: Int) { self = .explicit(Size2(value)) }
    /// `[1, 2]` means 1 row above and below, 2 columns left and right.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 1 || elements.count == 2, "ConvolutionPadding: expected 1 or 2 sizes, got \(elements)")
        self = .explicit(Size2(elements[0], elements[elements.count - 1]))
    }

    /// (before, after) zeros along one axis of a window of `kernel` taps.
    package func amounts(axis: Int, kernel: Int, dilation: Int) -> (Int, Int) {
        switch self {
        case .valid: return (0, 0)
        case .same:
            let total = dilation * (kernel - 1)
            return (total / 2, total - total / 2)
        case .explicit(let p):
            let v = axis == 0 ? p.height : p.width
            return (v, v)
        }
    }
}

extension Tensor {
    /// The forward convolution of x [N, C, H, W] with w [O, C/groups, kH, kW], plus b [O].
    static func convolution(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry) -> Tensor {
        let storage = TensorStorage<Scalar>.make(uninitializedCount: g.batch * g.outChannels * g.positions)
        if g.batch > 0, g.outChannels > 0 {
            Kernels.convolutionForward(x.base, w.base, bias: b.map { UnsafePointer($0.base) }, g, storage.base)
        }
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        return record("conv2d", inputs, storage, shape: g.outputShape) { grad, t, _ in
            let (x, w) = (t[0], t[1])
            return [x.requiresGrad ? convInputGrad(grad, w, g) : nil,
                    w.requiresGrad ? convWeightGrad(x, grad, g) : nil,
                    t.count == 3 && t[2].requiresGrad ? convBiasGrad(grad, g) : nil]
        }
    }

    /// db [O] = Σ over images and positions of dy [N, O, OH, OW]: one pass over
    /// dy when no graph is being recorded, else the recorded sum.
    static func convBiasGrad(_ dy: Tensor, _ g: ConvGeometry) -> Tensor {
        if GradMode.isEnabled { return dy.reshaped(to: [g.batch, g.outChannels, g.positions]).sum(axes: [0, 2]) }
        let storage = TensorStorage<Scalar>.make(zeroedCount: g.outChannels)
        Kernels.sumOuterAndInner(dy.base, outer: g.batch, middle: g.outChannels, inner: g.positions, storage.base)
        return Tensor(storage: storage, shape: [g.outChannels])
    }

    /// dx [N, C, H, W] from dy [N, O, OH, OW] and w: per image and group, wᵀ dy_n then col2im.
    static func convInputGrad(_ dy: Tensor, _ w: Tensor, _ g: ConvGeometry) -> Tensor {
        let storage = TensorStorage<Scalar>.make(uninitializedCount: g.batch * g.channels * g.height * g.width)
        if g.batch > 0, g.outChannels > 0, g.groupRows > 0 {
            Kernels.convolutionInputGrad(dy.base, w.base, g, storage.base)
        } else {
            Kernels.fill(storage.base, 0, g.batch * g.channels * g.height * g.width)
        }
        return record("conv2d_input_grad", [dy, w], storage, shape: g.inputShape) { h, t, _ in
            let (dy, w) = (t[0], t[1])
            return [dy.requiresGrad ? convolution(h, w, nil, g) : nil,
                    w.requiresGrad ? convWeightGrad(h, dy, g) : nil]
        }
    }

    /// dw [O, C/groups, kH, kW] from x and dy: per group, Σ_n dy_n cols_nᵀ.
    static func convWeightGrad(_ x: Tensor, _ dy: Tensor, _ g: ConvGeometry) -> Tensor {
        let storage = TensorStorage<Scalar>.make(uninitializedCount: g.outChannels * g.groupRows)
        if g.batch > 0, g.outChannels > 0, g.groupRows > 0, g.positions > 0 {
            Kernels.convolutionWeightGrad(x.base, dy.base, g, storage.base)
        } else {
            Kernels.fill(storage.base, 0, g.outChannels * g.groupRows)
        }
        return record("conv2d_weight_grad", [x, dy], storage, shape: g.weightShape) { k, t, _ in
            let (x, dy) = (t[0], t[1])
            return [x.requiresGrad ? convInputGrad(dy, k, g) : nil,
                    dy.requiresGrad ? convolution(x, k, nil, g) : nil]
        }
    }
}

/// The 2-D convolution (cross-correlation, as in every deep-learning
/// library) of x [N, C, H, W] (or one image [C, H, W]) with weight
/// [O, C/groups, kH, kW], plus bias [O], like `torch.nn.functional.conv2d`:
///
///   y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, g·C/groups + c, i·s + u·d - pad, j·s + v·d - pad]
///
/// with zeros outside the image; the output is [N, O, OH, OW] with
/// OH = ⌊(H + 2·pad - d·(kH - 1) - 1) / s⌋ + 1.
///
/// ```swift
/// let x = Tensor<Float>.randomNormal([8, 3, 32, 32])
/// let w = Tensor<Float>.randomNormal([16, 3, 3, 3])
/// let y = conv2d(x, weight: w, stride: 2, padding: 1)   // [8, 16, 16, 16]
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv2d<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil, stride: Size2 = 1,
                                    padding: ConvolutionPadding = 0, dilation: Size2 = 1, groups: Int = 1) -> Tensor<S> {
    precondition(x.rank == 4 || x.rank == 3, "conv2d: input must be [N, C, H, W] or [C, H, W], got \(x.shape)")
    if x.rank == 3 {
        return conv2d(x.unsqueezed(axis: 0), weight: weight, bias: bias, stride: stride, padding: padding,
                      dilation: dilation, groups: groups).squeezed(axis: 0)
    }
    precondition(weight.rank == 4, "conv2d: weight must be [out, in/groups, kH, kW], got \(weight.shape)")
    let g = convGeometry("conv2d", x.shape, weight.shape, bias: bias?.shape, stride: stride, padding: padding,
                         dilation: dilation, groups: groups)
    return Tensor.convolution(x, weight, bias, g)
}

/// The 1-D convolution of x [N, C, L] (or [C, L]) with weight [O, C/groups, k],
/// plus bias [O], like `torch.nn.functional.conv1d`: conv2d over a height of 1.
///
/// ```swift
/// let y = conv1d(Tensor<Float>.randomNormal([4, 2, 10]), weight: Tensor.randomNormal([6, 2, 3]), padding: .same)
/// // [4, 6, 10]
/// ```
public func conv1d<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>? = nil, stride: Int = 1,
                                    padding: ConvolutionPadding = 0, dilation: Int = 1, groups: Int = 1) -> Tensor<S> {
    precondition(x.rank == 3 || x.rank == 2, "conv1d: input must be [N, C, L] or [C, L], got \(x.shape)")
    precondition(weight.rank == 3, "conv1d: weight must be [out, in/groups, k], got \(weight.shape)")
    let x4 = x.unsqueezed(axis: -2)   // [N, C, 1, L]
    let pad: ConvolutionPadding
    switch padding {
    case .explicit(let p): pad = .explicit(Size2(0, p.width))
    default: pad = padding
    }
    return conv2d(x4, weight: weight.unsqueezed(axis: 2), bias: bias, stride: Size2(1, stride), padding: pad,
                  dilation: Size2(1, dilation), groups: groups).squeezed(axis: -2)
}

/// Checks the shapes of a convolution and returns its geometry.
func convGeometry(_ op: String, _ x: [Int], _ w: [Int], bias: [Int]?, stride: Size2, padding: ConvolutionPadding,
                  dilation: Size2, groups: Int) -> ConvGeometry {
    precondition(groups >= 1, "\(op): groups must be positive, got \(groups)")
    precondition(stride.height >= 1 && stride.width >= 1, "\(op): stride must be positive, got \(stride)")
    precondition(dilation.height >= 1 && dilation.width >= 1, "\(op): dilation must be positive, got \(dilation)")
    if case .explicit(let p) = padding {
        precondition(p.height >= 0 && p.width >= 0, "\(op): padding must not be negative, got \(p)")
    }
    if padding == .same {
        precondition(stride == Size2(1), "\(op): padding \"same\" needs stride 1, got \(stride)")
    }
    let (c, o) = (x[1], w[0])
    precondition(c % groups == 0 && o % groups == 0,
                 "\(op): input channels \(c) and output channels \(o) must be divisible by groups \(groups)")
    precondition(w[1] * groups == c,
                 "\(op): input \(x) has \(c) channels, weight \(w) expects \(w[1] * groups) (\(w[1]) x \(groups) groups)")
    if let bias { precondition(bias == [o], "\(op): bias shape \(bias) does not match weight \(w); expected [\(o)]") }
    let (pt, pb) = padding.amounts(axis: 0, kernel: w[2], dilation: dilation.height)
    let (pl, pr) = padding.amounts(axis: 1, kernel: w[3], dilation: dilation.width)
    let g = ConvGeometry(batch: x[0], channels: c, height: x[2], width: x[3], outChannels: o,
                         kernelH: w[2], kernelW: w[3], strideH: stride.height, strideW: stride.width,
                         padTop: pt, padBottom: pb, padLeft: pl, padRight: pr,
                         dilationH: dilation.height, dilationW: dilation.width, groups: groups)
    precondition(w[2] >= 1 && w[3] >= 1 && g.outH >= 1 && g.outW >= 1,
                 "\(op): kernel \(w[2])x\(w[3]) (dilation \(dilation)) is larger than the padded input \(x[2] + pt + pb)x\(x[3] + pl + pr)")
    return g
}

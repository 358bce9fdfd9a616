import CBackpropKernels

// Loops of pooling: the max-pooling argmax (any window; 2 x 2 with stride 2
// in one vectorised pass with the values, and its gradient), and flat gather
// and scatter-add. The convolutions are in ConvolutionPerImage.swift. Large
// calls are split over the thread pool by contiguous chunks.

/// The shape arithmetic of a 2-D convolution or pooling window over NCHW
/// input. Padding may differ before and after (PyTorch's "same" with an even
/// window); only `padTop`/`padLeft` matter once `outH`/`outW` are known.
struct ConvGeometry: Equatable, Sendable {
    var batch: Int, channels: Int, height: Int, width: Int
    var outChannels: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    var dilationH: Int, dilationW: Int
    var groups: Int

    /// floor((H + pads - dilation·(k - 1) - 1) / stride) + 1, as PyTorch.
    var outH: Int { (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1 }
    var outW: Int { (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1 }
    /// Output positions per image.
    var positions: Int { outH * outW }
    /// Rows of the im2col matrix for one group: (C / groups) · kH · kW.
    var groupRows: Int { channels / groups * kernelH * kernelW }

    var inputShape: [Int] { [batch, channels, height, width] }
    var weightShape: [Int] { [outChannels, channels / groups, kernelH, kernelW] }
    var outputShape: [Int] { [batch, outChannels, outH, outW] }
}

/// Work (elements touched) below which the loops here run on one thread.
let convolutionParallelThreshold = 1 << 15

extension Kernels {
    /// For every pooling window of every plane, the flat index into `x` of
    /// its largest element (the first of equal ones; NaN wins, as PyTorch).
    /// Padding is never chosen. Writes g.batch · g.channels · P indices.
    /// The loop is C (`bp_maxpool2d_indices_*` in CBackpropKernels/pooling.c): its
    /// update is bit masks hidden from the optimiser by an empty asm statement, which
    /// Swift cannot write; LLVM otherwise turns the running max into a branch that
    /// mispredicts half the time.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func maxPoolIndices<S: TensorScalar>(_ x: UnsafePointer<S>, _ g: ConvGeometry, _ out: UnsafeMutablePointer<Int>) {
        let planes = g.batch * g.channels
        let work = planes * g.positions * g.kernelH * g.kernelW
        let threads = work >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        let geometry = g.imageGeometry
        parallelChunks(planes, threads: threads) { range in
            S.maxPoolIndices(x, geometry: geometry, planes: range, indices: out)
        }
    }

    /// Whether ``maxPool2x2(_:_:values:indices:)`` handles this window: 2 x 2,
    /// stride 2, no padding, no dilation (`MaxPool2d(2)`).
    static func isMaxPool2x2(_ g: ConvGeometry) -> Bool {
        g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padTop == 0 && g.padLeft == 0
            && g.padBottom == 0 && g.padRight == 0 && g.dilationH == 1 && g.dilationW == 1
    }

    /// Max pooling over 2 x 2 windows with stride 2: the pooled values and the
    /// flat indices that ``maxPoolIndices(_:_:_:)`` would choose, in one
    /// vectorised pass (`bp_maxpool2d_2x2_*` in CBackpropKernels/pooling.c).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func maxPool2x2<S: TensorScalar>(_ x: UnsafePointer<S>, _ g: ConvGeometry, values: UnsafeMutablePointer<S>,
                                            indices: UnsafeMutablePointer<Int>) {
        precondition(isMaxPool2x2(g), "internal: maxPool2x2 on a window that is not 2 x 2 with stride 2")
        let planes = g.batch * g.channels
        let threads = planes * g.positions * 4 >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        let geometry = g.imageGeometry
        parallelChunks(planes, threads: threads) { range in
            S.maxPool2x2(x, geometry: geometry, planes: range, values: values, indices: indices)
        }
    }

    /// The gradient of ``maxPool2x2(_:_:values:indices:)``: dx (overwritten,
    /// g.batch · g.channels planes of g.height x g.width) gets grad[i] at
    /// indices[i], each in the window of output i, and zeros elsewhere; equal,
    /// bit for bit, to ``scatterAddFlat(_:_:_:blocks:_:outCount:)`` of the same
    /// indices, in one pass (`bp_maxunpool2d_2x2_*` in CBackpropKernels/pooling.c).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func maxUnpool2x2<S: TensorScalar>(_ grad: UnsafePointer<S>, _ indices: UnsafePointer<Int>, _ g: ConvGeometry,
                                              _ dx: UnsafeMutablePointer<S>) {
        precondition(isMaxPool2x2(g), "internal: maxUnpool2x2 on a window that is not 2 x 2 with stride 2")
        let planes = g.batch * g.channels
        let threads = planes * g.height * g.width >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        let geometry = g.imageGeometry
        parallelChunks(planes, threads: threads) { range in
            S.maxUnpool2x2(grad, indices: indices, geometry: geometry, planes: range, dx: dx)
        }
    }

    /// out[i] = x[indices[i]], split over `blocks` equal parts.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func gatherFlat<S: TensorScalar>(_ x: UnsafePointer<S>, _ indices: UnsafePointer<Int>, _ count: Int,
                                           _ out: UnsafeMutablePointer<S>) {
        let threads = count >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        parallelChunks(count, minChunk: 4096, threads: threads) { range in
            for i in range { out[i] = x[indices[i]] }
        }
    }

    /// out (zeroed first, `outCount` elements) [indices[i]] += g[i]. When
    /// `blocks` > 1, block b of the indices only points into block b of `out`
    /// (pooling: one plane each), so blocks run in parallel.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func scatterAddFlat<S: TensorScalar>(_ g: UnsafePointer<S>, _ indices: UnsafePointer<Int>, _ count: Int,
                                               blocks: Int, _ out: UnsafeMutablePointer<S>, outCount: Int) {
        let threads = count >= convolutionParallelThreshold && blocks > 1 ? Parallelism.threadCount : 1
        let perBlock = blocks > 0 ? count / blocks : 0, outPerBlock = blocks > 0 ? outCount / blocks : 0
        if threads == 1 || blocks <= 1 {
            out.update(repeating: 0, count: outCount)
            for i in 0..<count { out[indices[i]] += g[i] }
            return
        }
        parallelChunks(blocks, threads: threads) { range in
            (out + range.lowerBound * outPerBlock).update(repeating: 0, count: range.count * outPerBlock)
            for i in (range.lowerBound * perBlock)..<(range.upperBound * perBlock) { out[indices[i]] += g[i] }
        }
    }
}

// Pooling and im2col have C kernels only (Kernels/TensorScalar+Kernels.swift
// for Float and Double); another scalar type stops here with a message.
extension TensorScalar {
    /// No max-pooling kernel: traps, naming the type (Float and Double have one).
    ///
    /// ```swift
    /// S.maxPoolIndices(x, geometry: g, planes: 0..<1, indices: &index)   // traps unless S is Float or Double
    /// ```
    public static func maxPoolIndices(_ x: UnsafePointer<Self>, geometry: bp_conv_geometry, planes: Range<Int>,
                                      indices: UnsafeMutablePointer<Int>) {
        preconditionFailure("max_pool2d: no kernel for scalar type \(Self.self); use Float or Double")
    }

    /// No 2 x 2 max-pooling kernel: traps, naming the type.
    ///
    /// ```swift
    /// S.maxPool2x2(x, geometry: g, planes: 0..<1, values: &value, indices: &index)   // traps
    /// ```
    public static func maxPool2x2(_ x: UnsafePointer<Self>, geometry: bp_conv_geometry, planes: Range<Int>,
                                  values: UnsafeMutablePointer<Self>, indices: UnsafeMutablePointer<Int>) {
        preconditionFailure("max_pool2d: no kernel for scalar type \(Self.self); use Float or Double")
    }

    /// No 2 x 2 max-pooling gradient kernel: traps, naming the type.
    ///
    /// ```swift
    /// S.maxUnpool2x2(grad, indices: index, geometry: g, planes: 0..<1, dx: &dx)   // traps
    /// ```
    public static func maxUnpool2x2(_ grad: UnsafePointer<Self>, indices: UnsafePointer<Int>, geometry: bp_conv_geometry,
                                    planes: Range<Int>, dx: UnsafeMutablePointer<Self>) {
        preconditionFailure("max_pool2d: no kernel for scalar type \(Self.self); use Float or Double")
    }

    /// No im2col kernel: traps, naming the type.
    ///
    /// ```swift
    /// S.im2col(x, geometry: g, cols: &cols, ld: 1)   // traps unless S is Float or Double
    /// ```
    public static func im2col(_ x: UnsafePointer<Self>, geometry: bp_conv_geometry, cols: UnsafeMutablePointer<Self>,
                              ld: Int) {
        preconditionFailure("conv2d: no kernel for scalar type \(Self.self); use Float or Double")
    }

    /// No col2im kernel: traps, naming the type.
    ///
    /// ```swift
    /// S.col2im(cols, ld: 1, geometry: g, dx: &dx)   // traps unless S is Float or Double
    /// ```
    public static func col2im(_ cols: UnsafePointer<Self>, ld: Int, geometry: bp_conv_geometry,
                              dx: UnsafeMutablePointer<Self>) {
        preconditionFailure("conv2d: no kernel for scalar type \(Self.self); use Float or Double")
    }
}

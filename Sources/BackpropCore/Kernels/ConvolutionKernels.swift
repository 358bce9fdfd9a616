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
        parallelChunks(planes, threads: threads) { range in
            let (lo, hi) = (range.lowerBound, range.upperBound)
            if S.self == Float.self {
                bp_maxpool2d_indices_f32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), lo, hi, g.height, g.width,
                                         g.outH, g.outW, g.kernelH, g.kernelW, g.strideH, g.strideW,
                                         g.padTop, g.padLeft, g.dilationH, g.dilationW, out)
            } else if S.self == Double.self {
                bp_maxpool2d_indices_f64(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), lo, hi, g.height, g.width,
                                         g.outH, g.outW, g.kernelH, g.kernelW, g.strideH, g.strideW,
                                         g.padTop, g.padLeft, g.dilationH, g.dilationW, out)
            } else {
                preconditionFailure("max_pool2d: no kernel for scalar type \(S.self); use Float or Double")
            }
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
        parallelChunks(planes, threads: threads) { range in
            let (lo, hi) = (range.lowerBound, range.upperBound)
            if S.self == Float.self {
                bp_maxpool2d_2x2_f32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), lo, hi, g.height, g.width,
                                     g.outH, g.outW, UnsafeMutableRawPointer(values).assumingMemoryBound(to: Float.self), indices)
            } else if S.self == Double.self {
                bp_maxpool2d_2x2_f64(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), lo, hi, g.height, g.width,
                                     g.outH, g.outW, UnsafeMutableRawPointer(values).assumingMemoryBound(to: Double.self), indices)
            } else {
                preconditionFailure("max_pool2d: no kernel for scalar type \(S.self); use Float or Double")
            }
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
        parallelChunks(planes, threads: threads) { range in
            let (lo, hi) = (range.lowerBound, range.upperBound)
            if S.self == Float.self {
                bp_maxunpool2d_2x2_f32(UnsafeRawPointer(grad).assumingMemoryBound(to: Float.self), indices, lo, hi, g.height,
                                       g.width, g.outH, g.outW, UnsafeMutableRawPointer(dx).assumingMemoryBound(to: Float.self))
            } else if S.self == Double.self {
                bp_maxunpool2d_2x2_f64(UnsafeRawPointer(grad).assumingMemoryBound(to: Double.self), indices, lo, hi, g.height,
                                       g.width, g.outH, g.outW, UnsafeMutableRawPointer(dx).assumingMemoryBound(to: Double.self))
            } else {
                preconditionFailure("max_pool2d: no kernel for scalar type \(S.self); use Float or Double")
            }
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

import CBackpropKernels

// Loops of convolution and pooling: im2col/col2im (the convolution becomes
// one packed GEMM per group over the whole batch), the axis swap between
// [N, O, P] and [O, N·P], the max-pooling argmax, and flat gather and
// scatter-add. Each loop is plain strided code over raw pointers; large
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
    /// cols[(c, i, j), n·P + p] = x[n, c, oh·s - pad + i·d, ow·s - pad + j·d]
    /// (zero outside the image): the [C·kH·kW, N·P] matrix whose product with
    /// the weight [O, C·kH·kW] is the convolution. Rows of one group are contiguous.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func im2col<S: TensorScalar>(_ x: UnsafePointer<S>, _ g: ConvGeometry, _ cols: UnsafeMutablePointer<S>) {
        let (oh, ow, p) = (g.outH, g.outW, g.positions)
        let np = g.batch * p
        let rows = g.channels * g.kernelH * g.kernelW
        let threads = rows * np >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        parallelChunks(rows * g.batch, threads: threads) { range in
            for task in range {
                let row = task / g.batch, n = task % g.batch
                let c = row / (g.kernelH * g.kernelW)
                let i = row / g.kernelW % g.kernelH, j = row % g.kernelW
                let plane = x + (n * g.channels + c) * g.height * g.width
                let out = cols + row * np + n * p
                let colOffset = j * g.dilationW - g.padLeft
                // Output columns whose input column lies inside the image.
                let owStart = colOffset >= 0 ? 0 : Swift.min(ow, (-colOffset + g.strideW - 1) / g.strideW)
                let owEnd = Swift.max(owStart, Swift.min(ow, (g.width - 1 - colOffset) >= 0 ? (g.width - 1 - colOffset) / g.strideW + 1 : 0))
                for y in 0..<oh {
                    let dst = out + y * ow
                    let ih = y * g.strideH - g.padTop + i * g.dilationH
                    if ih < 0 || ih >= g.height { dst.update(repeating: 0, count: ow); continue }
                    let src = plane + ih * g.width + colOffset
                    if owStart > 0 { dst.update(repeating: 0, count: owStart) }
                    if g.strideW == 1 {
                        (dst + owStart).update(from: src + owStart, count: owEnd - owStart)
                    } else {
                        for xo in owStart..<owEnd { dst[xo] = src[xo * g.strideW] }
                    }
                    if owEnd < ow { (dst + owEnd).update(repeating: 0, count: ow - owEnd) }
                }
            }
        }
    }

    /// The adjoint of ``im2col``: dx[n, c, ...] = Σ of the cols entries that
    /// were read from it. Overwrites `dx`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func col2im<S: TensorScalar>(_ cols: UnsafePointer<S>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<S>) {
        let (oh, ow, p) = (g.outH, g.outW, g.positions)
        let np = g.batch * p
        let kk = g.kernelH * g.kernelW
        let threads = g.channels * kk * np >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        let (h, w, kh, kw, sh, sw, pt, pl, dh, dw) = (g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW,
                                                      g.padTop, g.padLeft, g.dilationH, g.dilationW)
        parallelChunks(g.batch * g.channels, threads: threads) { range in
            for task in range {
                let n = task / g.channels, c = task % g.channels
                let plane = dx + task * g.height * g.width
                plane.update(repeating: 0, count: h * w)
                for i in 0..<kh {
                    for j in 0..<kw {
                        let src = cols + (c * kk + i * kw + j) * np + n * p
                        let colOffset = j * dw - pl
                        let owStart = colOffset >= 0 ? 0 : Swift.min(ow, (-colOffset + sw - 1) / sw)
                        let owEnd = Swift.max(owStart, Swift.min(ow, (w - 1 - colOffset) >= 0 ? (w - 1 - colOffset) / sw + 1 : 0))
                        for y in 0..<oh {
                            let ih = y * sh - pt + i * dh
                            if ih < 0 || ih >= h { continue }
                            let dst = plane + ih * w + colOffset
                            let s = src + y * ow
                            if sw == 1 {
                                for xo in owStart..<owEnd { dst[xo] += s[xo] }
                            } else {
                                for xo in owStart..<owEnd { dst[xo * sw] += s[xo] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// out[b, a, p] = src[a, b, p] (+ bias[b] when given, with b the outer
    /// axis of the result): [A, B, P] to [B, A, P] by runs of P.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func swapOuterAxes<S: TensorScalar>(_ src: UnsafePointer<S>, a: Int, b: Int, p: Int,
                                              _ out: UnsafeMutablePointer<S>, addingToInner bias: UnsafePointer<S>? = nil) {
        let threads = a * b * p >= convolutionParallelThreshold ? Parallelism.threadCount : 1
        parallelChunks(b, threads: threads) { range in
            for bi in range {
                for ai in 0..<a {
                    let s = src + (ai * b + bi) * p, d = out + (bi * a + ai) * p
                    if let bias {
                        let v = bias[ai]
                        for k in 0..<p { d[k] = s[k] + v }
                    } else {
                        d.update(from: s, count: p)
                    }
                }
            }
        }
    }

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

import CBackpropKernels

// The three convolutions (forward, input gradient, weight gradient) a few
// images at a time, images spread over the thread pool in fixed contiguous
// shares. For a block of G images (P output positions each, L = G·P):
//
//   cols  [C·kH·kW, L]   im2col of the G images side by side
//   Y     [O, L] = W · cols             then copied (+ bias) into y [N, O, P]
//   dcols [C·kH·kW, L] = Wᵀ · dY        dY [O, L] copied from dy [N, O, P]; col2im per image
//   dW   += dY · colsᵀ                  one partial sum per share, added in share order
//
// G is chosen so that a block's buffers (about 512 KiB) stay in L2, instead of
// a [C·kH·kW, N·P] matrix for the whole batch that goes to memory and back;
// and a block is wide enough that packing W and the edge tiles of the GEMM
// are paid once per block, not once per image (conv 32 -> 64, 3 x 3 on
// 13 x 13: 3 images, 64 x 363 x 288 per product). For a batch smaller than
// twice the thread count the blocks run in turn and each GEMM may use the
// threads itself. dW is summed in a fixed number of shares, so no result
// depends on the thread count.

extension Kernels {
    /// Threads for a loop over `g.batch` images of `work` multiply-adds in
    /// all: `threads` (at most) when there are at least two images per thread
    /// and enough work, else one (the GEMMs inside may then use threads).
    private static func imageThreads(_ g: ConvGeometry, work: Int, threads: Int) -> Int {
        threads > 1 && g.batch >= 2 * threads && work >= convolutionParallelThreshold * 8 ? threads : 1
    }


    /// Partial sums of a weight gradient: images are cut into this many shares
    /// (fewer for a smaller batch), summed separately, then added in order.
    static let weightGradShares = 4

    /// Images per block: buffers of `perImage` elements an image fit in about
    /// 128K elements. One image when it has 256 positions or more: its product
    /// is then wide enough alone, and a block of one reads dy and writes y in
    /// place (no copies between [N, O, P] and [O, G·P]).
    private static func blockImages(_ g: ConvGeometry, perImage: Int) -> Int {
        g.positions >= 256 ? 1 : Swift.max(1, Swift.min(g.batch, (1 << 17) / Swift.max(perImage, 1)))
    }

    /// Runs `body(images, scratch, share)` over `shares` fixed contiguous
    /// shares of the batch (at most one per image) on up to `threads` threads,
    /// each share cut into blocks of at most `block` images and given its own
    /// scratch of `scratchCount` elements.
    private static func forImageBlocks<S: TensorScalar>(_ g: ConvGeometry, shares: Int, threads: Int, block: Int,
                                                        scratchCount: Int, _: S.Type,
                                                        _ body: (Range<Int>, UnsafeMutablePointer<S>, Int) -> Void) {
        let shares = Swift.max(1, Swift.min(shares, g.batch))
        let scratch = (0..<shares).map { _ in TensorStorage<S>.make(uninitializedCount: Swift.max(scratchCount, 1)) }
        withExtendedLifetime(scratch) {
            parallelFor(shares, threads: threads) { s in
                var n = g.batch * s / shares
                let end = g.batch * (s + 1) / shares
                while n < end {
                    let next = Swift.min(end, n + block)
                    body(n..<next, scratch[s].base, s)
                    n = next
                }
            }
        }
    }

    /// dY [O, G·P] from dy [N, O, P] for the images of `images`.
    @inline(__always)
    private static func gatherOutputs<S: TensorScalar>(_ dy: UnsafePointer<S>, _ g: ConvGeometry, _ images: Range<Int>,
                                                      _ out: UnsafeMutablePointer<S>) {
        let (p, ld) = (g.positions, images.count * g.positions)
        for (t, n) in images.enumerated() {
            for o in 0..<g.outChannels {
                (out + o * ld + t * p).update(from: dy + (n * g.outChannels + o) * p, count: p)
            }
        }
    }

    /// y [N, O, P] = conv(x, w) (+ bias[o] on every position of channel o).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func convolutionForward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, bias: UnsafePointer<S>?,
                                                   _ g: ConvGeometry, _ y: UnsafeMutablePointer<S>,
                                                   threads: Int = Parallelism.threadCount) {
        let (p, rows, og) = (g.positions, g.groupRows, g.outChannels / g.groups)
        let allRows = rows * g.groups
        let imageIn = g.channels * g.height * g.width
        let block = blockImages(g, perImage: (allRows + g.outChannels) * p)
        let threads = imageThreads(g, work: g.batch * g.outChannels * p * rows, threads: threads)
        forImageBlocks(g, shares: threads, threads: threads, block: block, scratchCount: (allRows + g.outChannels) * block * p, S.self) {
            images, scratch, _ in
            let ld = images.count * p
            let single = images.count == 1
            let cols = scratch, product = single ? y + images.lowerBound * g.outChannels * p : scratch + allRows * ld
            for (t, n) in images.enumerated() { im2colImage(x + n * imageIn, g, cols + t * p, ld: ld) }
            for k in 0..<g.groups {
                S.gemm(transposeA: false, transposeB: false, m: og, n: ld, k: rows,
                       a: w + k * og * rows, lda: rows, b: cols + k * rows * ld, ldb: ld,
                       c: product + k * og * ld, ldc: ld, accumulate: false)
            }
            if single {
                if let bias {
                    for o in 0..<g.outChannels {
                        let row = product + o * p, v = bias[o]
                        for i in 0..<p { row[i] += v }
                    }
                }
                return
            }
            for (t, n) in images.enumerated() {
                for o in 0..<g.outChannels {
                    let src = product + o * ld + t * p, dst = y + (n * g.outChannels + o) * p
                    if let bias {
                        let v = bias[o]
                        for i in 0..<p { dst[i] = src[i] + v }
                    } else {
                        dst.update(from: src, count: p)
                    }
                }
            }
        }
    }

    /// dx [N, C, H, W] from dy [N, O, P]: per block and group, Wᵀ dY, then col2im.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func convolutionInputGrad<S: TensorScalar>(_ dy: UnsafePointer<S>, _ w: UnsafePointer<S>, _ g: ConvGeometry,
                                                     _ dx: UnsafeMutablePointer<S>, threads: Int = Parallelism.threadCount) {
        let (p, rows, og) = (g.positions, g.groupRows, g.outChannels / g.groups)
        let allRows = rows * g.groups
        let imageIn = g.channels * g.height * g.width
        // Wᵀ per group [rows, og], made once, so that the GEMM packs it as a plain (fast) A.
        let wT = TensorStorage<S>.make(uninitializedCount: g.outChannels * rows)
        for k in 0..<g.groups {
            let src = w + k * og * rows, dst = wT.base + k * og * rows
            for o in 0..<og { for r in 0..<rows { dst[r * og + o] = src[o * rows + r] } }
        }
        let block = blockImages(g, perImage: (allRows + g.outChannels) * p)
        let threads = imageThreads(g, work: g.batch * g.outChannels * p * rows, threads: threads)
        withExtendedLifetime(wT) {
            forImageBlocks(g, shares: threads, threads: threads, block: block, scratchCount: (allRows + g.outChannels) * block * p, S.self) {
                images, scratch, _ in
                let ld = images.count * p
                let dcols = scratch
                let dY = images.count == 1 ? dy + images.lowerBound * g.outChannels * p : UnsafePointer(scratch + allRows * ld)
                if images.count > 1 { gatherOutputs(dy, g, images, scratch + allRows * ld) }
                for k in 0..<g.groups {
                    S.gemm(transposeA: false, transposeB: false, m: rows, n: ld, k: og,
                           a: wT.base + k * og * rows, lda: og, b: dY + k * og * ld, ldb: ld,
                           c: dcols + k * rows * ld, ldc: ld, accumulate: false)
                }
                for (t, n) in images.enumerated() { col2imImage(dcols + t * p, g, dx + n * imageIn, ld: ld) }
            }
        }
    }

    /// dw [O, C/groups·kH·kW] from x and dy [N, O, P]: per group, Σ over blocks of dY colsᵀ.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func convolutionWeightGrad<S: TensorScalar>(_ x: UnsafePointer<S>, _ dy: UnsafePointer<S>, _ g: ConvGeometry,
                                                      _ dw: UnsafeMutablePointer<S>, threads: Int = Parallelism.threadCount) {
        let (p, rows, og) = (g.positions, g.groupRows, g.outChannels / g.groups)
        let allRows = rows * g.groups
        let imageIn = g.channels * g.height * g.width
        let weights = g.outChannels * rows
        let block = blockImages(g, perImage: (allRows + g.outChannels) * p)
        let threads = imageThreads(g, work: g.batch * g.outChannels * p * rows, threads: threads)
        // A fixed number of partial sums, whatever the thread count, so that dw
        // does not depend on it (a resumed run must equal an uninterrupted one).
        let shares = Swift.min(weightGradShares, g.batch)
        // Share 0 sums into dw itself; the others into buffers added to it at the end, in order.
        let partials = (1..<shares).map { _ in TensorStorage<S>.make(uninitializedCount: weights) }
        withExtendedLifetime(partials) {
            forImageBlocks(g, shares: shares, threads: threads, block: block, scratchCount: (allRows + g.outChannels) * block * p, S.self) {
                images, scratch, share in
                let sum = share == 0 ? dw : partials[share - 1].base
                let first = images.lowerBound == g.batch * share / shares
                let ld = images.count * p
                let cols = scratch
                let dY = images.count == 1 ? dy + images.lowerBound * g.outChannels * p : UnsafePointer(scratch + allRows * ld)
                if images.count > 1 { gatherOutputs(dy, g, images, scratch + allRows * ld) }
                for (t, n) in images.enumerated() { im2colImage(x + n * imageIn, g, cols + t * p, ld: ld) }
                for k in 0..<g.groups {
                    S.gemm(transposeA: false, transposeB: true, m: og, n: rows, k: ld,
                           a: dY + k * og * ld, lda: ld, b: cols + k * rows * ld, ldb: ld,
                           c: sum + k * og * rows, ldc: rows, accumulate: !first)
                }
            }
            for partial in partials {
                let src = partial.base
                for i in 0..<weights { dw[i] += src[i] }
            }
        }
    }

    /// out[m] += Σ_{o, i} x[o, m, i] for x [outer, middle, inner]: a convolution's bias gradient.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func sumOuterAndInner<S: TensorScalar>(_ x: UnsafePointer<S>, outer: Int, middle: Int, inner: Int,
                                                 _ out: UnsafeMutablePointer<S>) {
        for o in 0..<outer {
            for m in 0..<middle { out[m] += reduceRow(.sum, x + (o * middle + m) * inner, inner) }
        }
    }

    /// cols[(c, i, j), p] = x[c, oh·s - pad + i·d, ow·s - pad + j·d] for one
    /// image x [C, H, W] (zero outside it): its [C·kH·kW, P] im2col matrix,
    /// rows `ld` apart. The loops are C (`bp_im2col_*` in CBackpropKernels/im2col.c):
    /// a row of a small feature map is a few floats, copied there by whole AVX
    /// vectors, where Swift (built for baseline x86-64) copies by SSE or calls memcpy.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func im2colImage<S: TensorScalar>(_ x: UnsafePointer<S>, _ g: ConvGeometry, _ cols: UnsafeMutablePointer<S>, ld: Int) {
        S.im2col(x, geometry: g.imageGeometry, cols: cols, ld: ld)
    }

    /// The adjoint of ``im2colImage(_:_:_:ld:)``: dx [C, H, W] = Σ of the cols
    /// entries read from each element (cols rows `ld` apart). Overwrites `dx`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func col2imImage<S: TensorScalar>(_ cols: UnsafePointer<S>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<S>, ld: Int) {
        S.col2im(cols, ld: ld, geometry: g.imageGeometry, dx: dx)
    }
}

extension ConvGeometry {
    /// One image's window geometry for the C loops.
    var imageGeometry: bp_conv_geometry {
        bp_conv_geometry(channels: channels, height: height, width: width, out_h: outH, out_w: outW,
                         kernel_h: kernelH, kernel_w: kernelW, stride_h: strideH, stride_w: strideW,
                         pad_top: padTop, pad_left: padLeft, dilation_h: dilationH, dilation_w: dilationW)
    }
}

import Testing
import Backprop
@testable import BackpropCore

/// The fast kernel paths of the convolution layers: the blocked per-image
/// convolutions (Kernels/ConvolutionPerImage.swift) against a direct loop
/// over the definition, on one and two threads, with several images per
/// block and one; the 2 x 2 max-pool kernel against the general argmax; the
/// one-pass ReLU gradient against the product with the mask.
@Suite("Convolution kernels", .serialized)
struct ConvolutionKernelTests {
    /// y[n, o, i, j] = b[o] + Σ w[o, c, u, v] x[n, group·C/groups + c, i·s + u·d - pad, j·s + v·d - pad], as loops.
    func directConvolution(_ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>, _ g: ConvGeometry) -> Tensor<Double> {
        let (xs, ws, bs) = (x.scalars, w.scalars, b.scalars)
        let cg = g.channels / g.groups, og = g.outChannels / g.groups
        var y = [Double](repeating: 0, count: g.batch * g.outChannels * g.positions)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for i in 0..<g.outH {
                    for j in 0..<g.outW {
                        var s = bs[o]
                        for c in 0..<cg {
                            let channel = o / og * cg + c
                            for u in 0..<g.kernelH {
                                for v in 0..<g.kernelW {
                                    let h = i * g.strideH - g.padTop + u * g.dilationH
                                    let wi = j * g.strideW - g.padLeft + v * g.dilationW
                                    if h < 0 || h >= g.height || wi < 0 || wi >= g.width { continue }
                                    s += ws[((o * cg + c) * g.kernelH + u) * g.kernelW + v]
                                        * xs[((n * g.channels + channel) * g.height + h) * g.width + wi]
                                }
                            }
                        }
                        y[((n * g.outChannels + o) * g.outH + i) * g.outW + j] = s
                    }
                }
            }
        }
        return Tensor(shape: g.outputShape, scalars: y)
    }

    @Test("Blocked convolutions equal the definition, on one and two threads, blocks of one or several images")
    func blockedConvolutionsMatchTheDefinition() {
        // (N, C, H, W, O, kH, kW, stride, padding, dilation, groups). The first three: blocks of
        // several images on one thread; the fourth: blocks of 6 images shared over the threads
        // (the cnn workload's second layer); the last three: one image a block (256 positions
        // or more), threaded.
        let configs: [(Int, Int, Int, Int, Int, Int, Int, Size2, ConvolutionPadding, Size2, Int)] = [
            (7, 3, 9, 8, 4, 3, 3, 1, 0, 1, 1),
            (5, 4, 11, 7, 6, 3, 2, [2, 1], [1, 2], [1, 2], 2),
            (6, 2, 6, 9, 4, 1, 1, 1, 0, 1, 2),
            (8, 16, 13, 13, 32, 3, 3, 1, 0, 1, 1),
            (9, 1, 28, 28, 32, 3, 3, 1, 0, 1, 1),
            (6, 8, 40, 40, 8, 3, 3, 1, .same, 1, 1),
            (5, 8, 33, 31, 12, 3, 3, 2, 1, 1, 4),
        ]
        for (i, c) in configs.enumerated() {
            let (n, ch, h, w, o, kh, kw, s, p, d, groups) = c
            let x = randn([n, ch, h, w], seed: UInt64(100 + i)), weight = randn([o, ch / groups, kh, kw], seed: UInt64(110 + i))
            let bias = randn([o], seed: UInt64(120 + i))
            let g = convGeometry("test", x.shape, weight.shape, bias: bias.shape, stride: s, padding: p, dilation: d, groups: groups)
            let expected = directConvolution(x, weight, bias, g)
            let cot = randn(g.outputShape, seed: UInt64(130 + i))
            let (xv, wv) = (x.requiringGrad(), weight.requiringGrad())
            let y = conv2d(xv, weight: wv, bias: bias, stride: s, padding: p, dilation: d, groups: groups)
            expectClose(y, expected, rtol: 1e-12, atol: 1e-12)
            let grads = gradients(of: (y * cot).sum(), wrt: [xv, wv])
            // The kernels on one and on two threads (passed in: the process-wide count is left
            // alone, other suites read it): the same values, bit for bit, as the op's.
            for threads in [1, 2] {
                var (yk, dxk, dwk) = ([Double](repeating: .nan, count: y.count), [Double](repeating: .nan, count: x.count),
                                      [Double](repeating: .nan, count: weight.count))
                yk.withUnsafeMutableBufferPointer {
                    Kernels.convolutionForward(x.base, weight.base, bias: UnsafePointer(bias.base), g, $0.baseAddress!, threads: threads)
                }
                dxk.withUnsafeMutableBufferPointer { Kernels.convolutionInputGrad(cot.base, weight.base, g, $0.baseAddress!, threads: threads) }
                dwk.withUnsafeMutableBufferPointer { Kernels.convolutionWeightGrad(x.base, cot.base, g, $0.baseAddress!, threads: threads) }
                #expect(yk == y.scalars, "config \(i), \(threads) threads: y")
                #expect(dxk == grads[0].scalars, "config \(i), \(threads) threads: dx")
                #expect(dwk == grads[1].scalars, "config \(i), \(threads) threads: dw")
            }
            // The bias gradient: the sum of the cotangent over images and positions.
            let bv = bias.requiringGrad()
            let yb = conv2d(x, weight: weight, bias: bv, stride: s, padding: p, dilation: d, groups: groups)
            let db = gradients(of: (yb * cot).sum(), wrt: [bv])[0]
            expectClose(db, cot.sum(axes: [0, 2, 3]), rtol: 1e-12, atol: 1e-12)
            // The adjoint identities: <conv(x, w), cot> = <x, dx> = <w, dw> (bilinear, no bias).
            let inner = (directConvolution(x, weight, Tensor.zeros([o]), g) * cot).sum().item
            expectClose((x * grads[0]).sum().item, inner, tol: 1e-10)
            expectClose((weight * grads[1]).sum().item, inner, tol: 1e-10)
            // And each gradient element against the definition: dx = conv of cot with the flipped
            // kernel, checked through one-hot probes of the linear map x -> <conv(x, w), cot>.
            for probe in 0..<3 {
                let k = (probe * 7919 + i) % x.count
                var e = [Double](repeating: 0, count: x.count)
                e[k] = 1
                let ex = Tensor<Double>(shape: x.shape, scalars: e)
                let column = (directConvolution(ex, weight, Tensor.zeros([o]), g) * cot).sum().item
                expectClose(grads[0].scalars[k], column, tol: 1e-10)
            }
        }
    }

    @Test("Float blocked convolutions agree with Double on every kernel path")
    func floatOnEveryPath() {
        let x = randn([8, 6, 14, 13], seed: 140), w = randn([10, 3, 3, 3], seed: 141), b = randn([10], seed: 142)
        let expected = conv2d(x, weight: w, bias: b, stride: 1, padding: 1, groups: 2)
        for path in KernelPath.supported {
            KernelPath.current = path
            defer { KernelPath.resetToDefault() }
            let y = conv2d(Tensor<Float>(x), weight: Tensor<Float>(w), bias: Tensor<Float>(b), stride: 1, padding: 1, groups: 2)
            #expect(Tensor<Double>(y).isClose(to: expected, rtol: 1e-4, atol: 1e-4), "path \(path.name)")
        }
    }

    /// Values with many ties and a NaN, so that the choice among equal maxima matters.
    func tiedValues<S: TensorScalar>(_ shape: [Int], _: S.Type) -> [S] {
        (0..<Shape.count(shape)).map { i in i == 37 ? S.nan : S((i * 7) % 5) - 2 }
    }

    func poolPair<S: TensorScalar>(_ xs: [S], _ shape: [Int]) -> (fast: ([S], [Int]), general: [Int]) {
        let g = ConvGeometry(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3], outChannels: shape[1],
                             kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0,
                             dilationH: 1, dilationW: 1, groups: shape[1])
        let count = g.batch * g.channels * g.positions
        var values = [S](repeating: 0, count: count), fast = [Int](repeating: -1, count: count)
        var general = [Int](repeating: -1, count: count)
        xs.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { v in
                fast.withUnsafeMutableBufferPointer { Kernels.maxPool2x2(x.baseAddress!, g, values: v.baseAddress!, indices: $0.baseAddress!) }
            }
            general.withUnsafeMutableBufferPointer { Kernels.maxPoolIndices(x.baseAddress!, g, $0.baseAddress!) }
        }
        return ((values, fast), general)
    }

    /// Whether ``Kernels/maxUnpool2x2(_:_:_:_:)`` writes what a scatter-add into zeros writes, bit for bit.
    func unpoolEqualsScatter<S: TensorScalar>(_ shape: [Int], _: S.Type) -> Bool {
        let g = ConvGeometry(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3], outChannels: shape[1],
                             kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padTop: 0, padBottom: 0, padLeft: 0,
                             padRight: 0, dilationH: 1, dilationW: 1, groups: shape[1])
        let (_, indices) = poolPair(tiedValues(shape, S.self), shape).fast
        let grad: [S] = (0..<indices.count).map { $0 % 5 == 0 ? -S(0) : S($0) - 7.5 }
        let n = Shape.count(shape)
        var fast = [S](repeating: .nan, count: n), scattered = [S](repeating: .nan, count: n)
        grad.withUnsafeBufferPointer { gp in
            indices.withUnsafeBufferPointer { ip in
                fast.withUnsafeMutableBufferPointer { Kernels.maxUnpool2x2(gp.baseAddress!, ip.baseAddress!, g, $0.baseAddress!) }
                scattered.withUnsafeMutableBufferPointer {
                    Kernels.scatterAddFlat(gp.baseAddress!, ip.baseAddress!, grad.count, blocks: 1, $0.baseAddress!, outCount: n)
                }
            }
        }
        return zip(fast, scattered).allSatisfy { a, b in a == b && a.sign == b.sign }
    }

    @Test("The 2 x 2 max-pool kernel picks what the general one picks: first of ties, NaN wins, odd sizes")
    func maxPool2x2MatchesGeneral() {
        // Widths with 0-3 leftover output columns after groups of 4, and odd heights and widths.
        for shape in [[2, 3, 9, 17], [1, 2, 26, 26], [3, 1, 5, 11], [1, 1, 2, 2], [2, 5, 13, 15]] {
            for path in KernelPath.supported {
                KernelPath.current = path
                defer { KernelPath.resetToDefault() }
                let xf = tiedValues(shape, Float.self), xd = tiedValues(shape, Double.self)
                let (f, gf) = poolPair(xf, shape), (d, gd) = poolPair(xd, shape)
                #expect(f.1 == gf, "Float \(shape) \(path.name)")
                #expect(d.1 == gd, "Double \(shape) \(path.name)")
                #expect(zip(f.0, f.1).allSatisfy { v, k in v.bitPattern == xf[k].bitPattern }, "Float values \(shape)")
                #expect(zip(d.0, d.1).allSatisfy { v, k in v.bitPattern == xd[k].bitPattern }, "Double values \(shape)")
            }
        }
        // The one-pass gradient equals the scatter-add into zeros, bit for bit (-0 included), odd sizes too.
        for shape in [[2, 3, 9, 17], [1, 2, 26, 26], [3, 1, 5, 11]] {
            for path in KernelPath.supported {
                KernelPath.current = path
                defer { KernelPath.resetToDefault() }
                #expect(unpoolEqualsScatter(shape, Float.self), "Float unpool \(shape) \(path.name)")
                #expect(unpoolEqualsScatter(shape, Double.self), "Double unpool \(shape) \(path.name)")
            }
        }
        // Through the op: NaN propagates, and the gradient goes to the first of equal maxima.
        let x = Tensor<Double>(shape: [1, 1, 2, 4], scalars: [1, 3, 3, 3, 3, 2, .nan, 3]).requiringGrad()
        let y = maxPool2d(x, kernelSize: 2)
        #expect(y.scalars[0] == 3 && y.scalars[1].isNaN)
        let dx = gradients(of: (y * Tensor<Double>(shape: [1, 1, 1, 2], scalars: [10, 20])).sum(), wrt: [x])[0]
        #expect(dx.scalars == [0, 10, 0, 0, 0, 0, 20, 0])
    }

    @Test("The one-pass ReLU gradient equals the product with the mask, NaN and infinity included")
    func reluGradientInOnePass() {
        let xs: [Double] = [-2, 0, 3, -0.0, 5, -1, 1e-30, .nan]
        let gs: [Double] = [1, 2, 3, .infinity, -4, .nan, 7, 8]
        for scale in [1.0, 3.0] {
            let x = Tensor<Double>(shape: [8], scalars: xs).requiringGrad()
            let y = scale == 1 ? relu(x) : relu(x, scale: scale)
            let got = gradients(of: (y * Tensor(shape: [8], scalars: gs)).sum(), wrt: [x])[0].scalars
            let expected = zip(gs, xs).map { g, v in g * (v > 0 ? scale : 0) }
            #expect(zip(got, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "scale \(scale): \(got)")
        }
        // With createGraph the vjp is recorded, so the gradient can be differentiated again.
        let x = Tensor<Double>([-1, 2, 3]).requiringGrad()
        let g = gradients(of: (relu(x) * relu(x)).sum(), wrt: [x], createGraph: true)[0]
        #expect(g.scalars == [0, 4, 6])
        #expect(gradients(of: g.sum(), wrt: [x])[0].scalars == [0, 2, 2])
    }
}

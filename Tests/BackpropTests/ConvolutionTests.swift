import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining

/// Convolution, pooling and normalization: gradcheck in Double for each
/// configuration, and forward/backward against PyTorch's values
/// (Fixtures/conv/ops.json, made by scripts/make_conv_fixtures.py).
@Suite("Convolution, pooling and normalization ops")
struct ConvolutionOpTests {
    /// f(x) · r summed with a fixed random r: one reverse pass checks the whole vjp.
    func projected(_ y: Tensor<Double>, seed: UInt64) -> Tensor<Double> { (y * randn(y.shape, seed: seed)).sum() }

    @Test func conv2dGradcheck() {
        // (N, C, H, W, O, kH, kW, stride, padding, dilation, groups)
        let configs: [(Int, Int, Int, Int, Int, Int, Int, Size2, ConvolutionPadding, Size2, Int)] = [
            (2, 2, 5, 4, 3, 3, 2, 1, 0, 1, 1),
            (1, 2, 7, 6, 2, 3, 3, 2, 1, 1, 1),
            (1, 4, 7, 7, 4, 3, 3, [2, 1], [1, 2], 2, 2),
            (2, 3, 5, 5, 3, 3, 3, 1, .same, 1, 3),
            (1, 2, 5, 6, 2, 2, 4, 1, .same, [1, 2], 1),
            (1, 2, 4, 5, 2, 1, 1, 3, .valid, 1, 2),
        ]
        for (i, c) in configs.enumerated() {
            let (n, ch, h, w, o, kh, kw, s, p, d, g) = c
            let x = randn([n, ch, h, w], seed: UInt64(10 + i))
            let weight = randn([o, ch / g, kh, kw], seed: UInt64(20 + i))
            let bias = randn([o], seed: UInt64(30 + i))
            expectGradcheck("conv2d config \(i)", [x, weight, bias]) {
                projected(conv2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p, dilation: d, groups: g), seed: UInt64(40 + i))
            }
        }
    }

    @Test func conv2dSecondOrderGradcheck() {
        // The vjps are themselves ops (convInputGrad, convWeightGrad): differentiate a gradient.
        let x = randn([1, 2, 5, 4], seed: 1), w = randn([2, 1, 3, 2], seed: 2)
        expectGradcheck("conv2d gradient of gradient", [x, w]) { t in
            enableGrad {
                // Finite differences call this inside noGrad with plain tensors: make them variables here.
                let (a, b) = (t[0].requiresGrad ? t[0] : t[0].requiringGrad(), t[1].requiresGrad ? t[1] : t[1].requiringGrad())
                let y = conv2d(a, weight: b, stride: [2, 1], padding: 1, groups: 2)
                let g = gradients(of: projected(y, seed: 3), wrt: [a, b], createGraph: true)
                return (g[0] * g[0]).sum() + (g[1] * b).sum()
            }
        }
    }

    @Test func conv1dGradcheck() {
        let x = randn([2, 4, 9], seed: 50), w = randn([4, 2, 3], seed: 51), b = randn([4], seed: 52)
        expectGradcheck("conv1d stride 2 padding 1 dilation 2 groups 2", [x, w, b]) {
            projected(conv1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, dilation: 2, groups: 2), seed: 53)
        }
        expectGradcheck("conv1d same", [x, randn([3, 4, 4], seed: 54)]) {
            projected(conv1d($0[0], weight: $0[1], padding: .same), seed: 55)
        }
    }

    @Test func poolingGradcheck() {
        // Distinct values, so each max is unique and finite differences are meaningful.
        let distinct = Tensor<Double>(shape: [2, 2, 7, 6], scalars: (0..<168).map { Double(($0 * 37) % 168) / 17 - 4 })
        expectGradcheck("max_pool2d 2", [distinct]) { projected(maxPool2d($0[0], kernelSize: 2), seed: 60) }
        expectGradcheck("max_pool2d 3 stride 2 pad 1", [distinct]) {
            projected(maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1), seed: 61)
        }
        expectGradcheck("max_pool2d (3, 2) stride (1, 2) dilation 2", [distinct]) {
            projected(maxPool2d($0[0], kernelSize: [3, 2], stride: [1, 2], dilation: 2), seed: 62)
        }
        let x = randn([2, 3, 7, 5], seed: 63)
        expectGradcheck("avg_pool2d 2", [x]) { projected(avgPool2d($0[0], kernelSize: 2), seed: 64) }
        expectGradcheck("avg_pool2d 3 stride 2 pad 1", [x]) { projected(avgPool2d($0[0], kernelSize: 3, stride: 2, padding: 1), seed: 65) }
        expectGradcheck("adaptive_avg_pool2d 1", [x]) { projected(adaptiveAvgPool2d($0[0], outputSize: 1), seed: 66) }
        expectGradcheck("adaptive_avg_pool2d (3, 2)", [x]) { projected(adaptiveAvgPool2d($0[0], outputSize: [3, 2]), seed: 67) }
        expectGradcheck("flatten", [x]) { projected(flatten($0[0], startAxis: 1), seed: 68) }
    }

    @Test func normalizationGradcheck() {
        let x4 = randn([3, 2, 3, 4], seed: 70), x2 = randn([5, 3], seed: 71)
        let w = randn([2], seed: 72), b = randn([2], seed: 73)
        expectGradcheck("batch_norm 2d training", [x4, w, b]) {
            projected(batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true), seed: 74)
        }
        let rm = randn([2], seed: 75), rv = abs(randn([2], seed: 76)) + 0.5
        expectGradcheck("batch_norm 2d eval", [x4, w, b]) {
            projected(batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2]), seed: 77)
        }
        // Training mode is one fused node: its recorded (createGraph) backward differentiates again, and
        // both backward passes and the forward equal the composite it replaces.
        expectGradcheck("batch_norm 2d training, second order", [x4, w, b]) { t in
            enableGrad {
                let xv = t[0].requiresGrad ? t[0] : t[0].detached().requiringGrad()
                let y = tanh(batchNorm(xv, runningMean: nil, runningVar: nil, weight: t[1], bias: t[2], training: true)).sum()
                return gradients(of: y, wrt: [xv], createGraph: true)[0]
            }
        }
        let leaves = [x4, w, b].map { $0.detached().requiringGrad() }
        let up = randn([3, 2, 3, 4], seed: 83)
        func composite(_ t: [Tensor<Double>]) -> Tensor<Double> {
            let axes = [0, 2, 3]
            let centered = t[0] - t[0].mean(axes: axes, keepDims: true)
            let variance = (centered * centered).mean(axes: axes, keepDims: true)
            return centered / sqrt(variance + 1e-5) * t[1].reshaped(to: [1, 2, 1, 1]) + t[2].reshaped(to: [1, 2, 1, 1])
        }
        let fused = batchNorm(leaves[0], runningMean: nil, runningVar: nil, weight: leaves[1], bias: leaves[2], training: true)
        expectClose(fused.detached(), composite(leaves).detached(), rtol: 1e-13, atol: 1e-13)
        let kernelPass = gradients(of: (fused * up).sum(), wrt: leaves)
        let recorded = gradients(of: (batchNorm(leaves[0], runningMean: nil, runningVar: nil, weight: leaves[1], bias: leaves[2],
                                                training: true) * up).sum(), wrt: leaves, createGraph: true)
        let reference = gradients(of: (composite(leaves) * up).sum(), wrt: leaves)
        for (p, q) in zip(kernelPass, reference) { expectClose(p, q, rtol: 1e-12, atol: 1e-12) }
        for (p, q) in zip(recorded, reference) { expectClose(p.detached(), q, rtol: 1e-12, atol: 1e-12) }
        // Large inputs split the channels over the pool's threads (all of them, by default): still the composite.
        let big = randn([4, 8, 48, 48], seed: 84).detached().requiringGrad(), bigUp = randn([4, 8, 48, 48], seed: 85)
        let gamma = randn([8], seed: 86)
        let bigFused = batchNorm(big, runningMean: nil, runningVar: nil, weight: gamma, bias: nil, training: true)
        let bigComposite: Tensor<Double> = {
            let centered = big - big.mean(axes: [0, 2, 3], keepDims: true)
            return centered / sqrt((centered * centered).mean(axes: [0, 2, 3], keepDims: true) + 1e-5) * gamma.reshaped(to: [1, 8, 1, 1])
        }()
        expectClose(bigFused.detached(), bigComposite.detached(), rtol: 1e-12, atol: 1e-12)
        expectClose(gradients(of: (bigFused * bigUp).sum(), wrt: [big])[0], gradients(of: (bigComposite * bigUp).sum(), wrt: [big])[0],
                    rtol: 1e-10, atol: 1e-10)
        expectGradcheck("batch_norm 1d training", [x2]) {
            projected(batchNorm($0[0], runningMean: nil, runningVar: nil, training: true), seed: 78)
        }
        expectGradcheck("layer_norm", [randn([2, 3, 4], seed: 79), randn([3, 4], seed: 80), randn([3, 4], seed: 81)]) {
            projected(layerNorm($0[0], normalizedShape: [3, 4], weight: $0[1], bias: $0[2]), seed: 82)
        }
    }

    @Test func workedExamples() {
        // The issue's 2x2 kernel [[1, 0], [0, -1]] on a 3x3 image: x[i, j] - x[i+1, j+1] + 0.5.
        let x = Tensor<Double>(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 10])
        let y = conv2d(x, weight: Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 0, -1]), bias: Tensor([0.5]))
        let expected: [Double] = [-3.5, -3.5, -3.5, -4.5]   // 1-5, 2-6, 4-8, 5-10, each + 0.5
        #expect(y.scalars == expected)
        #expect(maxPool2d(x, kernelSize: 2, stride: 1).scalars == [5, 6, 8, 10])
        #expect(avgPool2d(x, kernelSize: 2, stride: 1).scalars == [3, 4, 6, 7.25])
        #expect(flatten(y, startAxis: 1).shape == [1, 4])
        // "same" keeps the size; an even kernel pads one more after than before.
        #expect(conv2d(x, weight: .ones([1, 1, 2, 2]), padding: .same).scalars == [12, 16, 9, 24, 29, 16, 15, 18, 10])
    }

    @Test func maxPoolPropagatesNaNAndIgnoresPadding() {
        let x = Tensor<Double>(shape: [1, 1, 2, 3], scalars: [-5, .nan, -7, -2, -3, -9])
        let y = maxPool2d(x, kernelSize: 2, stride: 1)
        #expect(y.scalars[0].isNaN && y.scalars[1].isNaN)
        // Padding is -∞, never chosen, even when every real value is negative.
        let z = maxPool2d(Tensor<Double>(shape: [1, 1, 2, 2], scalars: [-5, -6, -7, -8]), kernelSize: 2, stride: 1, padding: 1)
        #expect(z.scalars == [-5, -5, -6, -5, -5, -6, -7, -7, -8])
    }

    @Test func shapeMistakesNameTheOp() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Float>.zeros([1, 3, 8, 8]), weight: Tensor<Float>.zeros([4, 2, 3, 3]))
        }
        #expect(convStderr(r).contains("conv2d: input [1, 3, 8, 8] has 3 channels, weight [4, 2, 3, 3] expects 2 (2 x 1 groups)"))
        let r2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = conv2d(Tensor<Float>.zeros([1, 1, 2, 2]), weight: Tensor<Float>.zeros([1, 1, 3, 3]))
        }
        #expect(convStderr(r2).contains("conv2d: kernel 3x3 (dilation (1, 1)) is larger than the padded input 2x2"))
    }

    @Test func pytorchFixtures() throws {
        let file = try PyTorchFixture.object("conv/ops.json")
        let cases = try #require(file["cases"] as? [[String: Any]])
        #expect(cases.count == 28)
        for (index, c) in cases.enumerated() {
            let op = try #require(c["op"] as? String)
            let args = try #require(c["args"] as? [String: Any])
            let inputsJSON = try #require(c["inputs"] as? [String: Any])
            let names = ["x", "weight", "bias"].filter { inputsJSON[$0] != nil }
            let inputs = try names.map { try PyTorchFixture.tensor(inputsJSON[$0]).requiringGrad() }
            let named = Dictionary(uniqueKeysWithValues: zip(names, inputs))
            var runningMean: Tensor<Double>?, runningVar: Tensor<Double>?
            let y: Tensor<Double>
            switch op {
            case "conv2d":
                y = conv2d(named["x"]!, weight: named["weight"]!, bias: named["bias"], stride: size2(args["stride"]),
                           padding: padding(args["padding"]), dilation: size2(args["dilation"]), groups: args["groups"] as! Int)
            case "conv1d":
                y = conv1d(named["x"]!, weight: named["weight"]!, bias: named["bias"], stride: args["stride"] as! Int,
                           padding: padding(args["padding"]), dilation: args["dilation"] as! Int, groups: args["groups"] as! Int)
            case "max_pool2d":
                y = maxPool2d(named["x"]!, kernelSize: size2(args["kernel_size"]), stride: args["stride"] is NSNull ? nil : size2(args["stride"]),
                              padding: size2(args["padding"]), dilation: size2(args["dilation"]))
            case "avg_pool2d":
                y = avgPool2d(named["x"]!, kernelSize: size2(args["kernel_size"]), stride: args["stride"] is NSNull ? nil : size2(args["stride"]),
                              padding: size2(args["padding"]))
            case "adaptive_avg_pool2d":
                y = adaptiveAvgPool2d(named["x"]!, outputSize: size2(args["output_size"]))
            case "batch_norm":
                runningMean = try PyTorchFixture.tensor(args["running_mean"])
                runningVar = try PyTorchFixture.tensor(args["running_var"])
                y = batchNorm(named["x"]!, runningMean: runningMean, runningVar: runningVar, weight: named["weight"], bias: named["bias"],
                              training: args["training"] as! Bool, momentum: args["momentum"] as! Double, eps: args["eps"] as! Double)
            case "layer_norm":
                y = layerNorm(named["x"]!, normalizedShape: args["normalized_shape"] as! [Int], weight: named["weight"], bias: named["bias"],
                              eps: args["eps"] as! Double)
            default:
                Issue.record("unknown op \(op)")
                continue
            }
            let what = "case \(index) \(op) \(args.filter { !$0.key.hasPrefix("running") })"
            expectClose(y, try PyTorchFixture.tensor(c["output"]), "\(what) output")
            let cotangent = try PyTorchFixture.tensor(c["cotangent"])
            let grads = gradients(of: (y * cotangent).sum(), wrt: inputs)
            let expectedGrads = try #require(c["grads"] as? [String: Any])
            for (name, g) in zip(names, grads) {
                expectClose(g, try PyTorchFixture.tensor(expectedGrads[name]), "\(what) d\(name)")
            }
            if let runningMean, let runningVar {
                expectClose(runningMean, try PyTorchFixture.tensor(c["running_mean_after"]), "\(what) running_mean")
                expectClose(runningVar, try PyTorchFixture.tensor(c["running_var_after"]), "\(what) running_var")
            }
        }
    }

    @Test func floatMatchesDoubleOnEveryKernelPath() {
        // The forward pass and both gradients in Float against Double, big enough for threads and packed GEMM.
        let x = randn([4, 6, 13, 11], seed: 90), w = randn([8, 3, 3, 3], seed: 91), b = randn([8], seed: 92)
        let cot = randn([4, 8, 7, 7], seed: 93)
        let (xf, wf, bf) = (Tensor<Float>(x).requiringGrad(), Tensor<Float>(w).requiringGrad(), Tensor<Float>(b).requiringGrad())
        let (xd, wd, bd) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
        for threads in [1, 2] {
            let saved = Parallelism.threadCount
            Parallelism.threadCount = threads
            defer { Parallelism.threadCount = saved }
            let yf = conv2d(xf, weight: wf, bias: bf, stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2)
            let yd = conv2d(xd, weight: wd, bias: bd, stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2)
            #expect(Tensor<Double>(yf).isClose(to: yd, rtol: 1e-4, atol: 1e-4))
            let gf = gradients(of: (yf * Tensor<Float>(cot)).sum(), wrt: [xf, wf, bf])
            let gd = gradients(of: (yd * cot).sum(), wrt: [xd, wd, bd])
            for (a, e) in zip(gf, gd) { #expect(Tensor<Double>(a).isClose(to: e, rtol: 1e-4, atol: 1e-3)) }
        }
    }

    func size2(_ v: Any?) -> Size2 {
        if let n = v as? Int { return Size2(n) }
        let a = v as! [Int]
        return Size2(a[0], a[1])
    }

    func padding(_ v: Any?) -> ConvolutionPadding {
        if let s = v as? String { return s == "same" ? .same : .valid }
        return .explicit(size2(v))
    }
}

private func convStderr(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

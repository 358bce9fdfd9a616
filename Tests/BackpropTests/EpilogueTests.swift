import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN

/// The GEMM with a bias and a ReLU in the kernel's store, and the fused
/// Linear + ReLU node built on it: the same numbers as the unfused sequence
/// (bias copied into C, product accumulated onto it, then the ReLU kernel),
/// bit for bit, on every kernel path, with and without packing and threads.
@Suite("GEMM epilogue and the fused Linear + ReLU")
struct EpilogueTests {
    /// Direct loops allowed, packed on one thread, packed on two threads even when small.
    static let variants: [(threads: Int, flags: Int32)] = [
        (1, 0), (1, GEMM.forcePacked), (2, GEMM.forcePacked | GEMM.forceThreads),
    ]

    /// Shapes (m, n, k) across tile edges (6 x 16, 14 x 32, 4 x 8), the packing
    /// depth (k = 300 and 600: two and three blocks), the small-product threshold,
    /// and both threading splits (tall and wide C).
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 32, 3), (3, 7, 5), (2, 2, 0), (6, 16, 16), (7, 17, 9), (14, 32, 20), (15, 33, 300),
        (29, 10, 47), (128, 10, 33), (5, 70, 600), (61, 37, 257), (40, 130, 31),
    ]

    /// The epilogue against the unfused sequence on the same path and variant
    /// (`plain`: the GEMM without epilogue, beta 1), for one scalar type, with
    /// and without a bias, with no ReLU, ReLU and scaled ReLU.
    func checkAgainstUnfused<T: TensorScalar>(_: T.Type,
                                             plain: (Int, Int, Int, UnsafePointer<T>, Int, UnsafePointer<T>, Int,
                                                     UnsafeMutablePointer<T>, Int, KernelPath, Int, Int32) -> Void,
                                             gemm: (Int, Int, Int, UnsafePointer<T>, Int, UnsafePointer<T>, Int,
                                                    T, UnsafeMutablePointer<T>, Int, UnsafePointer<T>?, T?,
                                                    KernelPath, Int, Int32) -> Void) -> String? {
        var rng = SeededGenerator(seed: 7)
        func values(_ n: Int) -> [T] { (0..<n).map { _ in T(Float(rng.next() >> 40) / Float(1 << 24) - 0.5) } }
        for (m, n, k) in Self.shapes {
            // x [m, k] with row stride k + 1, W [n, k] read transposed (a Linear layer's product).
            let (lda, ldb, ldc) = (k + 1, k + 2, n + 3)
            let a = values(max(1, m * lda)), b = values(max(1, n * ldb)), bias = values(n)
            for withBias in [true, false] {
                for relu: T? in [nil, 1, 3] {
                    for path in KernelPath.supported {
                        for v in Self.variants {
                            // Unfused: C = bias (or 0), C += x Wᵀ, then relu(_:scale:)'s kernel.
                            var want = [T](repeating: -7, count: m * ldc)
                            for i in 0..<m { for j in 0..<n { want[i * ldc + j] = withBias ? bias[j] : 0 } }
                            want.withUnsafeMutableBufferPointer { plain(m, n, k, a, lda, b, ldb, $0.baseAddress!, ldc, path, v.threads, v.flags) }
                            if let s = relu {
                                for i in 0..<m { for j in 0..<n { let x = want[i * ldc + j]; want[i * ldc + j] = x < 0 ? 0 : s * x } }
                            }
                            var c = [T](repeating: -7, count: m * ldc)
                            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } }   // beta = 0: never read
                            c.withUnsafeMutableBufferPointer { pc in
                                bias.withUnsafeBufferPointer { pbias in
                                    gemm(m, n, k, a, lda, b, ldb, 0, pc.baseAddress!, ldc,
                                         withBias ? pbias.baseAddress! : nil, relu, path, v.threads, v.flags)
                                }
                            }
                            for i in 0..<(m * ldc) where !(c[i] == want[i]) {
                                return "\(T.self) m=\(m) n=\(n) k=\(k) bias=\(withBias) relu=\(String(describing: relu)) "
                                    + "path=\(path.name) threads=\(v.threads) flags=\(v.flags): "
                                    + "C[\(i / ldc),\(i % ldc)] = \(c[i]), unfused \(want[i])"
                            }
                        }
                    }
                }
            }
        }
        return nil
    }

    @Test("sgemm with the epilogue equals bias, product, ReLU one after another")
    func sgemmEpilogue() {
        let failure = checkAgainstUnfused(Float.self, plain: { m, n, k, a, lda, b, ldb, c, ldc, path, threads, flags in
            GEMM.sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                       beta: 1, c: c, ldc: ldc, path: path, threads: threads, flags: flags)
        }) { m, n, k, a, lda, b, ldb, beta, c, ldc, bias, relu, path, threads, flags in
            GEMM.sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc, bias: bias, reluScale: relu, path: path, threads: threads, flags: flags)
        }
        #expect(failure == nil, "\(failure ?? "")")
    }

    @Test("dgemm with the epilogue equals bias, product, ReLU one after another")
    func dgemmEpilogue() {
        let failure = checkAgainstUnfused(Double.self, plain: { m, n, k, a, lda, b, ldb, c, ldc, path, threads, flags in
            GEMM.dgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                       beta: 1, c: c, ldc: ldc, path: path, threads: threads, flags: flags)
        }) { m, n, k, a, lda, b, ldb, beta, c, ldc, bias, relu, path, threads, flags in
            GEMM.dgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc, bias: bias, reluScale: relu, path: path, threads: threads, flags: flags)
        }
        #expect(failure == nil, "\(failure ?? "")")
    }

    @Test("The ReLU in the store passes NaN through as the ReLU kernel does")
    func specialValues() {
        // x = [1], W = [[nan], [0.5], [-1], [2]] with no bias: x Wᵀ = [nan, 0.5, -1, 2].
        let w: [Float] = [.nan, 0.5, -1, 2]
        for path in KernelPath.supported {
            for v in Self.variants {
                var c = [Float](repeating: 5, count: 4)
                GEMM.sgemm(transA: false, transB: true, m: 1, n: 4, k: 1, alpha: 1, a: [1], lda: 1, b: w, ldb: 1,
                           beta: 0, c: &c, ldc: 4, bias: nil, reluScale: 3, path: path, threads: v.threads, flags: v.flags)
                let unfused = relu(Tensor<Float>([.nan, 0.5, -1, 2]), scale: 3).scalars
                #expect(c[0].isNaN && unfused[0].isNaN, "path \(path.name) flags \(v.flags)")
                #expect(Array(c[1...]) == [1.5, 0, 6] && Array(unfused[1...]) == [1.5, 0, 6], "path \(path.name) flags \(v.flags)")
            }
        }
    }

    @Test("affineReLU: the values and gradients of affine then relu, float and double")
    func fusedEqualsUnfused() {
        func check<T: TensorScalar>(_: T.Type, batch: Int?, inputs: Int, outputs: Int, bias: Bool, scale: T, seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            let x = Tensor<T>.randomNormal(batch.map { [$0, inputs] } ?? [inputs], generator: &rng).requiringGrad()
            let w = Tensor<T>.randomNormal([outputs, inputs], generator: &rng).requiringGrad()
            let b = bias ? Tensor<T>.randomNormal([outputs], generator: &rng).requiringGrad() : nil
            let upstream = Tensor<T>.randomNormal(batch.map { [$0, outputs] } ?? [outputs], generator: &rng)
            let leaves = [x, w] + (b.map { [$0] } ?? [])
            let fused = Tensor.affineReLU(x, weight: w, bias: b, scale: scale)
            let unfused = relu(Tensor.affine(x, weight: w, bias: b), scale: scale)
            #expect(fused.gradFunctionName == "linear_relu")
            #expect(fused.shape == unfused.shape && fused.scalars == unfused.scalars,
                    "\(T.self) batch \(String(describing: batch)) \(inputs) -> \(outputs): forward differs")
            let gFused = gradients(of: (fused * upstream).sum(), wrt: leaves)
            let gUnfused = gradients(of: (unfused * upstream).sum(), wrt: leaves)
            for (name, (p, q)) in zip(["x", "W", "b"], zip(gFused, gUnfused)) {
                // dx and dW are the same products of the same masked gradient; db
                // adds the rows in the same order (a reduction of one column differs).
                let same = p.scalars == q.scalars || (outputs == 1 && p.isClose(to: q, rtol: T(1e-5), atol: T(1e-6)))
                #expect(p.shape == q.shape && same, "\(T.self) batch \(String(describing: batch)) \(inputs) -> \(outputs): d\(name) differs")
            }
        }
        for (batch, inputs, outputs) in [(Int?.some(1), 3, 32), (5, 7, 11), (nil, 4, 6), (64, 33, 1), (37, 300, 45), (128, 64, 50)] {
            for bias in [true, false] {
                check(Float.self, batch: batch, inputs: inputs, outputs: outputs, bias: bias, scale: 1, seed: 3)
                check(Double.self, batch: batch, inputs: inputs, outputs: outputs, bias: bias, scale: 3, seed: 4)
            }
        }
    }

    @Test("affineReLU passes gradcheck in Double, also differentiated twice")
    func gradcheckFused() {
        let x = randn([5, 3], seed: 221), w = randn([4, 3], seed: 222), b = randn([4], seed: 223)
        expectGradcheck("affineReLU", [x, w, b]) { Tensor.affineReLU($0[0], weight: $0[1], bias: $0[2]) }
        expectGradcheck("affineReLU scaled", [x, w, b]) { Tensor.affineReLU($0[0], weight: $0[1], bias: $0[2], scale: 3) }
        expectGradcheck("affineReLU without bias", [x, w]) { Tensor.affineReLU($0[0], weight: $0[1], bias: nil) }
        expectGradcheck("affineReLU of a vector", [randn([3], seed: 224), w, b]) {
            Tensor.affineReLU($0[0], weight: $0[1], bias: $0[2], scale: 2)
        }
        // The backward pass recorded with createGraph (Tensor ops) differentiates again
        // and agrees with the kernel's pass.
        expectGradcheck("affineReLU, second order", [x, w, b]) { t in
            enableGrad {
                let xv = t[0].requiresGrad ? t[0] : t[0].detached().requiringGrad()
                let y = tanh(Tensor.affineReLU(xv, weight: t[1], bias: t[2], scale: 2)).sum()
                return gradients(of: y, wrt: [xv], createGraph: true)[0]
            }
        }
        let leaves = [x, w, b].map { $0.detached().requiringGrad() }
        let up = randn([5, 4], seed: 225)
        let kernelPass = gradients(of: (Tensor.affineReLU(leaves[0], weight: leaves[1], bias: leaves[2]) * up).sum(), wrt: leaves)
        let recorded = gradients(of: (Tensor.affineReLU(leaves[0], weight: leaves[1], bias: leaves[2]) * up).sum(),
                                 wrt: leaves, createGraph: true)
        for (p, q) in zip(kernelPass, recorded) { expectClose(p, q.detached(), rtol: 1e-14, atol: 1e-15) }
    }

    @Test("Sequential runs Linear + ReLU as one node with the layers' values and gradients, on two threads too")
    func sequentialFuses() {
        for threads in [1, 2] {
            let saved = Parallelism.threadCount
            Parallelism.threadCount = threads
            defer { Parallelism.threadCount = saved }
            var rng = SeededGenerator(seed: 5)
            // Large enough for the threaded packed path (m·n·k >= 136³) in the first layer.
            let model = Sequential<Float>(Linear(200, 130, generator: &rng), ReLU(), Linear(130, 17, generator: &rng),
                                          ReLU(scale: 3), Linear(17, 5, generator: &rng), ReLU(scale: 0.5))
            let x = Tensor<Float>.randomNormal([120, 200], generator: &rng)
            let y = model(x)
            // The scale-0.5 ReLU stays a layer of its own (its mask could not be read from its output).
            #expect(y.gradFunctionName == "relu" && y.graphInputs.first?.gradFunctionName == "linear")
            #expect(y.graphInputs.first?.graphInputs.first?.gradFunctionName == "linear_relu")
            // The same layers one by one (no fusion).
            var h = x
            for i in 0..<model.count { h = model[i](h) }
            #expect(y.scalars == h.scalars, "threads \(threads): forward differs")
            let params = model.parameters()
            let fusedGrads = gradients(of: y.squared().sum(), wrt: params)
            let layerGrads = gradients(of: h.squared().sum(), wrt: params)
            for (i, (p, q)) in zip(fusedGrads, layerGrads).enumerated() {
                #expect(p.scalars == q.scalars, "threads \(threads): gradient of parameter \(i) differs")
            }
        }
    }
}

import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Row-major storage of op(X) (rows x cols) with a row stride >= its stored width.
private struct Stored<T: BinaryFloatingPoint> {
    var data: [T]
    var ld: Int
}

private func makeStored<T: BinaryFloatingPoint>(
    rows: Int, cols: Int, trans: Bool, pad: Int, rng: inout SeededGenerator
) -> Stored<T> {
    // Stored as (trans ? cols x rows : rows x cols).
    let storedRows = trans ? cols : rows
    let storedCols = trans ? rows : cols
    let ld = storedCols + pad
    var data = [T](repeating: .nan, count: max(1, storedRows * ld))  // padding is NaN: must never be read
    for r in 0..<storedRows {
        for c in 0..<storedCols { data[r * ld + c] = T(Float(rng.next() >> 40) / Float(1 << 24) - 0.5) }
    }
    return Stored(data: data, ld: max(1, ld))
}

private func element<T>(_ s: Stored<T>, _ i: Int, _ j: Int, trans: Bool) -> T {
    trans ? s.data[j * s.ld + i] : s.data[i * s.ld + j]
}

private struct Case: CustomStringConvertible {
    var m, n, k: Int
    var transA, transB: Bool
    var padA, padB, padC: Int
    var alpha, beta: Double
    var nanC: Bool
    var description: String {
        "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) pads=\(padA),\(padB),\(padC) alpha=\(alpha) beta=\(beta) nanC=\(nanC)"
    }
}

/// The ways each case is run: (direct loops allowed, 1 thread), (packed, 1 thread),
/// (packed, 2 threads even when small).
private let variants: [(threads: Int, flags: Int32)] = [
    (1, 0), (1, GEMM.forcePacked), (2, GEMM.forcePacked | GEMM.forceThreads),
]

private typealias GemmCall<T> = (Bool, Bool, Int, Int, Int, T, UnsafePointer<T>, Int, UnsafePointer<T>, Int, T,
                                 UnsafeMutablePointer<T>, Int, KernelPath, Int, Int32) -> Void

/// Runs one case with float or double on each path and variant, against a
/// naive triple loop in Double (computed once). Returns a failure message or nil.
private func check<T: BinaryFloatingPoint>(
    _ type: T.Type, _ cs: Case, paths: [KernelPath], variants: [(threads: Int, flags: Int32)],
    rng: inout SeededGenerator, gemm: GemmCall<T>
) -> String? {
    let a: Stored<T> = makeStored(rows: cs.m, cols: cs.k, trans: cs.transA, pad: cs.padA, rng: &rng)
    let b: Stored<T> = makeStored(rows: cs.k, cols: cs.n, trans: cs.transB, pad: cs.padB, rng: &rng)
    let ldc = cs.n + cs.padC
    var c0 = [T](repeating: -7, count: max(1, cs.m * ldc))
    for i in 0..<cs.m {
        for j in 0..<cs.n {
            c0[i * ldc + j] = cs.nanC ? .nan : T(Float(rng.next() >> 40) / Float(1 << 24) - 0.5)
        }
    }
    // Reference and error bound.
    let eps = Double(T.ulpOfOne)
    var want = [Double](repeating: 0, count: cs.m * cs.n)
    var tol = [Double](repeating: 0, count: cs.m * cs.n)
    for i in 0..<cs.m {
        for j in 0..<cs.n {
            var sum = 0.0, mag = 0.0
            for p in 0..<cs.k {
                let x = Double(element(a, i, p, trans: cs.transA)) * Double(element(b, p, j, trans: cs.transB))
                sum += x
                mag += abs(x)
            }
            let old = cs.beta == 0 ? 0 : Double(c0[i * ldc + j])
            want[i * cs.n + j] = cs.alpha * sum + cs.beta * old
            tol[i * cs.n + j] = 4 * eps * (Double(cs.k) + 2) * (abs(cs.alpha) * mag + abs(cs.beta * old) + 1e-30)
        }
    }
    for path in paths {
        for v in variants {
            var c = c0
            a.data.withUnsafeBufferPointer { pa in
                b.data.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        gemm(cs.transA, cs.transB, cs.m, cs.n, cs.k, T(cs.alpha), pa.baseAddress!, a.ld,
                             pb.baseAddress!, b.ld, T(cs.beta), pc.baseAddress!, max(1, ldc), path, v.threads, v.flags)
                    }
                }
            }
            let where_ = "\(cs) path=\(path.name) threads=\(v.threads) flags=\(v.flags)"
            for i in 0..<cs.m {
                for j in 0..<ldc {
                    let got = Double(c[i * ldc + j])
                    if j >= cs.n {  // padding of C untouched
                        if got != -7 { return "\(where_): C padding written at \(i),\(j)" }
                        continue
                    }
                    if !(abs(got - want[i * cs.n + j]) <= tol[i * cs.n + j]) {
                        return "\(where_): C[\(i),\(j)] = \(got), want \(want[i * cs.n + j])"
                    }
                }
            }
        }
    }
    return nil
}

private func sgemmCall(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                       _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                       _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                       _ path: KernelPath, _ threads: Int, _ flags: Int32) {
    GEMM.sgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
               beta: beta, c: c, ldc: ldc, path: path, threads: threads, flags: flags)
}

private func dgemmCall(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
                       _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                       _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int,
                       _ path: KernelPath, _ threads: Int, _ flags: Int32) {
    GEMM.dgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
               beta: beta, c: c, ldc: ldc, path: path, threads: threads, flags: flags)
}

/// Shapes: zeros, ones, primes, tile edges (4, 6, 8, 14, 16, 32), and sizes
/// that cross the packing blocks (kc = 256, mc = 64..336) and the small-product
/// and threading thresholds.
private func cases(seed: UInt64) -> [Case] {
    var rng = SeededGenerator(seed: seed)
    var out: [Case] = []
    let fixed: [(Int, Int, Int)] = [
        (0, 0, 0), (0, 5, 3), (5, 0, 3), (4, 5, 0), (1, 1, 1), (1, 3, 32), (1, 32, 3), (3, 1, 1),
        (2, 3, 5), (7, 11, 13), (14, 32, 9), (15, 33, 17), (13, 31, 257), (28, 64, 1), (6, 16, 16),
        (29, 47, 31), (1, 97, 300), (97, 1, 300), (33, 70, 259), (170, 41, 20), (337, 9, 5),
        (100, 150, 40), (40, 290, 33), (5, 4200, 3),
    ]
    let betas: [Double] = [0, 1, 0.5, -1.25]
    for (idx, s) in fixed.enumerated() {
        for tA in [false, true] {
            for tB in [false, true] {
                let beta = betas[(idx + (tA ? 1 : 0) + (tB ? 2 : 0)) % betas.count]
                out.append(Case(m: s.0, n: s.1, k: s.2, transA: tA, transB: tB,
                                padA: Int(rng.next() % 3), padB: Int(rng.next() % 3), padC: Int(rng.next() % 3),
                                alpha: idx % 5 == 4 ? -0.75 : 1, beta: beta, nanC: beta == 0 && idx % 2 == 0))
            }
        }
    }
    for _ in 0..<24 {
        let m = Int(rng.next() % 70), n = Int(rng.next() % 90), k = Int(rng.next() % 70)
        out.append(Case(m: m, n: n, k: k, transA: rng.next() & 1 == 0, transB: rng.next() & 1 == 0,
                        padA: Int(rng.next() % 5), padB: Int(rng.next() % 5), padC: Int(rng.next() % 5),
                        alpha: [1, 2, -0.5][Int(rng.next() % 3)], beta: betas[Int(rng.next() % 4)],
                        nanC: rng.next() & 1 == 0))
        if out[out.count - 1].beta != 0 { out[out.count - 1].nanC = false }
    }
    // alpha == 0: C = beta * C, A and B unread.
    out.append(Case(m: 9, n: 10, k: 11, transA: false, transB: true, padA: 1, padB: 0, padC: 2,
                    alpha: 0, beta: 0.5, nanC: false))
    out.append(Case(m: 9, n: 10, k: 11, transA: true, transB: false, padA: 0, padB: 1, padC: 0,
                    alpha: 0, beta: 0, nanC: true))
    return out
}

@Suite("GEMM")
struct GEMMTests {
    @Test("sgemm matches a naive product on every kernel path")
    func sgemmPaths() {
        var rng = SeededGenerator(seed: 11)
        for cs in cases(seed: 1) {
            if let failure = check(Float.self, cs, paths: KernelPath.supported, variants: variants,
                                   rng: &rng, gemm: sgemmCall) {
                Issue.record(Comment(rawValue: failure))
                return
            }
        }
    }

    @Test("dgemm matches a naive product on every kernel path")
    func dgemmPaths() {
        var rng = SeededGenerator(seed: 21)
        for cs in cases(seed: 2) {
            if let failure = check(Double.self, cs, paths: KernelPath.supported, variants: variants,
                                   rng: &rng, gemm: dgemmCall) {
                Issue.record(Comment(rawValue: failure))
                return
            }
        }
    }

    @Test("The public entry points use the current path and thread count")
    func publicEntryPoints() {
        // 3 x 2 times 2 x 2, then C^T-style use with transposes.
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [1, 0, 0, 1]
        var c = [Float](repeating: .nan, count: 6)
        GEMM.sgemm(transA: false, transB: false, m: 3, n: 2, k: 2, alpha: 1, a: a, lda: 2, b: b, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        #expect(c == a)
        var d = [Double](repeating: 1, count: 4)
        let ad: [Double] = [1, 2, 3, 4, 5, 6]
        // A^T A for A 3 x 2: [[35, 44], [44, 56]], plus beta * 1.
        GEMM.dgemm(transA: true, transB: false, m: 2, n: 2, k: 3, alpha: 1, a: ad, lda: 2, b: ad, ldb: 2,
                   beta: 2, c: &d, ldc: 2)
        #expect(d == [37, 46, 46, 58])
        #expect(!kernelDescription.isEmpty)
        #expect(KernelPath.supported.contains(KernelPath.current))
    }

    @Test("The process-wide path can be forced, and the measuring hook runs")
    func forcedPathAndMeasure() {
        let before = KernelPath.current
        KernelPath.current = .generic
        #expect(KernelPath.current == .generic)
        // 4 x 8 portable C; 8 x 12 NEON on arm64.
        #if arch(arm64)
        #expect(kernelDescription == "generic 8x12")
        #else
        #expect(kernelDescription == "generic 4x8")
        #endif
        var c: [Float] = [.nan, .nan]
        GEMM.sgemm(transA: false, transB: true, m: 1, n: 2, k: 3, alpha: 2, a: [1, 2, 3], lda: 3,
                   b: [1, 1, 1, 0, 1, 0], ldb: 3, beta: 0, c: &c, ldc: 2)
        #expect(c == [12, 4])
        KernelPath.resetToDefault()
        #expect(KernelPath.current == before)
        #expect(measureSGEMM(size: 20, threads: 1, repetitions: 1) > 0)
    }

    @Test("Products large enough to be blocked and threaded")
    func largerProducts() {
        var rng = SeededGenerator(seed: 99)
        let best = KernelPath.supported[0]
        let shapes: [Case] = [
            Case(m: 340, n: 24, k: 260, transA: false, transB: false, padA: 3, padB: 0, padC: 1,
                 alpha: 1, beta: 0, nanC: true),
            Case(m: 30, n: 300, k: 270, transA: true, transB: true, padA: 0, padB: 2, padC: 0,
                 alpha: 0.5, beta: 1, nanC: false),
            // Columns split (n >= m, >= 256 per thread): each thread packs its own B and all of A.
            Case(m: 120, n: 1030, k: 9, transA: false, transB: false, padA: 0, padB: 5, padC: 0,
                 alpha: 1, beta: 0.5, nanC: false),
            Case(m: 180, n: 520, k: 270, transA: true, transB: false, padA: 1, padB: 0, padC: 2,
                 alpha: 1, beta: 0, nanC: true),
            // Rows split across threads while n crosses the nc block (1024 float, 512 double).
            Case(m: 1100, n: 1030, k: 9, transA: false, transB: true, padA: 2, padB: 0, padC: 1,
                 alpha: -0.5, beta: 1, nanC: false),
            Case(m: 20, n: 4200, k: 20, transA: false, transB: true, padA: 1, padB: 1, padC: 3,
                 alpha: 1, beta: -1, nanC: false),
        ]
        for cs in shapes {
            let v: [(threads: Int, flags: Int32)] = [(2, GEMM.forceThreads)]
            #expect(check(Float.self, cs, paths: [best], variants: v, rng: &rng, gemm: sgemmCall) == nil)
            #expect(check(Double.self, cs, paths: [best], variants: v, rng: &rng, gemm: dgemmCall) == nil)
        }
    }

    @Test("Packing edges, k tails and thread splits on every path")
    func packingAndSplitsOnEveryPath() {
        // Float on the AVX2 path packs with 8 x 8 register transposes: k not a
        // multiple of 8 (tails loaded masked), 6-row panels of A that are
        // full and partial, 16-column panels of op(B) with fewer than 8 and
        // between 8 and 16 real columns; k deeper than one kc block (two
        // blocks of 152 for k = 300). m = 128 splits rows into 22 one-panel
        // chunks on two threads; n >= 512 splits columns.
        var rng = SeededGenerator(seed: 123)
        let shapes: [(Int, Int, Int)] = [(6, 16, 8), (12, 5, 13), (7, 11, 300), (128, 40, 30), (19, 21, 263),
                                         (30, 520, 7), (128, 26, 9)]
        let v: [(threads: Int, flags: Int32)] = [(1, GEMM.forcePacked), (2, GEMM.forcePacked | GEMM.forceThreads)]
        for (idx, s) in shapes.enumerated() {
            for tA in [false, true] {
                for tB in [false, true] {
                    let cs = Case(m: s.0, n: s.1, k: s.2, transA: tA, transB: tB,
                                  padA: idx % 3, padB: (idx + 1) % 3, padC: idx % 2,
                                  alpha: idx % 2 == 0 ? 1 : -0.5, beta: [0, 1, 0.25][idx % 3], nanC: idx % 3 == 0)
                    if let failure = check(Float.self, cs, paths: KernelPath.supported, variants: v, rng: &rng,
                                           gemm: sgemmCall) {
                        Issue.record(Comment(rawValue: failure))
                        return
                    }
                }
            }
        }
    }
}

/// SplitMix64, for reproducible test inputs.

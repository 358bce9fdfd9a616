import CBackpropKernels

/// Measures single-precision matrix multiply speed: C = A * B with square
/// n x n random matrices on up to `threads` threads (`Parallelism.threadCount`
/// is left as it is). Returns GFLOP/s (2 n^3 flops per product), the median of
/// `repetitions` timed runs (by default about 0.3 s of work, 5 to 200 runs)
/// after two warm-up runs.
public func measureSGEMM(size n: Int, threads: Int, repetitions: Int? = nil) -> Double {
    precondition(n > 0 && threads > 0)
    let count = n * n
    let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    var rng = SeededGenerator(seed: 0x5EED)
    for i in 0..<count {
        a[i] = Float(rng.nextUnit()) - 0.5
        b[i] = Float(rng.nextUnit()) - 0.5
        c[i] = 0
    }
    let flops = 2.0 * Double(n) * Double(n) * Double(n)
    // About 0.3 s of timed work by default, between 5 and 200 runs.
    let reps = repetitions ?? max(5, min(200, Int(0.3 * 150e9 / flops)))
    let run = {
        GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n,
                   b: b, ldb: n, beta: 0, c: c, ldc: n, path: nil, threads: threads)
    }
    run()
    run()
    var times: [Double] = []
    times.reserveCapacity(reps)
    for _ in 0..<reps {
        let t0 = bp_now_ns()
        run()
        let t1 = bp_now_ns()
        times.append(Double(t1 &- t0) * 1e-9)
    }
    times.sort()
    let median = reps % 2 == 1 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2])
    return flops / median / 1e9
}

import Backprop
import Foundation

/// What `backprop bench` measures and prints: the training workloads and
/// sgemm throughput, as text or as JSON lines.
///
/// ```swift
/// let bench = Benchmark(threads: 2, workloads: [.tiny], sgemmSizes: [512])
/// bench.run { print($0) }
/// ```
public struct Benchmark: Sendable {
    /// Threads the kernels may use during the run (restored afterwards).
    public var threads: Int
    /// The training workloads to time, in order.
    public var workloads: [TrainingWorkload]
    /// Sizes n of the n x n x n float32 matrix products to measure, in GFLOP/s.
    public var sgemmSizes: [Int]
    /// Timing budget per workload.
    public var secondsPerWorkload: Double
    /// `true` for one JSON object per line instead of the text table.
    public var json: Bool

    /// A benchmark; the defaults measure every workload and sgemm at n = 256...2048 on all threads.
    ///
    /// ```swift
    /// let quick = Benchmark(threads: 1, workloads: [.tiny], sgemmSizes: [], secondsPerWorkload: 0.5, json: true)
    /// quick.run { print($0) }   // {"workload": "tiny", "threads": 1, ...}
    /// ```
    public init(threads: Int = Parallelism.threadCount, workloads: [TrainingWorkload] = TrainingWorkload.allCases,
                sgemmSizes: [Int] = [256, 512, 1024, 2048], secondsPerWorkload: Double = 2, json: Bool = false) {
        self.threads = threads
        self.workloads = workloads
        self.sgemmSizes = sgemmSizes
        self.secondsPerWorkload = secondsPerWorkload
        self.json = json
    }

    /// Runs every measurement, handing each output line to `emit` as soon as it is known.
    public func run(_ emit: (String) -> Void) {
        let previous = Parallelism.threadCount
        Parallelism.threadCount = threads
        defer { Parallelism.threadCount = previous }
        if json {
            emit(JSON.object([("kernel", .string(kernelDescription)), ("threads", .number(Double(threads)))]).text(.line))
        } else {
            emit("backprop bench: \(threads) thread\(threads == 1 ? "" : "s"), GEMM kernel \(kernelDescription), float32, SGD lr 0.01")
            emit("")
            emit("workload  network                     batch  median µs/step  steps")
        }
        for w in workloads {
            let r = w.measure(minimumSeconds: secondsPerWorkload)
            if json {
                emit(JSON.object([("workload", .string(w.rawValue)), ("threads", .number(Double(threads))),
                                  ("median_us_per_step", .number(rounded(r.medianMicrosecondsPerStep, places: 2))),
                                  ("steps", .number(Double(r.steps)))]).text(.line))
            } else {
                let net = w.networkDescription
                emit(pad(w.rawValue, 10) + pad(net, 28) + pad(String(w.batchSize), 7)
                     + pad(String(format: "%.1f", r.medianMicrosecondsPerStep), 16) + String(r.steps))
            }
        }
        if !json && !sgemmSizes.isEmpty { emit(""); emit("sgemm     n      GFLOP/s") }
        for n in sgemmSizes {
            let g = measureSGEMM(size: n, threads: threads)
            if json {
                emit(JSON.object([("sgemm", .number(Double(n))), ("threads", .number(Double(threads))),
                                  ("gflops", .number(rounded(g, places: 1)))]).text(.line))
            } else {
                emit("          " + pad(String(n), 7) + String(format: "%.1f", g))
            }
        }
    }

    /// `v` rounded to `places` decimals, as the text report shows it.
    private func rounded(_ v: Double, places: Int) -> Double {
        let scale = pow(10.0, Double(places))
        return (v * scale).rounded() / scale
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: Swift.max(1, width - s.count))
    }
}

import ArgumentParser
import Backprop
import BackpropBenchmarks
import Foundation

/// `backprop bench`: training-step and sgemm speed, for comparison with
/// `benchmarks/compare.py` (PyTorch, JAX, numpy).
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training steps (tiny, tiny-ops, mnist, wide, cnn) and sgemm GFLOP/s. Needs the release build.",
        discussion: "Run it as: swift run -c release backprop bench [--threads N] [--workload NAME] [--json]"
    )

    @Option(help: "Threads for GEMM and large kernels (default: all available).")
    var threads: Int?

    @Option(help: "Only this workload: tiny, tiny-ops, mnist, wide or cnn.")
    var workload: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: "Seconds of timing per workload.")
    var seconds: Double = 2

    @Option(help: "Comma-separated sgemm sizes; 'none' to skip.")
    var sgemm: String = "256,512,1024,2048"

    @Option(help: "Under mpirun: time the all-reduce of this many floats (comma-separated), nothing else.")
    var allreduce: String?

    @Flag(help: .hidden)
    var allowDebug = false

    public init() {}

    /// Checks the options, then runs the ``Benchmark`` and prints each line as soon as it is measured.
    /// Refuses a debug build (its timings mean nothing) unless the hidden `--allow-debug` flag is set.
    public func run() throws {
        if _isDebugAssertConfiguration() && !allowDebug {
            throw CLIError("bench: this is a debug build, whose numbers mean nothing; run `swift run -c release backprop bench`")
        }
        if let allreduce { return try runAllReduce(allreduce) }
        let workloads: [TrainingWorkload]
        if let workload {
            guard let w = TrainingWorkload(rawValue: workload) else {
                throw CLIError("bench: unknown workload \(DataError.quote(workload)) (expected one of: \(TrainingWorkload.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            workloads = [w]
        } else {
            workloads = TrainingWorkload.allCases
        }
        if let threads, threads < 1 { throw CLIError("bench: --threads must be at least 1, got \(threads)") }
        guard seconds > 0 else { throw CLIError("bench: --seconds must be positive, got \(seconds)") }
        var sizes: [Int] = []
        if sgemm != "none" {
            for part in sgemm.split(separator: ",") {
                guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n > 0 else {
                    throw CLIError("bench: --sgemm: \(DataError.quote(part)) is not a positive size")
                }
                // A, B and C of n x n floats, checked before the benchmark allocates them.
                if let problem = MemoryBudget.refusal(bytes: MemoryBudget.sum(Array(repeating: MemoryBudget.bytes([n, n], elementSize: 4), count: 3))) {
                    throw CLIError("bench: --sgemm \(n): the three matrices \(problem)")
                }
                sizes.append(n)
            }
        }
        let bench = Benchmark(threads: threads ?? Parallelism.threadCount, workloads: workloads, sgemmSizes: sizes,
                              secondsPerWorkload: seconds, json: json)
        bench.run { line in
            // Unbuffered, so that progress shows while the next measurement runs.
            writeUnbuffered(line + "\n", to: STDOUT_FILENO)
        }
    }
}

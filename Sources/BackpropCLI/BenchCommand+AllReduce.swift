import Backprop
import BackpropBenchmarks
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BenchCommand {
    /// `backprop bench --allreduce 203530,420000` under `mpirun`: one line per size, from rank 0.
    func runAllReduce(_ sizes: String) throws {
        var counts: [Int] = []
        for part in sizes.split(separator: ",") {
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw CLIError("bench: --allreduce: \(DataError.quote(part)) is not a positive count")
            }
            // The benchmark's buffer, and a weight with its gradient for averageGradients: count floats each.
            if let problem = MemoryBudget.refusal(bytes: MemoryBudget.bytes([3, n], elementSize: MemoryLayout<Float>.stride)) {
                throw CLIError("bench: --allreduce \(n): the three buffers of \(n) floats \(problem)")
            }
            counts.append(n)
        }
        let group = try DistributedRun.group()
        try DistributedRun.stoppingAllRanksOnError(group) {
            func say(_ line: String) { if group.rank == 0 { writeUnbuffered(line + "\n", to: STDOUT_FILENO) } }
            say("all-reduce (sum, float32, in place) over \(group.size) process\(group.size == 1 ? "" : "es"); "
                + "median of the slowest rank")
            for count in counts {
                let r = try AllReduceBenchmark.measure(count: count, in: group, seconds: seconds)
                let mb = Double(count * 4) / 1e6
                say(String(format: "%9d floats (%6.2f MB): all-reduce %8.1f µs (min %8.1f), averageGradients %8.1f µs, %d repeats",
                           count, mb, r.medianSeconds * 1e6, r.minSeconds * 1e6, r.averageGradientsSeconds * 1e6, r.repeats))
            }
        }
    }
}

import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends this process when a collective operation waits longer than a
/// timeout, as PyTorch's NCCL watchdog does.
///
/// `mpirun` stops the job when a rank *exits*; a rank that stops responding
/// without exiting (stopped, stuck, its host unreachable but not yet declared
/// lost) would leave the others waiting in MPI forever. The watchdog checks
/// once a second; past the deadline it prints one line and calls `_exit(1)`
/// (MPI may not be called from this thread), and `mpirun` then ends the job.
// @unchecked: `timer` is set up in init and never touched again; `deadline` is atomic.
final class CollectiveWatchdog: @unchecked Sendable {
    /// Seconds a collective may wait: `BACKPROP_MPI_TIMEOUT` (0 turns the
    /// watchdog off), 600 by default (PyTorch's NCCL default is 10 minutes).
    let seconds: Double
    private let rank: Int, size: Int
    /// Monotonic nanoseconds by which the current collective must end; 0 when none runs.
    private let deadline = Atomic<UInt64>(0)
    private let timer: any DispatchSourceTimer

    init?(rank: Int, size: Int, environment: (String) -> String?) {
        let seconds = environment("BACKPROP_MPI_TIMEOUT").flatMap { Double($0) } ?? 600
        guard seconds > 0 else { return nil }
        self.seconds = seconds
        self.rank = rank
        self.size = size
        timer = DispatchSource.makeTimerSource(queue: .global())
        let interval = min(1, seconds / 4)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.check() }
        timer.resume()
    }

    /// What the guarded call is, for the message.
    enum Purpose: Int {
        /// A collective operation of training or of the caller.
        case collective
        /// The barrier before `MPI_Finalize`, at exit.
        case finalizing
    }
    private let purpose = Atomic<Int>(0)

    /// Runs `operation` under the deadline.
    func guarding<R, E: Error>(_ what: Purpose, _ operation: () throws(E) -> R) throws(E) -> R {
        purpose.store(what.rawValue, ordering: .relaxed)
        deadline.store(Self.now() + UInt64(seconds * 1e9), ordering: .releasing)
        defer { deadline.store(0, ordering: .releasing) }
        return try operation()
    }

    private func check() {
        let d = deadline.load(ordering: .acquiring)
        guard d != 0, Self.now() > d else { return }
        // Collective operations do not say which rank is missing; with two ranks it can only be the other one.
        let culprit = ProcessGroup.otherRanks(than: rank, size: size)
        let line = switch Purpose(rawValue: purpose.load(ordering: .relaxed)) ?? .collective {
        case .collective:
            "error: rank \(rank) of \(size): a collective operation waited more than \(Int(seconds)) s "
                + "(BACKPROP_MPI_TIMEOUT): \(culprit) stopped responding; stopping this one\n"
        case .finalizing:
            "error: rank \(rank) of \(size): finished, but \(culprit) did not finish within \(Int(seconds)) s "
                + "(BACKPROP_MPI_TIMEOUT): it stopped responding, or the ranks went out of step; stopping this one\n"
        }
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        _exit(1)
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}

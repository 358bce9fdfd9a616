import ArgumentParser
import Backprop
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a command behaves when `mpirun` starts it as several processes.
///
/// - ``group()`` is ``ProcessGroup/world``: ``ProcessGroup/single`` outside
///   `mpirun` (libmpi is then never loaded).
/// - An error on any rank is printed as `error: rank R of N: ...` and stops
///   the whole job (`MPI_Abort`): the other ranks may be waiting in a
///   collective operation for this one, and would otherwise hang.
/// - When `mpirun` stops the job because another rank died, the surviving
///   ranks say so on the way out (`mpirun` itself names the lost rank).
/// - Each rank's kernels use the cores of its host shared out between the
///   ranks on that host (``threadsPerRank(cores:localRanks:)``), unless
///   `--threads` says otherwise: `mpirun` without binding (as with
///   `--oversubscribe`) would otherwise let every rank start a thread per core.
enum DistributedRun {
    /// The processes of this run; under `mpirun` an unloadable libmpi is an error.
    static func group() throws -> ProcessGroup {
        do {
            let group = try ProcessGroup.world
            if group.isDistributed {
                installTerminationMessage(rank: group.rank, size: group.size)
                let local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap { Int(String(cString: $0)) } ?? 1
                Parallelism.threadCount = threadsPerRank(cores: Parallelism.defaultThreadCount, localRanks: local)
            }
            return group
        } catch {
            throw CLIError("mpirun: \(error)")
        }
    }

    /// The default threads of one rank: the cores this process may run on
    /// (one when `mpirun` binds each rank to a core), divided between the
    /// `localRanks` ranks of this host (`OMPI_COMM_WORLD_LOCAL_SIZE`), at least 1.
    static func threadsPerRank(cores: Int, localRanks: Int) -> Int {
        max(1, cores / max(1, localRanks))
    }

    /// Runs `body`; in a distributed run, an error is printed with the rank and
    /// stops every process of the job with status 1.
    static func stoppingAllRanksOnError<R>(_ group: ProcessGroup, _ body: () throws -> R) throws -> R {
        guard group.isDistributed else { return try body() }
        do {
            return try body()
        } catch let code as ExitCode {
            throw code   // Ctrl-C (130): every rank stopped at the same batch and exits normally
        } catch let failure as NonFiniteLossError {
            // Every rank stopped at the same batch (the loss is all-reduced), and rank 0 has kept its
            // checkpoint: rank 0 reports, then all leave together with status 1, without MPI_Abort
            // (mpirun ends the job when the first rank exits non-zero, so the report comes first).
            if group.rank == 0 { writeUnbuffered("error: \(failure)\n", to: STDERR_FILENO) }
            try? group.barrier()
            signal(SIGTERM, SIG_DFL)
            throw ExitCode(1)
        } catch {
            let text = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            writeUnbuffered("error: rank \(group.rank) of \(group.size): \(text)\n", to: STDERR_FILENO)
            signal(SIGTERM, SIG_DFL)   // this rank is the one that failed: no "stopped by mpirun" line for it
            group.abort(code: 1)
        }
    }

    /// `mpirun` ends the remaining ranks with SIGTERM when one rank dies or
    /// aborts; each says why it stops, in one line, instead of vanishing.
    private static func installTerminationMessage(rank: Int, size: Int) {
        let culprit = size == 2 ? "rank \(1 - rank)" : "another process of the job"
        let text = Array("error: rank \(rank) of \(size): stopped by mpirun because \(culprit) failed or was lost (see mpirun's message)\n".utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.count)   // kept for the life of the process
        _ = buffer.initialize(from: text)
        terminationMessage = UnsafeBufferPointer(buffer)
        signal(SIGTERM) { _ in
            // Only async-signal-safe calls here: write(2) of a prepared buffer, then _exit(2).
            _ = write(STDERR_FILENO, terminationMessage.baseAddress, terminationMessage.count)
            _exit(143)   // 128 + SIGTERM
        }
    }
}

// Set once before the SIGTERM handler is installed, then only read by it.
nonisolated(unsafe) private var terminationMessage = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

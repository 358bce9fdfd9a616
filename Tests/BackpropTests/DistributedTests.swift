import Foundation
import Testing
import Backprop
@testable import BackpropTraining

@Suite("Distributed: process group without mpirun")
struct ProcessGroupTests {
    @Test("Outside mpirun the world is a single process, and libmpi is not needed")
    func worldIsSingle() throws {
        // The test process is not started by mpirun (CI never runs `swift test` under it).
        #expect(MPILaunch.detect(environment: { ProcessInfo.processInfo.environment[$0] }) == nil)
        let world = try ProcessGroup.world
        #expect(world === ProcessGroup.single)
        #expect(world.rank == 0 && world.size == 1 && !world.isDistributed)
    }

    @Test("mpirun is recognised from Open MPI's or PMIx's variables")
    func launchDetection() {
        func detect(_ env: [String: String]) -> MPILaunch? { MPILaunch.detect(environment: { env[$0] }) }
        #expect(detect([:]) == nil)
        #expect(detect(["OMPI_COMM_WORLD_SIZE": "4", "PMIX_RANK": "2"]) == MPILaunch(size: 4))
        #expect(detect(["OMPI_COMM_WORLD_SIZE": "1"]) == MPILaunch(size: 1))
        #expect(detect(["PMIX_RANK": "0"]) == MPILaunch(size: nil))
    }

    @Test("A single-process group returns its inputs and changes no gradient")
    func singleIsNoOp() throws {
        let group = ProcessGroup.single
        let t = Tensor<Float>([1, 2, 3])
        #expect(try group.allReduce(t, .sum).scalars == [1, 2, 3])
        #expect(try group.allReduce(t, .average).scalars == [1, 2, 3])
        #expect(try group.broadcast(t, from: 0).scalars == [1, 2, 3])
        #expect(try group.allGather(7) == [7])
        try group.barrier()
        try group.checkAgreement("anything", what: "x")

        var rng = SeededGenerator(seed: 3)
        let model = Sequential<Float>(Linear(3, 2, generator: &rng))
        mseLoss(model(Tensor<Float>([[1, 2, 3]])), Tensor<Float>([[0, 1]])).backward()
        let before = model.parameters().map { $0.grad!.scalars }
        try averageGradients(of: model, in: group)
        try broadcastParameters(of: model, in: group)
        #expect(model.parameters().map { $0.grad!.scalars } == before)
    }

    @Test("Shards of a global batch are contiguous, disjoint and cover it; sizes differ by at most one")
    func shards() {
        let batch = Array(100..<164)
        for size in [1, 2, 3, 5] {
            let parts = (0..<size).map { Trainer.shard(batch, rank: $0, size: size) }
            #expect(parts.flatMap { $0 } == batch)
            #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1)
        }
        // 64 over 3 ranks: 21, 21, 22. A batch of 1 over 2 ranks leaves rank 0 nothing.
        #expect((0..<3).map { Trainer.shard(batch, rank: $0, size: 3).count } == [21, 21, 22])
        #expect(Trainer.shard([9], rank: 0, size: 2).isEmpty && Trainer.shard([9], rank: 1, size: 2) == [9])
    }

    @Test("The cross-process hash is FNV-1a 64 (published test vectors)")
    func stableHash() {
        #expect(ProcessGroup.stableHash("") == 0xcbf2_9ce4_8422_2325)
        #expect(ProcessGroup.stableHash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(ProcessGroup.stableHash("foobar") == 0x8594_4171_f739_67e8)
    }
}

/// Runs `backprop` under Open MPI's `mpirun` on this machine (loopback).
/// CI installs Open MPI; elsewhere, without `mpirun`, these tests fail with
/// how to install it, unless `BACKPROP_SKIP_MPI_TESTS=1`.
@Suite("Distributed: backprop train under mpirun", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["BACKPROP_SKIP_MPI_TESTS"] != "1"))
struct MPIRunTests {
    /// 4,000 blobs with 20% held out: 3,200 training examples, so one epoch at batch 64 is 50 steps.
    static let fiftySteps = ["train", "--dataset", "blobs", "--samples", "4000", "--epochs", "1", "--batch-size", "64",
                             "--progress", "none"]

    @Test("2 and 3 processes with global batch 64 end 50 steps with the parameters of 1 process (1e-5)",
          arguments: [2, 3])
    func equivalence(processes: Int) throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let dir = try MPITestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("one.safetensors").path
        let many = dir.appendingPathComponent("many.safetensors").path

        let single = try MPITestSupport.run(backprop, Self.fiftySteps + ["--checkpoint", one])
        #expect(single.status == 0, "\(single.output)")
        #expect(!single.output.contains("distributed"))
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "\(processes)", backprop]
                                         + Self.fiftySteps + ["--checkpoint", many])
        #expect(run.status == 0, "\(run.output)")
        // Rank 0 alone prints, and says how the batch is shared (21-22 of 64 for 3 ranks).
        #expect(run.output.components(separatedBy: "checkpoint: ").count == 2, "\(run.output)")
        #expect(run.output.contains("distributed: \(processes) processes (Open MPI), \(64 / processes)"), "\(run.output)")

        let a = try Checkpoint.load(path: one).model.namedParameters()
        let b = try Checkpoint.load(path: many).model.namedParameters()
        #expect(a.map(\.name) == b.map(\.name))
        var worst: Float = 0
        for (p, q) in zip(a, b) {
            for (x, y) in zip(p.tensor.scalars, q.tensor.scalars) { worst = max(worst, abs(x - y)) }
        }
        #expect(worst <= 1e-5, "largest parameter difference \(worst)")
        // And training did move the parameters (50 Adam steps at lr 1e-3).
        let initial = ModelSpec(widths: [2, 32, 32, 3]).makeModel(seed: 1).parameters()
        #expect(zip(initial, a.map(\.tensor)).contains { !$0.0.isClose(to: $0.1, rtol: 0, atol: 1e-2) })
    }

    @Test("Gradient clipping applies to the averaged gradients: 2 processes end where 1 process ends (1e-5)")
    func clippingEquivalence() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let dir = try MPITestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("one.safetensors").path
        let many = dir.appendingPathComponent("many.safetensors").path
        // A bound well under the gradients' norm at lr 0.5 SGD, so every step is clipped.
        let options = Self.fiftySteps + ["--optimizer", "sgd", "--lr", "0.5", "--clip-grad-norm", "0.05"]
        let single = try MPITestSupport.run(backprop, options + ["--checkpoint", one])
        #expect(single.status == 0, "\(single.output)")
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", backprop] + options + ["--checkpoint", many])
        #expect(run.status == 0, "\(run.output)")
        let a = try Checkpoint.load(path: one).model.namedParameters()
        let b = try Checkpoint.load(path: many).model.namedParameters()
        var worst: Float = 0
        for (p, q) in zip(a, b) {
            for (x, y) in zip(p.tensor.scalars, q.tensor.scalars) { worst = max(worst, abs(x - y)) }
        }
        #expect(worst <= 1e-5, "largest parameter difference \(worst)")
        // Unclipped, the same run ends elsewhere: the bound did act.
        let free = dir.appendingPathComponent("free.safetensors").path
        let unclipped = try MPITestSupport.run(backprop, Self.fiftySteps + ["--optimizer", "sgd", "--lr", "0.5", "--checkpoint", free])
        #expect(unclipped.status == 0, "\(unclipped.output)")
        let c = try Checkpoint.load(path: free).model.namedParameters()
        #expect(zip(a, c).contains { !$0.0.tensor.isClose(to: $0.1.tensor, rtol: 0, atol: 1e-3) })
    }

    @Test("A diverging run on 2 processes stops every rank at the same batch, names it, and keeps the last finite checkpoint")
    func divergence() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let dir = try MPITestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("diverge.safetensors").path
        let options = ["train", "--dataset", "moons", "--samples", "200", "--optimizer", "sgd", "--lr", "100", "--epochs", "5",
                       "--progress", "none", "--checkpoint", path]
        let single = try MPITestSupport.run(backprop, options)
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", backprop] + options)
        #expect(single.status == 1 && run.status != 0, "\(run.output)")
        // The single process's message, e.g. "the loss is NaN at epoch 2, batch 3: layer 2 (Linear) ...".
        let where_ = single.output.split(separator: "\n").first { $0.hasPrefix("error: the loss is") }
            .map { String($0.dropFirst("error: ".count).prefix { $0 != ":" }) }
        #expect(where_ != nil, "\(single.output)")
        if let where_ {
            #expect(run.output.contains(where_ + ": in rank "), "\(run.output)")
        }
        #expect(run.output.components(separatedBy: "error: ").count == 2, "rank 0 alone reports: \(run.output)")
        #expect(run.output.contains("keeps epoch "), "\(run.output)")
        let kept = try Checkpoint.load(path: path)
        #expect(TrainingSession.isFinite(kept.model))
    }

    @Test("bench --allreduce on 2 and 3 processes: averageGradients gives the mean, broadcastParameters the root's values",
          arguments: [2, 3])
    func libraryCollectives(processes: Int) throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        // The command checks the values itself (AllReduceBenchmark.check) and fails on a wrong one.
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "\(processes)", backprop, "bench",
                                         "--allreduce", "1000,5", "--seconds", "0.05", "--allow-debug"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("over \(processes) processes"), "\(run.output)")
        #expect(run.output.contains("     1000 floats") && run.output.contains("        5 floats"), "\(run.output)")
    }

    @Test("Ranks started with different options stop at once with an error naming the rank")
    func mismatch() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        // MPMD: rank 0 and rank 1 get different seeds.
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags
            + ["-np", "1", backprop] + Self.fiftySteps + ["--seed", "1", ":", "-np", "1", backprop] + Self.fiftySteps + ["--seed", "2"])
        #expect(run.status != 0)
        #expect(run.output.contains("the training options, model or data differ between ranks: rank 1 has hash"), "\(run.output)")
    }

    @Test("A rank killed mid-run stops the job within 30 s, non-zero, naming the lost rank")
    func killedRank() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let tag = UUID().uuidString
        let job = try MPITestSupport.start(mpirun, MPITestSupport.mpirunFlags
            + ["-x", "BACKPROP_TEST_TAG=\(tag)", "-np", "2", backprop, "train", "--dataset", "digits", "--epochs", "100000",
               "--progress", "lines"])
        defer { if job.process.isRunning { job.process.terminate() } }
        // Wait until training runs (the first epoch line), then kill rank 1.
        #expect(job.waitForOutput(" 1/100000", seconds: 60), "\(job.output)")
        let victim = try #require(MPITestSupport.pid(tag: tag, rank: 1), "rank 1 not found in /proc")
        let killed = Date()
        kill(victim, SIGKILL)
        #expect(job.waitForExit(seconds: 30), "still running 30 s after rank 1 was killed")
        let seconds = Date().timeIntervalSince(killed)
        #expect(job.process.terminationStatus != 0)
        let output = job.output
        #expect(output.contains("process rank 1") && output.contains("signal 9"), "\(output)")   // mpirun names the lost rank
        #expect(output.contains("error: rank 0 of 2: stopped by mpirun because rank 1 failed or was lost"),
                "\(output)")
        #expect(seconds < 30)
    }

    @Test("A rank that stops responding (SIGSTOP) ends the job after BACKPROP_MPI_TIMEOUT; the waiting rank names it")
    func stalledRank() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let tag = UUID().uuidString
        let job = try MPITestSupport.start(mpirun, MPITestSupport.mpirunFlags
            + ["-x", "BACKPROP_TEST_TAG=\(tag)", "-x", "BACKPROP_MPI_TIMEOUT=3", "-np", "2", backprop, "train",
               "--dataset", "digits", "--epochs", "100000", "--progress", "lines"])
        defer { if job.process.isRunning { job.process.terminate() } }
        #expect(job.waitForOutput(" 1/100000", seconds: 60), "\(job.output)")
        let victim = try #require(MPITestSupport.pid(tag: tag, rank: 1), "rank 1 not found in /proc")
        kill(victim, SIGSTOP)
        defer { kill(victim, SIGKILL) }
        #expect(job.waitForExit(seconds: 30), "still running 30 s after rank 1 was stopped")
        #expect(job.process.terminationStatus != 0)
        #expect(job.output.contains("error: rank 0 of 2: a collective operation waited more than 3 s (BACKPROP_MPI_TIMEOUT): rank 1 stopped responding"),
                "\(job.output)")
    }
}

enum MPITestSupport {
    /// Root (CI containers) needs `--allow-run-as-root`; `--oversubscribe` lets 3 ranks share 2 cores.
    static let mpirunFlags = ["--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader,tcp"]

    /// `mpirun` from PATH and the `backprop` binary built next to the tests.
    static func tools() throws -> (mpirun: String, backprop: String) {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let mpirun = path.split(separator: ":").map({ "\($0)/mpirun" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw MPITestError("""
                mpirun not found on PATH: these tests run `backprop train` under Open MPI. Install it \
                (Debian/Ubuntu: apt-get install -y openmpi-bin libopenmpi-dev; macOS: brew install open-mpi), \
                or set BACKPROP_SKIP_MPI_TESTS=1 to skip them
                """)
        }
        // The test bundle sits in the build products directory, next to the executable.
        var dir = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("backprop").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return (mpirun, candidate) }
            dir = dir.deletingLastPathComponent()
        }
        throw MPITestError("the backprop executable was not found near \(Bundle.main.bundleURL.path): run `swift build` first")
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs to the end; stdout and stderr together. `environment` is added to this process's, for
    /// `mpirun` and every rank (with `:` app contexts Open MPI 4 applies `-x` to the first only).
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let job = try start(tool, arguments, environment: environment)
        guard job.waitForExit(seconds: 300) else {
            job.process.terminate()
            throw MPITestError("\(tool) \(arguments.joined(separator: " ")) did not finish in 300 s: \(job.output)")
        }
        return (job.process.terminationStatus, job.output)
    }

    static func start(_ tool: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Job {
        let job = Job()
        job.process.executableURL = URL(fileURLWithPath: tool)
        job.process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        environment.merge(extra) { _, new in new }
        job.process.environment = environment
        let pipe = Pipe()
        job.process.standardOutput = pipe
        job.process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            job.lock.withLock { job.data.append(data) }
        }
        try job.process.run()
        return job
    }

    /// The process whose environment has `BACKPROP_TEST_TAG=tag` and Open MPI's rank `rank`.
    static func pid(tag: String, rank: Int) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let variables = Set(data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            if variables.contains("BACKPROP_TEST_TAG=\(tag)") && variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }

    final class Job: @unchecked Sendable {   // `data` is guarded by `lock`
        let process = Process()
        let lock = NSLock()
        var data = Data()

        var output: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

        func waitForOutput(_ text: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if output.contains(text) { return true }
                if !process.isRunning { return output.contains(text) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        func waitForExit(seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.2)   // let the reader drain the pipe
            return true
        }
    }
}

struct MPITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import Testing
import Backprop
@testable import BackpropTraining
@testable import BackpropCLI

@Suite("Distributed: agreement text and threads per rank")
struct DistributedAgreementTests {
    @Test("The start-up agreement covers the library's version and, on resume, the checkpoint's hash and position")
    func agreementText() {
        let data = TensorDataset<Float>(features: Tensor<Float>([[1, 2], [3, 4]]), classes: [0, 1])
        let spec = ModelSpec(widths: [2, 2])
        var options = TrainingOptions()
        let fresh = TrainingSession.agreementText(options, spec: spec, train: data, validation: data)
        #expect(fresh.hasPrefix("backprop \(backpropLibraryVersion) | "))
        let a = TrainingSession.agreementText(options, spec: spec, train: data, validation: data,
                                              resumed: (0xabc, TrainingPosition(epoch: 2, batch: 0, step: 100)))
        let b = TrainingSession.agreementText(options, spec: spec, train: data, validation: data,
                                              resumed: (0xabc, TrainingPosition(epoch: 1, batch: 0, step: 50)))
        let c = TrainingSession.agreementText(options, spec: spec, train: data, validation: data,
                                              resumed: (0xabd, TrainingPosition(epoch: 2, batch: 0, step: 100)))
        #expect(Set([fresh, a, b, c]).count == 4)
        #expect(a.hasSuffix("resumed 0000000000000abc at epoch 2 batch 0 step 100"))
        // Paths only rank 0 uses are not compared: another host may name its copy differently, or have none.
        options.resumePath = "/elsewhere/ck.safetensors"
        options.checkpointPath = "/elsewhere/out.safetensors"
        #expect(TrainingSession.agreementText(options, spec: spec, train: data, validation: data) == fresh)
    }

    @Test("The per-epoch model check hashes parameters and batch norm's running statistics")
    func modelHash() {
        var rng = SeededGenerator(seed: 1)
        let bn = BatchNorm1d<Float>(3)
        let model = Sequential<Float>(Linear(2, 3, generator: &rng), bn)
        let trainer = Trainer(model: model, loss: .crossEntropy, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1))
        let before = trainer.modelHashText()
        #expect(trainer.modelHashText() == before)
        bn.runningMean!.value = Tensor<Float>([0, 0, 1e-7])
        let moved = trainer.modelHashText()
        #expect(moved != before)
        model.parameters()[0].updateInPlace { p, _ in p[0] += 1 }
        #expect(trainer.modelHashText() != moved)
    }

    @Test("Under mpirun each rank's default threads are the host's cores shared out between its local ranks")
    func threadsPerRank() {
        #expect(DistributedRun.threadsPerRank(cores: 2, localRanks: 2) == 1)
        #expect(DistributedRun.threadsPerRank(cores: 2, localRanks: 4) == 1)   // oversubscribed: never 0
        #expect(DistributedRun.threadsPerRank(cores: 16, localRanks: 2) == 8)
        #expect(DistributedRun.threadsPerRank(cores: 16, localRanks: 3) == 5)
        #expect(DistributedRun.threadsPerRank(cores: 1, localRanks: 0) == 1)
    }

    @Test("With two ranks the waiting one names the other; with more, the candidates")
    func culprit() {
        #expect(ProcessGroup.otherRanks(than: 0, size: 2) == "rank 1")
        #expect(ProcessGroup.otherRanks(than: 1, size: 2) == "rank 0")
        #expect(ProcessGroup.otherRanks(than: 1, size: 4) == "one of ranks 0, 2, 3")
        #expect(ProcessGroup.otherRanks(than: 0, size: 20) == "one of the other 19 ranks")
    }
}

/// `--resume` and batch norm under `mpirun` (see MPIRunTests for the set-up and what CI installs).
@Suite("Distributed: resume and batch norm under mpirun", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["BACKPROP_SKIP_MPI_TESTS"] != "1"))
struct MPIResumeTests {
    /// 3,200 training examples of blobs, batch 64: 50 steps an epoch (as MPIRunTests.fiftySteps).
    static let blobs = ["train", "--dataset", "blobs", "--samples", "4000", "--batch-size", "64", "--progress", "none"]
    static func resume(_ path: String, epochs: Int) -> [String] {
        ["train", "--resume", path, "--epochs", "\(epochs)", "--progress", "none"]
    }

    /// The largest difference over every parameter, buffer and optimizer state tensor of two checkpoints.
    static func largestDifference(_ a: String, _ b: String) throws -> Float {
        let x = try Checkpoint.load(path: a), y = try Checkpoint.load(path: b)
        func tensors(_ c: Checkpoint) -> [(String, Tensor<Float>)] {
            c.model.namedParameters().map { ($0.name, $0.tensor) } + c.model.namedBuffers().map { ($0.name, $0.buffer.value) }
                + c.optimizerState.map { ("optimizer.\($0.name)", $0.tensor) }
        }
        let p = tensors(x), q = tensors(y)
        #expect(p.map(\.0) == q.map(\.0))
        #expect(!x.optimizerState.isEmpty)   // Adam's moments are compared too
        var worst: Float = 0
        for ((_, s), (_, t)) in zip(p, q) {
            #expect(s.shape == t.shape)
            for (u, v) in zip(s.scalars, t.scalars) { worst = max(worst, abs(u - v)) }
        }
        return worst
    }

    static func epochs(of path: String) throws -> Double? {
        if case .object(let fields) = try Checkpoint.load(path: path).training,
           case .number(let e) = fields.first(where: { $0.0 == "epochs" })?.1 { return e }
        return nil
    }

    @Test("2 processes for 1 epoch, then --resume for 1 more, end where 1 process ends after 2 epochs (1e-5)")
    func resume() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let dir = try MPITestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("one.safetensors").path
        let many = dir.appendingPathComponent("many.safetensors").path
        let single = try MPITestSupport.run(backprop, Self.blobs + ["--epochs", "2", "--checkpoint", one])
        #expect(single.status == 0, "\(single.output)")
        let first = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", backprop]
                                           + Self.blobs + ["--epochs", "1", "--checkpoint", many])
        #expect(first.status == 0, "\(first.output)")
        #expect(try Self.epochs(of: many) == 1)
        let second = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", backprop] + Self.resume(many, epochs: 2))
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("distributed: 2 processes"), "\(second.output)")
        #expect(try Self.epochs(of: many) == 2)
        let worst = try Self.largestDifference(one, many)
        #expect(worst <= 1e-5, "largest difference \(worst)")
    }

    @Test("Resuming when only rank 0 has the current checkpoint (another rank has a stale copy, a third none) continues correctly")
    func staleCopy() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let dir = try MPITestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // One working directory per "host": a has the checkpoint rank 0 writes, b an older copy, c nothing.
        let (a, b, c) = (dir.appendingPathComponent("a"), dir.appendingPathComponent("b"), dir.appendingPathComponent("c"))
        for d in [a, b, c] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let name = "ck.safetensors"
        let one = dir.appendingPathComponent("one.safetensors").path
        let single = try MPITestSupport.run(backprop, Self.blobs + ["--epochs", "3", "--checkpoint", one])
        #expect(single.status == 0, "\(single.output)")
        let first = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", "-wdir", a.path, backprop]
                                           + Self.blobs + ["--epochs", "1", "--checkpoint", name])
        #expect(first.status == 0, "\(first.output)")
        try FileManager.default.copyItem(at: a.appendingPathComponent(name), to: b.appendingPathComponent(name))
        let second = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", "-wdir", a.path, backprop]
                                            + Self.resume(name, epochs: 2))
        #expect(second.status == 0, "\(second.output)")
        let stale = try Data(contentsOf: b.appendingPathComponent(name))

        // MPMD: every rank is told to resume from ./ck.safetensors of its own directory. A watchdog of
        // 20 s in the environment of mpirun (Open MPI 4 gives `-x` to the first app context only).
        let started = Date()
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags
            + ["-np", "1", "-wdir", a.path, backprop] + Self.resume(name, epochs: 3)
            + [":", "-np", "1", "-wdir", b.path, backprop] + Self.resume(name, epochs: 3)
            + [":", "-np", "1", "-wdir", c.path, backprop] + Self.resume(name, epochs: 3),
            environment: ["BACKPROP_MPI_TIMEOUT": "20"])
        #expect(run.status == 0, "\(run.output)")
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(run.output.contains("distributed: 3 processes"), "\(run.output)")
        #expect(try Self.epochs(of: a.appendingPathComponent(name).path) == 3)
        let worst = try Self.largestDifference(one, a.appendingPathComponent(name).path)
        #expect(worst <= 1e-5, "largest difference \(worst)")
        // Only rank 0 writes: the other copies are as they were.
        #expect(try Data(contentsOf: b.appendingPathComponent(name)) == stale)
        #expect(!FileManager.default.fileExists(atPath: c.appendingPathComponent(name).path))

        // Rank 0 without the file: its error names the file, and the job ends at once.
        let missing = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", "-wdir", c.path, backprop]
                                             + Self.resume(name, epochs: 4), environment: ["BACKPROP_MPI_TIMEOUT": "20"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("error: rank 0 of 2: \(name): cannot open for reading"), "\(missing.output)")
    }

    @Test("Batch norm with early stopping on 2 processes: every epoch the ranks' models agree, and all stop at the same epoch")
    func batchNormEarlyStopping() throws {
        let (mpirun, backprop) = try MPITestSupport.tools()
        let dir = try MPITestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("bn.json")
        try Data("""
            {"layers": [{"type": "linear", "in_features": 2, "out_features": 16}, {"type": "batch_norm1d", "num_features": 16},
                        {"type": "relu"}, {"type": "linear", "in_features": 16, "out_features": 2}],
             "loss": "cross_entropy"}
            """.utf8).write(to: model)
        let path = dir.appendingPathComponent("bn.safetensors").path
        // SGD at lr 0.5 makes the validation loss jump about, so patience 2 stops the run early (epoch 4 on 2026-11-30).
        let options = ["train", "--dataset", "moons", "--samples", "600", "--model", model.path, "--batch-size", "32",
                       "--optimizer", "sgd", "--lr", "0.5", "--epochs", "40", "--early-stopping", "2", "--progress", "lines",
                       "--checkpoint", path]
        let started = Date()
        let run = try MPITestSupport.run(mpirun, MPITestSupport.mpirunFlags + ["-np", "2", backprop] + options,
                                         environment: ["BACKPROP_MPI_TIMEOUT": "20"])
        // A rank that stopped alone would leave the other waiting: the watchdog would end the job non-zero.
        #expect(run.status == 0, "\(run.output)")
        #expect(Date().timeIntervalSince(started) < 60)
        // After every epoch the ranks compare a hash of their parameters and buffers (running statistics
        // included): a mismatch would be "the model's parameters or buffers after epoch N differ between ranks".
        #expect(!run.output.contains("differ between ranks"), "\(run.output)")
        #expect(run.output.contains("early stopping: the validation loss has not improved for 2 epochs"), "\(run.output)")
        let lastEpoch = run.output.split(separator: "\n").last { $0.hasPrefix("epoch ") }
        #expect(lastEpoch.map { !$0.contains("40/40") } ?? false, "\(run.output)")
        // Rank 0's running statistics are in the checkpoint and moved from their initial 0 and 1.
        let saved = try Checkpoint.load(path: path).model.stateDict()
        let mean = try #require(saved["1.running_mean"]), variance = try #require(saved["1.running_var"])
        #expect(mean.scalars.contains { $0 != 0 } && variance.scalars.contains { $0 != 1 })
        #expect(mean.scalars.allSatisfy(\.isFinite) && variance.scalars.allSatisfy(\.isFinite))
    }
}

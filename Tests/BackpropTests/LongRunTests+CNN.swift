import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropCLI

/// Long runs of a CNN (batch norm buffers, dropout masks), and extending a cosine run.
extension LongRunTests {
    /// The fixture CNN (two conv + batch norm blocks, dropout) on the tiny Fashion-MNIST images: 6 training
    /// images, 5 after the validation split, batches of 2 (3 steps an epoch).
    static func cnnOptions(epochs: Int, checkpoint: String, model: String) throws -> TrainingOptions {
        var o = TrainingOptions()
        o.dataset = try DatasetSpec(parsing: "fashion-mnist:" + CNNTrainingTests.folder)
        o.modelPath = model
        o.epochs = epochs
        o.batchSize = 2
        o.optimizer = .sgd
        o.learningRate = 0.05
        o.schedule = .step(epochs: 1, gamma: 0.5)
        o.maxGradNorm = 1
        o.checkpointPath = checkpoint
        o.checkpointInterval = 0
        o.progress = .none
        return o
    }

    @Test("a CNN with batch norm and dropout: 4 epochs = 2 + resume to 4, checkpoints byte for byte (buffers included)")
    func resumeCNN() throws {
        let dir = DataTestSupport.temporaryDirectory("longrun-cnn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/cnn.json"
        try FileIO.writeText(ModelSpecInputShapeTests.cnnJSON, to: model)
        let straight = try TrainingSession.run(Self.cnnOptions(epochs: 4, checkpoint: dir + "/straight.safetensors", model: model)) { _ in }
        _ = try TrainingSession.run(Self.cnnOptions(epochs: 2, checkpoint: dir + "/half.safetensors", model: model)) { _ in }
        var resume = TrainingOptions()
        resume.resumePath = dir + "/half.safetensors"
        resume.checkpointPath = dir + "/resumed.safetensors"
        resume.epochs = 4
        resume.progress = .none
        let resumed = try TrainingSession.run(resume) { _ in }
        #expect(resumed.history.epochs.map(\.epoch) == [3, 4])
        #expect(resumed.position == straight.position && straight.position.step == 12)
        let a = try Checkpoint.load(path: dir + "/straight.safetensors")
        #expect(a.model.stateDict()["1.num_batches_tracked"]?.item == 12)
        #expect(a.model.stateDict()["5.running_var"] != nil)
        #expect(try FileIO.readBytes(path: dir + "/straight.safetensors") == FileIO.readBytes(path: dir + "/resumed.safetensors"))
    }

    @Test("a finished cosine run is not extended with another --epochs (its T_max); the recorded total finishes it")
    func cosineKeepsItsLength() throws {
        let path = Self.dir + "/cosine-extend.safetensors"
        var o = TrainingOptions()
        o.dataset = .moons
        o.samples = 100
        o.hidden = [4]
        o.epochs = 2
        o.schedule = .cosine
        o.checkpointPath = path
        o.progress = .none
        _ = try TrainingSession.run(o) { _ in }
        var resume = TrainingOptions()
        resume.resumePath = path
        resume.epochs = 4
        resume.progress = .none
        #expect(throws: ValueError(.epochs, "the run's cosine schedule anneals over its 2 epochs; resume it with 2 epochs (or none) "
                                   + "to finish it, or start a new run of 4 epochs")) {
            try TrainingSession.run(resume) { _ in }
        }
        var errors: [String] = []
        let cli = BackpropCommand.runMain(arguments: ["train", "--resume", path, "--epochs", "3", "--progress", "none"],
                                          output: { _ in }, errorOutput: { errors.append($0) })
        #expect(cli == 1)
        #expect(errors == ["error: --epochs: the run's cosine schedule anneals over its 2 epochs; resume it with 2 epochs (or none) "
                           + "to finish it, or start a new run of 3 epochs"])
        resume.epochs = 2   // the same total: allowed (nothing left to do)
        #expect(try TrainingSession.run(resume) { _ in }.history.epochs.isEmpty)
        // A step schedule does not depend on the total: extending it is fine (LongRunTests.resumeSGD).
        // An older checkpoint without recorded epochs annealed over its dataset's default (moons: 100).
        o.epochs = nil
        #expect(try TrainingOptions().resuming(o.recordJSON, source: "c").epochs == 100)
        var fifty = TrainingOptions()
        fifty.epochs = 50
        #expect(throws: ValueError.self) { try fifty.resuming(o.recordJSON, source: "c") }
    }
}

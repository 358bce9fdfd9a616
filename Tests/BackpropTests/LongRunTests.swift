import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropCLI

/// Runs `backprop ARGS...` in-process, capturing what it prints.
private func runTool(_ arguments: [String]) -> (code: Int32, output: [String], errors: [String]) {
    var output: [String] = [], errors: [String] = []
    let code = BackpropCommand.runMain(arguments: arguments, output: { output.append($0) }, errorOutput: { errors.append($0) })
    return (code, output, errors)
}

/// Small, fast options: 200 moons examples (160 training in 5 batches of 32), two hidden layers of 8.
private func moons(_ configure: (inout TrainingOptions) -> Void = { _ in }) -> TrainingOptions {
    var o = TrainingOptions()
    o.dataset = try! TrainingOptions.dataset("moons")   // the options' form of the dataset
    o.samples = 200
    o.hidden = [8, 8]
    o.batchSize = 32
    o.epochs = 4
    o.progress = .none
    configure(&o)
    return o
}

private func parameters(_ model: Sequential<Float>) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor.scalars) })
}

private func tensors(_ state: [(name: String, tensor: Tensor<Float>)]) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: state.map { ($0.name, $0.tensor.scalars) })
}

@Suite("Long runs: resume, schedules, clipping, early stopping, non-finite losses")
struct LongRunTests {
    static let dir = DataTestSupport.temporaryDirectory("longrun")

    // MARK: optimizer state

    /// k steps, save the state, restore it into a fresh optimizer over a copy of the parameters, one more
    /// step on both: the same numbers, bit for bit.
    @Test("optimizer state round trip: a restored optimizer takes the same step", arguments: ["sgd", "adam", "adamw", "rmsprop"])
    func optimizerStateRoundTrip(_ kind: String) throws {
        func make(_ model: Sequential<Float>) -> any OptimizerStateDict<Float> {
            switch kind {
            case "sgd": return SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)
            case "adam": return Adam(parameters: model.parameters(), learningRate: 0.01, amsgrad: true)
            case "adamw": return AdamW(parameters: model.parameters(), learningRate: 0.01)
            default: return RMSprop(parameters: model.parameters(), learningRate: 0.01, momentum: 0.5, centered: true)
            }
        }
        let spec = ModelSpec(widths: [3, 4, 2])
        let x = Tensor<Float>([[0.5, -1, 2], [1, 0.25, -0.5]]), y = Tensor<Float>([[1, 0], [0, 1]])
        func step(_ model: Sequential<Float>, _ optimizer: any OptimizerStateDict<Float>) {
            let loss = mseLoss(model(x), y)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        let a = spec.makeModel(seed: 3)
        let optA = make(a)
        for _ in 0..<3 { step(a, optA) }
        let saved = optA.stateDict()
        let names = saved.map(\.name)
        switch kind {
        case "sgd": #expect(names == ["state.0.momentum_buffer", "state.1.momentum_buffer", "state.2.momentum_buffer", "state.3.momentum_buffer"])
        case "adam": #expect(names.prefix(4) == ["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq"])
        case "adamw": #expect(names.prefix(3) == ["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq"])
        default: #expect(names.prefix(4) == ["state.0.step", "state.0.square_avg", "state.0.momentum_buffer", "state.0.grad_avg"])
        }
        if kind != "sgd" { #expect(saved[0].tensor.shape == [] && saved[0].tensor.scalars == [3]) }

        let b = spec.makeModel(seed: 99)
        try b.loadStateDict(a.stateDict())
        let optB = make(b)
        try optB.loadStateDict(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }))
        #expect(tensors(optB.stateDict()) == tensors(saved))
        step(a, optA)
        step(b, optB)
        #expect(parameters(a) == parameters(b))
    }

    @Test("a wrong optimizer state is refused, naming each key, and changes nothing")
    func badOptimizerState() throws {
        let model = ModelSpec(widths: [3, 4, 2]).makeModel(seed: 1)
        let adam = Adam(parameters: model.parameters())
        let state: [String: Tensor<Float>] = [
            "state.0.exp_avg": Tensor(shape: [4, 3], scalars: Array(repeating: 0, count: 12)),
            "state.1.exp_avg": Tensor(shape: [3], scalars: [0, 0, 0]),
            "state.9.exp_avg": Tensor(shape: [1], scalars: [0]),
            "state.2.momentum_buffer": Tensor(shape: [2, 4], scalars: Array(repeating: 0, count: 8)),
            "state.3.step": Tensor(shape: [], scalars: [-1]),
        ]
        #expect {
            try adam.loadStateDict(state)
        } throws: { error in
            let problems = (error as? StateDictError)?.problems ?? []
            return problems == [
                "state.1.exp_avg: expected [4], got [3]",
                "state.2.momentum_buffer: unexpected buffer (this optimizer keeps exp_avg, exp_avg_sq, step)",
                "state.3.step: a step count must be one non-negative whole number, got shape [] value -1.0",
                "state.9.exp_avg: there are only 4 parameters",
                "state.0: missing exp_avg_sq, step",
            ]
        }
        #expect(adam.stateDict().isEmpty)
    }

    // MARK: resume

    /// N epochs straight, against N/2 epochs and a resume to N: the same parameters and optimizer state.
    @Test("SGD with momentum, dropout, a step schedule and clipping: N epochs = N/2 + resume N/2, bit for bit")
    func resumeSGD() throws {
        let options = moons {
            $0.optimizer = .sgd; $0.learningRate = 0.2; $0.momentum = 0.9; $0.dropout = 0.2
            $0.schedule = .step(epochs: 1, gamma: 0.7); $0.maxGradNorm = 0.5; $0.weightDecay = 1e-3
        }
        let straight = try TrainingSession.run(moons { o in o = options; o.checkpointPath = Self.dir + "/sgd-straight.safetensors" }) { _ in }
        let half = try TrainingSession.run(moons { o in o = options; o.epochs = 2; o.checkpointPath = Self.dir + "/sgd-half.safetensors" }) { _ in }
        #expect(half.position == TrainingPosition(epoch: 2, batch: 0, step: 10))
        var resume = TrainingOptions()
        resume.resumePath = Self.dir + "/sgd-half.safetensors"
        resume.checkpointPath = Self.dir + "/sgd-resumed.safetensors"
        resume.epochs = 4
        resume.progress = .none
        let resumed = try TrainingSession.run(resume) { _ in }
        #expect(resumed.history.epochs.map(\.epoch) == [3, 4])
        #expect(resumed.position == straight.position)
        #expect(resumed.learningRate == straight.learningRate)
        #expect(parameters(resumed.model) == parameters(straight.model))
        let a = try Checkpoint.load(path: Self.dir + "/sgd-straight.safetensors")
        let b = try Checkpoint.load(path: Self.dir + "/sgd-resumed.safetensors")
        #expect(a.optimizerState.count == 6)
        #expect(tensors(a.optimizerState) == tensors(b.optimizerState))
        #expect(a.training?["epochs"]?.intValue == 4 && b.training?["epochs"]?.intValue == 4)
        #expect(try FileIO.readBytes(path: Self.dir + "/sgd-straight.safetensors") == FileIO.readBytes(path: Self.dir + "/sgd-resumed.safetensors"))
    }

    /// Adam with a cosine schedule, interrupted in the middle of epoch 2 (as Ctrl-C does) and resumed.
    @Test("Adam with a cosine schedule, stopped mid-epoch and resumed: the same as uninterrupted, bit for bit")
    func resumeAdamMidEpoch() throws {
        let options = moons { $0.optimizer = .adam; $0.learningRate = 0.01; $0.schedule = .cosine; $0.dropout = 0.1 }
        let straight = try TrainingSession.run(moons { o in o = options; o.checkpointPath = Self.dir + "/adam-straight.safetensors" }) { _ in }
        var batches = 0
        let cut = try TrainingSession.run(moons { o in o = options; o.checkpointPath = Self.dir + "/adam-cut.safetensors" },
                                          output: { _ in }, shouldStop: { batches += 1; return batches == 7 })
        #expect(cut.history.interrupted)
        #expect(cut.position == TrainingPosition(epoch: 1, batch: 2, step: 7))
        var resume = TrainingOptions()
        resume.resumePath = Self.dir + "/adam-cut.safetensors"
        resume.progress = .none
        let resumed = try TrainingSession.run(resume) { _ in }   // epochs: the recorded 4; written back to adam-cut
        #expect(resumed.position == straight.position)
        #expect(resumed.learningRate == straight.learningRate)
        #expect(parameters(resumed.model) == parameters(straight.model))
        let a = try Checkpoint.load(path: Self.dir + "/adam-straight.safetensors")
        let b = try Checkpoint.load(path: Self.dir + "/adam-cut.safetensors")
        #expect(a.optimizerState.map(\.name).prefix(3) == ["state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step"])
        #expect(tensors(a.optimizerState) == tensors(b.optimizerState))
    }

    @Test("with a checkpoint interval of 0, the checkpoint on disk is rewritten after every epoch")
    func checkpointEveryEpoch() throws {
        let path = Self.dir + "/every.safetensors"
        var onDisk: [Int] = []
        _ = try TrainingSession.run(moons { $0.checkpointPath = path; $0.checkpointInterval = 0; $0.progress = .lines }) { text in
            // Each epoch's line comes before that epoch's write: the file holds the epoch before.
            if text.hasPrefix("epoch") {
                onDisk.append((try? Checkpoint.load(path: path))?.training?["epochs"]?.intValue ?? 0)
            }
        }
        #expect(onDisk == [0, 1, 2, 3])
    }

    @Test("a checkpoint's optimizer tensors are not the model's: load and loadWeights skip them")
    func optimizerTensorsAreSkipped() throws {
        let path = Self.dir + "/skip.safetensors"
        let result = try TrainingSession.run(moons { $0.epochs = 1; $0.checkpointPath = path }) { _ in }
        let file = try SafetensorsFile(path: path)
        #expect(file.names.contains("optimizer.state.0.exp_avg"))
        let checkpoint = try Checkpoint.load(path: path)
        #expect(parameters(checkpoint.model) == parameters(result.model))
        let model = result.spec.makeModel(seed: 42)
        try Checkpoint.loadWeights(into: model, from: path)
        #expect(parameters(model) == parameters(result.model))
    }

    @Test("resuming a checkpoint without a recorded position is an error naming the file")
    func resumeNeedsPosition() throws {
        let path = Self.dir + "/plain.safetensors"
        let spec = ModelSpec(widths: [2, 8, 8, 2])
        try Checkpoint(spec: spec, model: spec.makeModel(seed: 1)).save(to: path)
        var o = TrainingOptions()
        o.resumePath = path
        #expect {
            try TrainingSession.run(o) { _ in }
        } throws: { "\($0)" == "\(path): no training position and options in __metadata__.training: this checkpoint cannot be resumed" }
    }

    // MARK: schedules, clipping, weight decay, threads

    @Test("schedules: StepLR and cosine annealing set the rate each epoch")
    func schedules() throws {
        let step = try TrainingSession.run(moons { $0.learningRate = 0.1; $0.epochs = 3; $0.schedule = try! ScheduleKind(parsing: "step:1:0.5") }) { _ in }
        #expect(step.learningRate == 0.1 * 0.5 * 0.5 * 0.5)
        let cosine = try TrainingSession.run(moons { $0.learningRate = 0.1; $0.epochs = 2; $0.schedule = .cosine }) { _ in }
        #expect(abs(cosine.learningRate) < 1e-17)   // (1 + cos π) / 2 · η₀ at the last epoch
        #expect(try ScheduleKind(parsing: "step:10:0.5") == .step(epochs: 10, gamma: 0.5))
        #expect(throws: ValueError.self) { try ScheduleKind(parsing: "step:0:0.5") }
        #expect(throws: ValueError.self) { try ScheduleKind(parsing: "linear") }
    }

    @Test("gradient clipping bounds each step: with a norm of 1e-6, plain SGD moves no weight by more than lr · 1e-6 per step")
    func clipping() throws {
        let o = moons { $0.optimizer = .sgd; $0.momentum = 0; $0.learningRate = 0.5; $0.epochs = 1; $0.maxGradNorm = 1e-6 }
        let result = try TrainingSession.run(o) { _ in }
        let initial = result.spec.makeModel(seed: o.seed)
        let moved = zip(initial.parameters(), result.model.parameters()).flatMap { zip($0.scalars, $1.scalars).map { abs($0 - $1) } }.max()!
        #expect(moved > 0 && moved <= 5 * 0.5 * 1e-6 * 1.001)
        let free = try TrainingSession.run(moons { $0.optimizer = .sgd; $0.momentum = 0; $0.learningRate = 0.5; $0.epochs = 1 }) { _ in }
        let movedFree = zip(initial.parameters(), free.model.parameters()).flatMap { zip($0.scalars, $1.scalars).map { abs($0 - $1) } }.max()!
        #expect(movedFree > 1e-3)
    }

    @Test("weight decay reaches the optimizer: a strong decay shrinks the weights")
    func weightDecay() throws {
        func norm(_ m: Sequential<Float>) -> Float { m.parameters().flatMap(\.scalars).reduce(0) { $0 + $1 * $1 } }
        let plain = try TrainingSession.run(moons { $0.optimizer = .sgd; $0.learningRate = 0.05; $0.epochs = 2 }) { _ in }
        let decayed = try TrainingSession.run(moons { $0.optimizer = .sgd; $0.learningRate = 0.05; $0.epochs = 2; $0.weightDecay = 5 }) { _ in }
        #expect(norm(decayed.model) < 0.5 * norm(plain.model))
    }

    @Test("threads: the run uses the given thread count and restores the previous one")
    func threads() throws {
        let before = Parallelism.threadCount
        var during: [Int] = []
        _ = try TrainingSession.run(moons { $0.epochs = 1; $0.threads = 1; $0.progress = .lines }) { _ in during.append(Parallelism.threadCount) }
        #expect(Set(during) == [1])
        #expect(Parallelism.threadCount == before)
        #expect(throws: ValueError(.threads, "thread count must be at least 1, got 0")) { try TrainingSession.run(moons { $0.threads = 0 }) { _ in } }
    }

    // MARK: early stopping

    @Test("early stopping: stops after PATIENCE epochs without improvement and keeps the best checkpoint beside the last")
    func earlyStopping() throws {
        let path = Self.dir + "/early.safetensors"
        let best = TrainingSession.bestCheckpointPath(for: path)
        #expect(best == Self.dir + "/early.best.safetensors")
        var text = ""
        let result = try TrainingSession.run(moons { $0.optimizer = .sgd; $0.learningRate = 2; $0.momentum = 0.9; $0.epochs = 60
                                                     $0.earlyStoppingPatience = 2; $0.checkpointPath = path }) { text += $0 }
        let losses = result.history.epochs.map { $0.validationLoss! }
        let bestEpoch = losses.indices.min { losses[$0] < losses[$1] }! + 1
        #expect(result.history.stoppedEarly)
        #expect(result.history.epochs.count == bestEpoch + 2)
        #expect(text.contains("early stopping: the validation loss has not improved for 2 epochs; best epoch \(bestEpoch) (\(best))"))
        let kept = try Checkpoint.load(path: best)
        #expect(kept.training?["epochs"]?.intValue == bestEpoch)
        #expect(kept.training?["validation_loss"]?.numberValue == losses[bestEpoch - 1])
        let last = try Checkpoint.load(path: path)
        #expect(last.training?["epochs"]?.intValue == result.history.epochs.count)
        #expect(parameters(last.model) == parameters(result.model))
        #expect(parameters(kept.model) != parameters(result.model))
        #expect(throws: DataError.self) { try TrainingSession.run(moons { $0.validationSplit = 0; $0.earlyStoppingPatience = 2 }) { _ in } }
    }

    @Test("EarlyStopping counts epochs without a lower loss")
    func earlyStoppingCounter() {
        var e = EarlyStopping(patience: 2)
        let improved = [1.0, 1.0, 0.5, .nan].enumerated().map { e.record(epoch: $0.offset + 1, validationLoss: $0.element) }
        #expect(improved == [true, false, true, false])
        #expect(!e.shouldStop)
        let fifth = e.record(epoch: 5, validationLoss: 0.6)
        #expect(!fifth)
        #expect(e.shouldStop && e.bestEpoch == 3 && e.bestLoss == 0.5)
    }

    // MARK: non-finite losses

    @Test("the first layer that produces NaN or infinity is named")
    func firstNonFinite() {
        let model = Sequential<Float>(Linear(2, 3), ReLU(), Linear(3, 1))
        let batch = Batch(features: Tensor<Float>([[1, 2]]), targets: Tensor<Float>([[0]]))
        func set(_ name: String, _ index: Int, _ value: Float) {
            var dict = model.stateDict()
            var scalars = dict[name]!.scalars
            scalars[index] = value
            dict[name] = Tensor(shape: dict[name]!.shape, scalars: scalars)
            try! model.loadStateDict(dict)
        }
        set("2.bias", 0, 1e30)   // (1e30 - 0)² overflows Float
        #expect(Trainer.firstNonFinite(model: model, loss: .mse, batch: batch).hasPrefix("the mse loss of finite outputs (the largest of magnitude 1e+30"))
        set("2.bias", 0, .infinity)
        #expect(Trainer.firstNonFinite(model: model, loss: .mse, batch: batch)
                == "layer 2 (Linear) is the first to produce infinity (its 2.bias holds infinity: an earlier step diverged; lower the learning rate)")
        set("0.bias", 1, .nan)
        #expect(Trainer.firstNonFinite(model: model, loss: .mse, batch: batch).hasPrefix("layer 0 (Linear) is the first to produce NaN (its 0.bias holds NaN"))
        let nanInput = Batch(features: Tensor<Float>([[.nan, 2]]), targets: Tensor<Float>([[0]]))
        #expect(Trainer.firstNonFinite(model: model, loss: .mse, batch: nanInput) == "the input batch holds NaN")
    }

    @Test("train --lr 100 with SGD stops with an error naming the epoch, batch and layer, and keeps the last finite checkpoint")
    func divergence() throws {
        let path = Self.dir + "/diverge.safetensors"
        let r = runTool(["train", "--dataset", "moons", "--samples", "200", "--optimizer", "sgd", "--lr", "100", "--epochs", "5",
                         "--progress", "none", "--checkpoint", path])
        #expect(r.code == 1)
        #expect(r.errors == ["error: the loss is NaN at epoch 2, batch 3: layer 2 (Linear) is the first to produce infinity; "
                             + "\(path) keeps epoch 1, the last with finite parameters"])
        let kept = try Checkpoint.load(path: path)
        #expect(kept.training?["epochs"]?.intValue == 1)
        #expect(TrainingSession.isFinite(kept.model))
    }

    // MARK: the command line

    @Test("train's new options and conflicting options: one line naming the flags", arguments: [
        (["train", "--model", "m.json", "--layers", "2,8,2"], "error: --model and --layers conflict: the model file describes the layers, activation, dropout and loss"),
        (["train", "--model", "m.json", "--hidden", "8"], "error: --model and --hidden conflict: the model file describes the layers, activation, dropout and loss"),
        (["train", "--model", "m.json", "--activation", "tanh"], "error: --model and --activation conflict: the model file describes the layers, activation, dropout and loss"),
        (["train", "--model", "m.json", "--dropout", "0.1"], "error: --model and --dropout conflict: the model file describes the layers, activation, dropout and loss"),
        (["train", "--task", "regression"], "error: --dataset digits and --task conflict: --task applies only to csv:FILE datasets"),
        (["train", "--dataset", "moons", "--features", "a,b"], "error: --dataset moons and --features conflict: --features applies only to csv:FILE datasets"),
        (["train", "--resume", "x.safetensors", "--lr", "0.1"], "error: --resume and --lr conflict: a resumed run uses the options recorded in the checkpoint"),
        (["train", "--schedule", "step:0:0.5"], "error: --schedule step:0:0.5: EPOCHS '0' is not a positive whole number"),
        (["train", "--schedule", "linear"], "error: --schedule linear: use step:EPOCHS:GAMMA (e.g. step:10:0.5) or cosine"),
        (["train", "--clip-grad-norm", "0"], "error: --clip-grad-norm 0.0: must be a positive number"),
        (["train", "--threads", "0"], "error: --threads 0: must be at least 1"),
        (["train", "--early-stopping", "0"], "error: --early-stopping 0: the patience must be at least 1 epoch"),
        (["train", "--resume", "/nonexistent/r.safetensors"], "error: /nonexistent/r.safetensors: cannot open for reading: No such file or directory"),
    ])
    func badOptions(_ arguments: [String], _ line: String) {
        let r = runTool(arguments)
        #expect(r.code == 1)
        #expect(r.errors == [line])
        #expect(r.output.isEmpty)
    }

    @Test("train --resume on the command line continues to --epochs, then eval and predict use the recorded dataset")
    func commandLineResume() throws {
        let path = Self.dir + "/cli-resume.safetensors"
        let common = ["--progress", "none", "--checkpoint", path]
        let first = runTool(["train", "--dataset", "moons", "--samples", "200", "--epochs", "2", "--hidden", "8", "--optimizer", "sgd",
                             "--schedule", "step:1:0.5", "--clip-grad-norm", "5"] + common)
        #expect(first.code == 0, "\(first.errors)")
        let second = runTool(["train", "--resume", path, "--epochs", "3"] + common)
        #expect(second.code == 0, "\(second.errors)")
        let checkpoint = try Checkpoint.load(path: path)
        #expect(checkpoint.training?["epochs"]?.intValue == 3)
        #expect(checkpoint.training?["options"]?["schedule"]?.stringValue == "step:1:0.5")
        // predict without --csv/--input: what eval scores on the recorded dataset (all 200 moons: synthetic data has no fixed split)
        let predict = runTool(["predict", path, "--output", Self.dir + "/cli-predictions.csv"])
        #expect(predict.code == 0, "\(predict.errors)")
        let lines = try FileIO.readText(path: Self.dir + "/cli-predictions.csv").split(separator: "\n")
        #expect(lines.first == "prediction,p_0,p_1")
        #expect(lines.count == 201)
    }

    @Test("eval on an empty split is an error, not 0.00% (0/0)")
    func evalEmpty() throws {
        let path = Self.dir + "/nosplit.safetensors"
        let csv = DataTestSupport.fixture("csv/four_features.csv")
        let t = runTool(["train", "--dataset", "csv:" + csv, "--target", "label", "--epochs", "1", "--hidden", "4", "--validation-split", "0",
                         "--progress", "none", "--checkpoint", path])
        #expect(t.code == 0, "\(t.errors)")
        let r = runTool(["eval", path, "--split", "validation"])
        #expect(r.code == 1)
        #expect(r.errors == ["error: \(path): nothing to evaluate: csv:\(csv) gives the validation split made in training: 0 examples"])
    }

    @Test("--target -1, as the help writes it, picks the last CSV column")
    func negativeTarget() throws {
        let csv = DataTestSupport.fixture("csv/four_features.csv")
        let path = Self.dir + "/last-column.safetensors"
        let r = runTool(["train", "--dataset", "csv:" + csv, "--target", "-1", "--epochs", "1", "--hidden", "4", "--progress", "none",
                         "--validation-split", "0", "--checkpoint", path])
        #expect(r.code == 0, "\(r.errors)")
        let checkpoint = try Checkpoint.load(path: path)
        #expect(checkpoint.preprocessing.featureNames == ["w", "x", "y", "z"])
        #expect(checkpoint.preprocessing.classNames == ["a", "b", "c"])
        let eval = runTool(["eval", path, "--dataset", "csv:" + csv, "--target", "-1"])
        #expect(eval.code == 0, "\(eval.errors)")
    }

    @Test("the progress bar fits the terminal: shorter than its width, bar shrinking first")
    func progressWidth() {
        let p = BatchProgress(epoch: 123, epochs: 1000, batch: 50, batchCount: 100, samples: 123_456_789, loss: 12345.678,
                              accuracy: 0.5, epochSeconds: 0.001, totalSeconds: 10)
        #expect(TrainingText.progressBar(p).count > 79)   // what wrapped on an 80-column terminal
        for columns in [20, 40, 60, 80, 100, 200] {
            let line = TrainingText.progressBar(p, columns: columns)
            #expect(line.count <= columns - 1, "\(columns): \(line)")
        }
        #expect(TrainingText.progressBar(p, columns: 200) == TrainingText.progressBar(p, width: 24))
        let usual = BatchProgress(epoch: 3, epochs: 20, batch: 5, batchCount: 10, samples: 320, loss: 0.5,
                                  accuracy: 0.9, epochSeconds: 0.01, totalSeconds: 1)
        let full = TrainingText.progressBar(usual, width: 24)
        #expect(full.count == 89)   // wrapped on an 80-column terminal
        #expect(TrainingText.progressBar(usual, columns: 120) == full)
        #expect(TrainingText.progressBar(usual, columns: 80) == TrainingText.progressBar(usual, width: 14))   // 79 characters, nothing cut
        #expect(TrainingText.progressBar(usual, columns: 80).count == 79)
        #expect(terminalColumns(-1) == 80)
    }

    @Test("the second Ctrl-C quits at once, as the first one's message says")
    func secondInterrupt() {
        final class Log: @unchecked Sendable { var quits = 0; var messages: [String] = [] }
        let log = Log()
        let flag = InterruptFlag(quit: { log.quits += 1 }, message: { log.messages.append($0) })
        flag.signalReceived()
        #expect(flag.isSet && log.quits == 0)
        #expect(log.messages == ["\nCtrl-C: stopping after the current batch (press again to quit now)\n"])
        flag.signalReceived()
        #expect(log.quits == 1)
        #expect(log.messages.last == "\nCtrl-C again: quitting now\n")
    }

    /// The real signal, in a child process: before, the second SIGINT was raised again on the dispatch
    /// thread that blocks it, stayed pending, and the run went on (here: exit 0 after the sleep).
    @Test("a second real SIGINT ends the process with status 130")
    func secondRealInterrupt() async {
        await #expect(processExitsWith: .exitCode(130)) {
            let flag = InterruptFlag.install()
            // The source registers asynchronously: until it does, SIGINT is ignored, so repeat the first.
            for _ in 0..<100 where !flag.isSet {
                kill(getpid(), SIGINT)
                usleep(100_000)
            }
            kill(getpid(), SIGINT)
            sleep(5)
            exit(0)
        }
    }
}

/// The optimizer state against PyTorch: checkpoints written here after three steps (committed fixtures), loaded by
/// scripts/check_optimizer_state.py into `torch.optim` with `load_state_dict`; PyTorch's next step is recorded,
/// and a restored optimizer here takes the same step.
@Suite("Optimizer state: PyTorch resumes from our checkpoints")
struct OptimizerStateFixtureTests {
    static let spec = ModelSpec(widths: [3, 4, 2])
    // Exact in float32: multiples of 1/16.
    static var x: Tensor<Float> { Tensor<Float>([[0.5, -1, 2], [1, 0.25, -0.5], [-0.75, 1.5, 0.125]]) }
    static var y: Tensor<Float> { Tensor<Float>([[1, 0], [0, 1], [0.5, -0.5]]) }

    static func make(_ kind: String, _ model: Sequential<Float>) -> any OptimizerStateDict<Float> {
        switch kind {
        case "sgd": return SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)
        case "adam": return Adam(parameters: model.parameters(), learningRate: 0.01)
        default: return RMSprop(parameters: model.parameters(), learningRate: 0.01, momentum: 0.5)
        }
    }

    static func step(_ model: Sequential<Float>, _ optimizer: any OptimizerStateDict<Float>) {
        let loss = mseLoss(model(x), y)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
    }

    /// The checkpoint after three steps, as the fixture holds it.
    static func checkpoint(_ kind: String) -> Checkpoint {
        let model = spec.makeModel(seed: 5)
        let optimizer = make(kind, model)
        for _ in 0..<3 { step(model, optimizer) }
        var c = Checkpoint(spec: spec, model: model, training: .object([("optimizer", .string(kind))]))
        c.optimizerState = optimizer.stateDict()
        return c
    }

    @Test("the committed checkpoints are what the writer makes, byte for byte", arguments: ["sgd", "adam", "rmsprop"])
    func bytes(_ kind: String) throws {
        let path = DataTestSupport.fixture("safetensors/swift_\(kind)_state.safetensors")
        let bytes = Self.checkpoint(kind).encoded()
        if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil {
            try FileIO.writeAtomically(bytes, to: path)
        }
        #expect(try FileIO.readBytes(path: path) == bytes)
    }

    @Test("PyTorch loaded the state with optimizer.load_state_dict; its next step equals ours", arguments: ["sgd", "adam", "rmsprop"])
    func nextStep(_ kind: String) throws {
        let expected = try DataTestSupport.json("safetensors/swift_optimizer_state_expected.json")[kind]!
        let path = DataTestSupport.fixture("safetensors/swift_\(kind)_state.safetensors")
        let saved = try Checkpoint.load(path: path)
        #expect(saved.optimizerState.map { "optimizer." + $0.name }.sorted()
                == expected["optimizer_keys"]!.arrayValue!.compactMap(\.stringValue).sorted())
        let model = Self.spec.makeModel(seed: 0)
        try model.loadStateDict(saved.model.stateDict())
        let optimizer = Self.make(kind, model)
        try optimizer.loadStateDict(Dictionary(uniqueKeysWithValues: saved.optimizerState.map { ($0.name, $0.tensor) }))
        Self.step(model, optimizer)
        for (name, tensor) in model.namedParameters() {
            let want = Tensor<Float>(shape: tensor.shape, scalars: expected["after_step"]![name]!.flatNumbers.map { Float($0) })
            #expect(tensor.isClose(to: want, rtol: 1e-5, atol: 1e-6), "\(kind) \(name): \(tensor) vs \(want)")
        }
    }
}

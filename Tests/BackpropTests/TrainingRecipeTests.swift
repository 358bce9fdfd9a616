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

/// A model file's `"training"` recipe: decoding, errors with their JSON path, precedence of the flags, the
/// checkpoint's record; and the defaults `--resume` compares flags with.
@Suite("Training recipes in model files")
struct TrainingRecipeTests {
    static let dir = DataTestSupport.temporaryDirectory("recipe")

    /// A moons model file with `recipe` as its training object.
    static func modelFile(_ recipe: String, name: String = UUID().uuidString) throws -> String {
        let path = dir + "/\(name).json"
        try FileIO.writeText(#"{"layers": [2, 8, 2], "training": "# + recipe + "}", to: path)
        return path
    }

    @Test("every key decodes, round-trips through JSON and sets its option")
    func decoding() throws {
        let text = #"""
            {"optimizer": "sgd", "lr": 0.05, "momentum": 0.8, "weight_decay": 0.001, "epochs": 10, "batch_size": 32,
             "validation_split": 0, "seed": 7, "schedule": "cosine", "clip_grad_norm": 2.5, "early_stopping": 3}
            """#
        let spec = try ModelSpec(json: #"{"input_shape": [2], "layers": [{"type": "linear", "in_features": 2, "out_features": 2}], "training": "# + text + "}")
        let recipe = try #require(spec.training)
        #expect(recipe.optimizer == .sgd && recipe.learningRate == 0.05 && recipe.momentum == 0.8 && recipe.weightDecay == 0.001)
        #expect(recipe.epochs == 10 && recipe.batchSize == 32 && recipe.validationSplit == 0 && recipe.seed == 7)
        #expect(recipe.schedule == .cosine && recipe.maxGradNorm == 2.5 && recipe.earlyStoppingPatience == 3)
        #expect(try TrainingRecipe(jsonValue: recipe.json) == recipe)
        #expect(recipe.json.objectValue?.map(\.0) == TrainingRecipe.keys)
        // The shorthand takes it too; the architecture JSON leaves it out (the checkpoint records the options used).
        let short = try ModelSpec(json: #"{"layers": [2, 8, 2], "training": {"schedule": "step:5:0.5"}}"#)
        #expect(short.training?.schedule == .step(epochs: 5, gamma: 0.5) && short.training?.epochs == nil)
        #expect(!short.json.compactText.contains("training"))
        #expect(try ModelSpec(json: #"{"layers": [2, 8, 2]}"#).training == nil)

        var o = TrainingOptions()
        recipe.apply(to: &o)
        #expect(o.optimizer == .sgd && o.learningRate == 0.05 && o.momentum == 0.8 && o.weightDecay == 0.001)
        #expect(o.epochs == 10 && o.batchSize == 32 && o.validationSplit == 0 && o.seed == 7)
        #expect(o.schedule == .cosine && o.maxGradNorm == 2.5 && o.earlyStoppingPatience == 3)
        // A recipe that sets nothing changes nothing.
        var untouched = TrainingOptions()
        TrainingRecipe().apply(to: &untouched)
        #expect(untouched.recordJSON.compactText == TrainingOptions().recordJSON.compactText)
    }

    @Test("errors name the JSON path", arguments: [
        (#"{"epoch": 10}"#, #"m.json: training: unknown key "epoch" (known: optimizer, lr, momentum, weight_decay, epochs, batch_size, validation_split, seed, schedule, clip_grad_norm, early_stopping)"#),
        (#"{"epochs": 0}"#, "m.json: training.epochs: must be a whole number >= 1, got 0"),
        (#"{"epochs": 2.5}"#, "m.json: training.epochs: must be a whole number >= 1, got 2.5"),
        (#"{"epochs": "10"}"#, "m.json: training.epochs: must be a whole number >= 1, got a string"),
        (#"{"validation_split": 1}"#, "m.json: training.validation_split: must be in [0, 1), got 1"),
        (#"{"lr": -1}"#, "m.json: training.lr: must be a positive number, got -1"),
        (#"{"optimizer": "lbfgs"}"#, "m.json: training.optimizer: expected one of sgd, adam, adamw, rmsprop"),
        (#"{"schedule": "linear"}"#, "m.json: training.schedule: schedule 'linear': use step:EPOCHS:GAMMA (e.g. step:10:0.5) or cosine"),
        (#"{"schedule": 3}"#, #"m.json: training.schedule: expected a string such as "cosine" or "step:10:0.5", got a number"#),
        (#"{"batch_size": 0}"#, "m.json: training.batch_size: must be a whole number >= 1, got 0"),
        (#"{"seed": -1}"#, "m.json: training.seed: must be a whole number >= 0, got -1"),
        (#"{"clip_grad_norm": 0}"#, "m.json: training.clip_grad_norm: must be a positive number, got 0"),
        (#"{"early_stopping": 0}"#, "m.json: training.early_stopping: must be a whole number >= 1, got 0"),
        ("[10]", #"m.json: training: expected an object such as {"epochs": 10, "schedule": "cosine"}, got an array"#),
    ])
    func errors(_ recipe: String, _ message: String) {
        do {
            _ = try ModelSpec(json: #"{"layers": [2, 8, 2], "training": "# + recipe + "}", source: "m.json")
            Issue.record("accepted \(recipe)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test("train: the recipe replaces the defaults, each flag given overrides it")
    func precedence() throws {
        let path = try Self.modelFile(#"{"epochs": 7, "schedule": "cosine", "validation_split": 0, "lr": 0.01, "batch_size": 16, "optimizer": "sgd"}"#)
        let fromFile = try TrainCommand.parse(["--dataset", "moons", "--model", path]).options()
        #expect(fromFile.epochs == 7 && fromFile.schedule == .cosine && fromFile.validationSplit == 0)
        #expect(fromFile.learningRate == 0.01 && fromFile.batchSize == 16 && fromFile.optimizer == .sgd)
        #expect(fromFile.momentum == TrainCommand.defaults.momentum && fromFile.seed == TrainCommand.defaults.seed)
        let flags = try TrainCommand.parse(["--dataset", "moons", "--model", path, "--epochs", "3", "--schedule", "step:1:0.5",
                                            "--validation-split", "0.2", "--lr", "0.1", "--batch-size", "64", "--optimizer", "adam"]).options()
        #expect(flags.epochs == 3 && flags.schedule == .step(epochs: 1, gamma: 0.5) && flags.validationSplit == 0.2)
        #expect(flags.learningRate == 0.1 && flags.batchSize == 64 && flags.optimizer == .adam)
        // Without a model file, the library's defaults.
        let plain = try TrainCommand.parse(["--dataset", "moons"]).options()
        #expect(plain.epochs == nil && plain.schedule == nil && plain.validationSplit == 0.2 && plain.learningRate == 1e-3)
    }

    @Test("train with a recipe: the checkpoint records the options used, recipe and flags")
    func checkpointRecordsWhatWasUsed() throws {
        let model = try Self.modelFile(#"{"epochs": 3, "schedule": "cosine", "validation_split": 0, "lr": 0.01}"#)
        let checkpoint = Self.dir + "/recipe.safetensors"
        let r = runTool(["train", "--dataset", "moons", "--samples", "100", "--model", model, "--lr", "0.02",
                         "--progress", "none", "--checkpoint", checkpoint])
        #expect(r.code == 0, "\(r.errors)")
        let training = try #require(try Checkpoint.load(path: checkpoint).training)
        #expect(training["epochs"]?.intValue == 3 && training["validation_split"]?.numberValue == 0)   // epochs done
        let options = try #require(training["options"])
        #expect(options["epochs"]?.intValue == 3 && options["schedule"]?.stringValue == "cosine")
        #expect(options["validation_split"]?.numberValue == 0 && options["lr"]?.numberValue == 0.02)
        // A bad recipe is one error line naming the file and the key.
        let bad = try Self.modelFile(#"{"epochs": 3, "shedule": "cosine"}"#, name: "bad")
        let e = runTool(["train", "--dataset", "moons", "--model", bad])
        #expect(e.code != 0)
        #expect(e.errors == [#"error: \#(bad): training: unknown key "shedule" (known: \#(TrainingRecipe.keys.joined(separator: ", ")))"#])
    }

    @Test("examples/fashion-cnn.json carries the recipe that reaches 91%")
    func fashionExample() throws {
        let path = DataTestSupport.repositoryRoot + "/examples/fashion-cnn.json"
        let spec = try ModelSpec(json: FileIO.readText(path: path), source: path)
        #expect(spec.training?.epochs == 10 && spec.training?.schedule == .cosine && spec.training?.validationSplit == 0)
    }

    @Test("--resume with every flag at the library's default passes the conflict check; another value conflicts")
    func resumeAcceptsDefaults() throws {
        let d = TrainCommand.defaults
        let defaults = ["--dataset", "\(d.dataset)", "--optimizer", d.optimizer.rawValue, "--lr", "\(d.learningRate)",
                        "--momentum", "\(d.momentum)", "--batch-size", "\(d.batchSize)", "--seed", "\(d.seed)",
                        "--validation-split", "\(d.validationSplit)", "--samples", "\(d.samples)",
                        "--weight-decay", "\(d.weightDecay ?? d.optimizer.defaultWeightDecay)", "--dropout", "\(d.dropout)",
                        "--activation", "relu"]
        let missing = "/nonexistent/r.safetensors"
        let r = runTool(["train", "--resume", missing] + defaults)
        #expect(r.errors == ["error: \(missing): cannot open for reading: No such file or directory"])
        for (flag, value) in [("--momentum", "0.5"), ("--batch-size", "32"), ("--seed", "2"), ("--validation-split", "0.1"),
                              ("--optimizer", "sgd"), ("--weight-decay", "0.1"), ("--samples", "10"), ("--dataset", "moons")] {
            let c = runTool(["train", "--resume", missing, flag, value])
            #expect(c.errors == ["error: --resume and \(flag) conflict: a resumed run uses the options recorded in the checkpoint"])
        }
    }
}

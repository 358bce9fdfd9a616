import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// The model of the PyTorch round trip: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).
private let roundTripSpec = ModelSpec(widths: [4, 8, 3], activation: .relu())

/// The checkpoint the Swift side commits: seed-7 initial weights, with the
/// architecture and some preprocessing in the metadata.
private func swiftCheckpoint() -> Checkpoint {
    Checkpoint(spec: roundTripSpec, model: roundTripSpec.makeModel(seed: 7),
               preprocessing: Preprocessing(classNames: ["a", "b", "c"], featureNames: ["w", "x", "y", "z"]),
               training: .object([("note", .string("round-trip fixture: initial weights from seed 7"))]))
}

@Suite("Safetensors PyTorch round trip")
struct SafetensorsRoundTripTests {
    @Test("PyTorch's files load into a Sequential and give PyTorch's predictions", arguments: ["F32", "F64", "F16", "BF16"])
    func torchToSwift(_ dtype: String) throws {
        let expected = try DataTestSupport.json("safetensors/torch_mlp_expected.json")
        let variant = expected["variants"]![dtype]!
        let model = roundTripSpec.makeModel(seed: 99)   // other weights, all replaced by the load
        try Checkpoint.loadWeights(into: model, from: DataTestSupport.fixture("safetensors/" + variant["file"]!.stringValue!))
        let x = Tensor<Float>(shape: [5, 4], scalars: expected["x"]!.flatNumbers.map { Float($0) })
        let y = model(x)
        // Float32 forward against PyTorch's float64 forward of the same (exactly widened) weights.
        let want = Tensor<Float>(shape: [5, 3], scalars: variant["outputs"]!.flatNumbers.map { Float($0) })
        #expect(y.isClose(to: want, rtol: 1e-5, atol: 1e-6), "\(y) vs \(want)")
        if let native = variant["outputs_native_float32"] {
            #expect(y.isClose(to: Tensor(shape: [5, 3], scalars: native.flatNumbers.map { Float($0) }), rtol: 1e-6, atol: 1e-6))
        }
    }

    @Test("Swift checkpoint fixture: the writer reproduces the committed file byte for byte")
    func swiftFixtureBytes() throws {
        let f32 = swiftCheckpoint().encoded()
        let model = swiftCheckpoint().model
        let f64 = Safetensors.encode(model.namedParameters().map { ($0.name, Tensor<Double>($0.tensor)) },
                                     metadata: swiftCheckpoint().metadata)
        let f32Path = DataTestSupport.fixture("safetensors/swift_mlp_f32.safetensors")
        let f64Path = DataTestSupport.fixture("safetensors/swift_mlp_f64.safetensors")
        if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil {
            try FileIO.writeAtomically(f32, to: f32Path)
            try FileIO.writeAtomically(f64, to: f64Path)
        }
        #expect(try FileIO.readBytes(path: f32Path) == f32)
        #expect(try FileIO.readBytes(path: f64Path) == f64)
    }

    @Test("PyTorch loaded the Swift checkpoints into nn.Sequential and its predictions match ours")
    func swiftToTorch() throws {
        let expected = try DataTestSupport.json("safetensors/swift_mlp_expected.json")
        let x = Tensor<Double>(shape: [6, 4], scalars: expected["x"]!.flatNumbers)
        let checkpoint = swiftCheckpoint()
        let files = expected["files"]!
        for name in ["swift_mlp_f32.safetensors", "swift_mlp_f64.safetensors"] {
            let record = files[name]!
            #expect(record["keys"]!.arrayValue!.compactMap(\.stringValue) == ["0.weight", "0.bias", "2.weight", "2.bias"])
            #expect(record["metadata"]!["architecture"]!.stringValue == checkpoint.metadata["architecture"])
            #expect(record["pytorch_model"]!.stringValue!.contains("(0): Linear(in_features=4, out_features=8, bias=True)"))
            // Our forward pass in Float, and in Double from the file's values.
            let yFloat = noGrad { checkpoint.model(Tensor<Float>(x)) }
            let native = record["outputs_native"]!.flatNumbers
            #expect(Tensor<Double>(yFloat).isClose(to: Tensor(shape: [6, 3], scalars: native), rtol: 1e-5, atol: 1e-6))
            let file = try SafetensorsFile(path: DataTestSupport.fixture("safetensors/" + name))
            let w: [String: Tensor<Double>] = try file.tensors()
            let yDouble = matmul(relu(matmul(x, w["0.weight"]!.T) + w["0.bias"]!), w["2.weight"]!.T) + w["2.bias"]!
            #expect(yDouble.isClose(to: Tensor(shape: [6, 3], scalars: record["outputs_float64"]!.flatNumbers), rtol: 1e-12, atol: 1e-14))
            #expect(Trainer.predictedClasses(yFloat).map(Double.init) == record["predicted_classes"]!.flatNumbers)
        }
    }
}

@Suite("Train: checkpoints, trainer, sessions")
struct TrainTests {
    @Test("a checkpoint restores the model and its preprocessing from the file alone")
    func checkpointRoundTrip() throws {
        let dir = DataTestSupport.temporaryDirectory("ckpt")
        var checkpoint = swiftCheckpoint()
        checkpoint.preprocessing.standardizer = Standardizer(mean: [1, 2, 3, 4], std: [0.5, 1, 2, 4])
        try checkpoint.save(to: dir + "/m.safetensors")
        let restored = try Checkpoint.load(path: dir + "/m.safetensors")
        #expect(restored.spec == checkpoint.spec)
        #expect(restored.preprocessing == checkpoint.preprocessing)
        #expect(restored.model.stateDict() == checkpoint.model.stateDict())
        #expect(restored.training == checkpoint.training)
        let x = Tensor<Float>([[1, -1, 0.5, 2]])
        #expect(noGrad { restored.model(x) } == noGrad { checkpoint.model(x) })
    }

    @Test("a checkpoint whose shapes do not fit the model is a clear error, and the model is unchanged")
    func shapesDoNotFit() throws {
        let dir = DataTestSupport.temporaryDirectory("ckpt")
        let path = dir + "/m.safetensors"
        try swiftCheckpoint().save(to: path)
        let other = ModelSpec(widths: [4, 16, 3]).makeModel(seed: 1)
        let before = other.stateDict()
        let m = DataTestSupport.dataErrorMessage { try Checkpoint.loadWeights(into: other, from: path) }
        #expect(m == "\(path): the tensors do not fit the model: 0.weight: expected [16, 4], got [8, 4]; 0.bias: expected [16], got [8]; 2.weight: expected [3, 16], got [3, 8]")
        #expect(other.stateDict() == before)
        // A file whose architecture metadata disagrees with its tensors.
        let liar = Safetensors.encode(swiftCheckpoint().model.namedParameters().map { ($0.name, $0.tensor) },
                                      metadata: ["architecture": ModelSpec(widths: [5, 8, 3]).json.compactText])
        try FileIO.writeAtomically(liar, to: path)
        let m2 = DataTestSupport.dataErrorMessage { _ = try Checkpoint.load(path: path) }
        #expect(m2 == "\(path): the tensors do not fit the model: 0.weight: expected [8, 5], got [8, 4]")
        // A safetensors file without architecture.
        try Safetensors.write([("w", Tensor<Float>([1]))], to: path)
        let m3 = DataTestSupport.dataErrorMessage { _ = try Checkpoint.load(path: path) }
        #expect(m3?.hasPrefix("\(path): no \"architecture\" in __metadata__") == true)
    }

    @Test("a failed checkpoint write leaves the previous checkpoint intact")
    func failedWriteKeepsOld() throws {
        let dir = DataTestSupport.temporaryDirectory("ckpt")
        let path = dir + "/m.safetensors"
        try swiftCheckpoint().save(to: path)
        let before = try FileIO.readBytes(path: path)
        // Writing a "checkpoint" into a path under the existing file fails ...
        let m = DataTestSupport.dataErrorMessage { try swiftCheckpoint().save(to: path + "/inner.safetensors") }
        #expect(m?.hasPrefix(path + "/inner.safetensors: cannot write: ") == true)
        // ... as does a session whose checkpoint path is a directory; the old file is untouched.
        var o = TrainingOptions()
        o.dataset = .moons; o.samples = 40; o.epochs = 1; o.hidden = [4]; o.progress = .none
        o.checkpointPath = dir
        let m2 = DataTestSupport.dataErrorMessage { _ = try TrainingSession.run(o, output: { _ in }) }
        #expect(m2 == "\(dir): cannot write: is a directory")
        #expect(try FileIO.readBytes(path: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.safetensors"])
    }

    @Test("model specs from JSON, with errors naming the field")
    func specs() throws {
        let s = try ModelSpec(json: #"{"layers": [2, 16, 16, 3], "activation": "tanh", "dropout": 0.1}"#)
        #expect(s == ModelSpec(widths: [2, 16, 16, 3], activation: .tanh, dropout: 0.1) && s.loss == .crossEntropy)
        #expect(s.makeModel(seed: 1).namedParameters().map(\.name) == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"])
        #expect(s.pytorchCode == "nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Dropout(p=0.1), nn.Linear(16, 16), nn.Tanh(), nn.Dropout(p=0.1), nn.Linear(16, 3))")
        #expect(try ModelSpec(jsonValue: s.json) == s)
        #expect(s.json.compactText.hasPrefix(#"{"layers":[{"type":"linear","in_features":2,"out_features":16},{"type":"tanh"},{"type":"dropout","p":0.1},"#))
        // The explicit form, layer by layer, with an activation's parameters.
        let explicit = try ModelSpec(json: #"{"layers": [{"type": "linear", "in_features": 2, "out_features": 4}, {"type": "softplus", "beta": 2}, {"type": "linear", "in_features": 4, "out_features": 1, "bias": false}], "loss": "mse"}"#)
        #expect(explicit == ModelSpec(layers: [.linear(inFeatures: 2, outFeatures: 4), .activation(.softplus(beta: 2)), .linear(inFeatures: 4, outFeatures: 1, bias: false)], loss: .mse))
        #expect(explicit.pytorchCode == "nn.Sequential(nn.Linear(2, 4), nn.Softplus(beta=2), nn.Linear(4, 1, bias=False))")
        let cases: [(String, String)] = [
            (#"{"layers": [2]}"#, "spec.json: layers: need at least an input and an output width, got [2]"),
            (#"{"layers": [2, "x"]}"#, "spec.json: layers[1]: expected an integer width, got a string"),
            (#"{"layers": [2, 3], "activation": "swish"}"#, "spec.json: activation: unknown activation 'swish' (expected one of relu[:SCALE], leaky_relu[:SLOPE], tanh, sigmoid, softplus[:BETA[:THRESHOLD]], gelu[:none|tanh], elu[:ALPHA], silu, identity, softmax, log_softmax)"),
            (#"{"layers": [2, 3], "activation": "softplus:-2"}"#, "spec.json: activation: activation 'softplus:-2': softplus's beta must be positive, got -2"),
            (#"{"layers": [{"type": "linear", "in_features": 2, "out_features": 3}, {"type": "softplus", "beta": -1}]}"#, "spec.json: layers[1].beta: softplus's beta must be positive, got -1"),
            (#"{"layers": [{"type": "linear", "in_features": 2, "out_features": 3}, {"type": "swish"}]}"#, "spec.json: layers[1].type: unknown layer type 'swish' (expected one of linear, dropout, conv1d, conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, flatten, batch_norm1d, batch_norm2d, layer_norm, relu, leaky_relu, tanh, sigmoid, softplus, gelu, elu, silu, identity, softmax, log_softmax)"),
            (#"{"layers": [{"type": "linear", "in_features": 2, "out_features": 3}, {"type": "linear", "in_features": 4, "out_features": 1}]}"#, "spec.json: layers[1]: linear takes 4 input features, but its input has shape [3] (shapes: input [2] -> layers[0] [3])"),
            (#"{"layers": [{"type": "linear", "in_features": 2, "out_features": "3"}]}"#, "spec.json: layers[0].out_features: expected a number, got a string"),
            (#"{"layers": [{"type": "relu", "slope": 2}]}"#, "spec.json: layers[0]: unknown key 'slope' for a relu layer (expected type, scale)"),
            (#"{"layers": [64, 1000000000000, 10]}"#, "spec.json: layers: the network would have more than 2147483648 parameters (linear 64 -> 1000000000000 alone: 64000000000000)"),
            (#"{"layers": [2, 3], "lr": 1}"#, "spec.json: unknown key \"lr\" (known: layers, activation, dropout, loss, input_shape, training; training options go in \"training\": {\"lr\": ...})"),
            (#"{"layers": [{"type": "linear", "in_features": 2, "out_features": 3}], "activation": "relu"}"#, "spec.json: unknown key \"activation\" (known: input_shape, layers, loss, training)"),
            (#"[2, 3]"#, "spec.json: the spec is an array, not a JSON object"),
        ]
        for (text, message) in cases {
            #expect(DataTestSupport.dataErrorMessage { _ = try ModelSpec(json: text, source: "spec.json") } == message)
        }
    }

    @Test("the trainer learns two moons; shuffling and init are reproducible for a seed")
    func trainerLearns() {
        let data = Synthetic.twoMoons(count: 200, noise: 0.1, seed: 1)
        let scaler = Standardizer(fitting: data.features)
        let train = data.withFeatures(scaler.apply(data.features))
        func run() -> (TrainingHistory, [String: Tensor<Float>]) {
            let model = ModelSpec(widths: [2, 16, 2]).makeModel(seed: 3)
            let trainer = Trainer(model: model, loss: .crossEntropy,
                                  optimizer: Adam(parameters: model.parameters(), learningRate: 0.05))
            return (trainer.fit(train: train, epochs: 15, batchSize: 32, seed: 5), model.stateDict())
        }
        let (h1, w1) = run()
        let (h2, w2) = run()
        #expect(h1.epochs.map(\.trainLoss) == h2.epochs.map(\.trainLoss))
        #expect(w1 == w2)
        #expect(h1.epochs.first!.trainLoss > 0.3)
        #expect(h1.epochs.last!.trainAccuracy! >= 0.95, "\(h1.epochs.last!)")
    }

    @Test("evaluation: accuracy and confusion matrix of a fixed linear model")
    func evaluation() {
        // logits = x itself: predicted class = argmax of the features.
        let model = Sequential<Float>(Linear<Float>(weight: Tensor<Float>([[1, 0], [0, 1]]).requiringGrad(),
                                                    bias: Tensor<Float>([0, 0]).requiringGrad()))
        let data = TensorDataset(features: Tensor<Float>([[2, 1], [0, 3], [5, 4], [1, 2]]), classes: [0, 1, 1, 0])
        let e = Trainer.evaluate(model: model, loss: .crossEntropy, data: data, batchSize: 3)
        #expect(e.accuracy == 0.5)
        #expect(e.confusion == [[1, 1], [1, 1]])
        let want = crossEntropy(Tensor<Float>([[2, 1], [0, 3], [5, 4], [1, 2]]), classIndices: [0, 1, 1, 0]).item
        #expect(abs(e.loss - Double(want)) < 1e-6)
    }

    @Test("interrupting stops after the current batch and still saves the checkpoint")
    func interrupt() throws {
        let dir = DataTestSupport.temporaryDirectory("train")
        var o = TrainingOptions()
        o.dataset = .spirals(classes: 3); o.samples = 90; o.epochs = 50; o.hidden = [8]; o.batchSize = 10
        o.progress = .lines; o.checkpointPath = dir + "/s.safetensors"
        var batches = 0
        var text = ""
        let result = try TrainingSession.run(o, output: { text += $0 }, shouldStop: { batches += 1; return batches >= 11 })
        #expect(result.history.interrupted)
        #expect(result.history.epochs.count == 1)   // epoch 1 has 8 batches; stopped in epoch 2
        #expect(text.contains("interrupted: stopped after batch 3 of epoch 2"), "\(text)")
        let restored = try Checkpoint.load(path: dir + "/s.safetensors")
        #expect(restored.model.stateDict() == result.model.stateDict())
        #expect(restored.training?["interrupted"] == .bool(true))
    }

    @Test("a session end to end: CSV with a header, train, eval and predict from the checkpoint")
    func csvSession() throws {
        let dir = DataTestSupport.temporaryDirectory("train")
        // Two blobs written as CSV with text labels; the target column in the middle.
        let blobs = Synthetic.blobs(count: 60, classes: 2, features: 2, std: 0.5, seed: 4)
        var csv = "u,label,v\n"
        for i in 0..<60 {
            csv += "\(blobs.features[element: i, 0]),\(blobs.classIndicesList[i] == 0 ? "left" : "right"),\(blobs.features[element: i, 1])\n"
        }
        try FileIO.writeText(csv, to: dir + "/blobs.csv")
        var o = TrainingOptions()
        o.dataset = .csv(path: dir + "/blobs.csv"); o.target = "label"; o.epochs = 10; o.hidden = [8]
        o.learningRate = 0.05; o.progress = .lines
        o.checkpointPath = dir + "/b.safetensors"
        var text = ""
        let result = try TrainingSession.run(o, output: { text += $0 })
        #expect(result.final!.validationAccuracy == 1, "\(text)")
        #expect(text.contains("epoch 10/10  loss "))
        #expect(text.contains("validation: loss "))
        let svg = LinePlot.trainingCurves(result.history.epochs, title: "blobs").svg()
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
        #expect(svg.components(separatedBy: "class=\"curve\"").count - 1 == 4)   // loss and accuracy, train and validation

        let report = try Inference.evaluate(checkpoint: dir + "/b.safetensors", dataset: .csv(path: dir + "/blobs.csv"))
        #expect(report.contains("validation split made in training: 12 examples"))
        #expect(report.contains("accuracy 100.00% (12/12)"))
        #expect(report.contains("true left"))

        // Predictions: columns found by name in a file with another column order; standardisation reapplied.
        try FileIO.writeText("v,u\n\(blobs.features[element: 0, 1]),\(blobs.features[element: 0, 0])\n", to: dir + "/in.csv")
        let predicted = try Inference.predict(checkpoint: dir + "/b.safetensors", csv: dir + "/in.csv")
        let lines = predicted.split(separator: "\n")
        #expect(lines[0] == "prediction,p_left,p_right")
        #expect(lines[1].hasPrefix(blobs.classIndicesList[0] == 0 ? "left," : "right,"))
        let one = try Inference.predict(checkpoint: dir + "/b.safetensors",
                                        input: "\(blobs.features[element: 0, 0]),\(blobs.features[element: 0, 1])")
        #expect(one == predicted)
        #expect(throws: ValueError(.input, "input 1,x: value 2 'x' is not a number")) {
            try Inference.predict(checkpoint: dir + "/b.safetensors", input: "1,x")
        }
        #expect(throws: ValueError(.input, "input 1,2,3: 3 values, but the model in \(dir)/b.safetensors takes 2 features")) {
            try Inference.predict(checkpoint: dir + "/b.safetensors", input: "1,2,3")
        }
    }

    @Test("bad options and data are errors naming what is wrong")
    func badSessions() throws {
        let dir = DataTestSupport.temporaryDirectory("train")
        try FileIO.writeText("a,b,y\n1,2,0\n3,4,1\n", to: dir + "/d.csv")
        func message(_ edit: (inout TrainingOptions) -> Void) -> String? {
            var o = TrainingOptions()
            o.epochs = 1; o.progress = .none
            edit(&o)
            do { _ = try TrainingSession.run(o, output: { _ in }); return nil } catch { return "\(error)" }
        }
        func field(_ edit: (inout TrainingOptions) -> Void) -> ValueError.Field? {
            var o = TrainingOptions()
            o.epochs = 1; o.progress = .none
            edit(&o)
            do { _ = try TrainingSession.run(o, output: { _ in }); return nil } catch { return (error as? ValueError)?.field }
        }
        #expect(message { $0.dataset = .csv(path: dir + "/d.csv"); $0.target = "label" }
                == "\(dir)/d.csv: no column named \"label\" (columns: a, b, y)")
        #expect(message { $0.dataset = .csv(path: dir + "/d.csv") }
                == "the CSV dataset \(dir)/d.csv needs a target column (a header name or a 0-based index)")
        #expect(field { $0.dataset = .csv(path: dir + "/d.csv") } == .target)
        #expect(message { $0.layers = [60, 10, 10] }
                == "the first width 60 of the layers [60, 10, 10] does not match the 64 input features of digits")
        #expect(field { $0.layers = [60, 10, 10] } == .layers)
        #expect(message { $0.layers = [64, 10, 9] }
                == "the last width 9 of the layers [64, 10, 9] does not match the 10 classes of digits")
        #expect(message { $0.dataset = .sine; $0.loss = .crossEntropy }
                == "loss cross_entropy does not fit sine, a regression task")
        #expect(field { $0.dataset = .sine; $0.loss = .crossEntropy } == .loss)
        #expect(message { $0.dataset = .mnist(folder: dir + "/none") } == "\(dir)/none: MNIST folder does not exist")
        // A model file is named by its path, not by an option.
        try FileIO.writeText(#"{"layers": [60, 10, 10]}"#, to: dir + "/m.json")
        #expect(message { $0.modelPath = dir + "/m.json" }
                == "\(dir)/m.json: the first width 60 does not match the 64 input features of digits")
    }
}

@Suite("Train: eval and predict output (golden files)")
struct TrainGoldenTests {
    let checkpoint = DataTestSupport.fixture("safetensors/swift_mlp_f32.safetensors")
    let csv = DataTestSupport.fixture("csv/four_features.csv")

    func golden(_ name: String, _ text: String) throws -> String {
        let path = DataTestSupport.fixture("golden/" + name)
        if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil { try FileIO.writeText(text, to: path) }
        return try FileIO.readText(path: path)
    }

    @Test("backprop eval: loss, accuracy and confusion matrix")
    func evalGolden() throws {
        let text = try Inference.evaluate(checkpoint: checkpoint, dataset: .csv(path: csv), target: "label")
            .replacing(DataTestSupport.fixturesDirectory + "/", with: "")
        #expect(text == (try golden("eval_swift_mlp.txt", text)))
        #expect(text.contains("dataset csv:") && text.contains("all 12 examples"))
    }

    @Test("backprop predict: class and probabilities per row")
    func predictGolden() throws {
        let text = try Inference.predict(checkpoint: checkpoint, csv: csv)
        let want = try golden("predict_swift_mlp.csv", text)
        let (a, b) = (text.split(separator: "\n"), want.split(separator: "\n"))
        #expect(a.count == 13 && a.count == b.count && a[0] == "prediction,p_a,p_b,p_c" && a[0] == b[0])
        for (x, y) in zip(a.dropFirst(), b.dropFirst()) {
            let (fx, fy) = (x.split(separator: ","), y.split(separator: ","))
            #expect(fx[0] == fy[0])   // the class
            // Probabilities printed to 6 decimals: allow a last-digit difference from a different GEMM order.
            for (p, q) in zip(fx.dropFirst(), fy.dropFirst()) { #expect(abs(Double(p)! - Double(q)!) <= 2e-6) }
        }
    }
}

@Suite("Train: command-line options")
struct TrainCommandOptionTests {
    @Test("flags map to options; bad values name the flag")
    func options() throws {
        let o = try TrainCommand.parse(["--dataset", "moons", "--layers", "2,16,2", "--lr", "0.01", "--optimizer", "SGD",
                                        "--loss", "cross_entropy", "--no-standardize", "--progress", "none"]).options()
        #expect(o.dataset == .moons && o.layers == [2, 16, 2] && o.learningRate == 0.01 && o.optimizer == .sgd)
        #expect(o.loss == .crossEntropy && o.standardize == false && o.progress == .none)
        #expect(o.weightDecay == nil)   // the optimizer's own default
        func message(_ args: [String]) -> String? {
            do { _ = try TrainCommand.parse(args); return nil } catch { return TrainCommand.message(for: error) }
        }
        #expect(message(["--layers", "64,x,10"]) == "The value '64,x,10' is invalid for '--layers <layers>': 'x' is not a positive integer width")
        #expect(message(["--optimizer", "lbfgs"])
                == "The value 'lbfgs' is invalid for '--optimizer <optimizer>'. Please provide one of 'sgd', 'adam', 'adamw' or 'rmsprop'.")
        #expect(message(["--loss", "hinge"])
                == "The value 'hinge' is invalid for '--loss <loss>'. Please provide one of 'cross_entropy', 'mse', 'l1' or 'huber'.")
        #expect(message(["--dataset", "spirals:1"])
                == "The value 'spirals:1' is invalid for '--dataset <dataset>': dataset spirals:1: the class count must be an integer >= 2, got 1")
        // The library's checks, named by the flag.
        #expect(message(["--lr=-1"]) == "--lr: learning rate must be positive, got -1.0")
        #expect(message(["--batch-size", "0"]) == "--batch-size: batch size must be positive, got 0")
        #expect(message(["--target", "y"]) == "--target: a target column applies only to csv:FILE datasets, not digits")
    }
}

@Suite("Train: regression from a JSON model spec")
struct TrainRegressionTests {
    @Test("sine with a spec file: the loss falls well below the variance of sin, and eval agrees with the summary")
    func sineFromSpec() throws {
        let dir = DataTestSupport.temporaryDirectory("train")
        try FileIO.writeText(#"{"layers": [1, 16, 1], "activation": "tanh", "loss": "mse"}"#, to: dir + "/spec.json")
        var o = TrainingOptions()
        o.dataset = .sine; o.samples = 200; o.epochs = 60; o.learningRate = 0.02; o.modelPath = dir + "/spec.json"
        o.progress = .none; o.checkpointPath = dir + "/sine.safetensors"
        var text = ""
        let result = try TrainingSession.run(o, output: { text += $0 })
        #expect(text.contains("1 feature, 1 target value"), "\(text)")
        // Var(sin x) for x ~ U(-pi, pi) is 1/2; a fitted curve leaves little more than the noise (0.05^2).
        #expect(result.final!.validationLoss! < 0.05, "\(text)")
        let restored = try Checkpoint.load(path: dir + "/sine.safetensors")
        #expect(restored.spec == ModelSpec(widths: [1, 16, 1], activation: try! Activation(parsing: "tanh"), loss: .mse))
        let y = try Inference.predict(checkpoint: dir + "/sine.safetensors", input: "1.5707963")
        #expect(y.hasPrefix("prediction\n"))
        #expect(abs(Double(y.split(separator: "\n")[1])! - 1) < 0.25, "\(y)")
    }
}

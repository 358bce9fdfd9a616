import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// A model description that knows its input shape, so that `train` builds CNNs, and checkpoints that
/// record the whole preprocessing (scale, standardisation, image layout).
@Suite("ModelSpec: input shapes")
struct ModelSpecInputShapeTests {
    static let cnnJSON = #"""
        {"input_shape": [1, 28, 28],
         "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3},
                    {"type": "batch_norm2d", "num_features": 4}, {"type": "relu"}, {"type": "max_pool2d", "kernel_size": 2},
                    {"type": "conv2d", "in_channels": 4, "out_channels": 8, "kernel_size": 3},
                    {"type": "batch_norm2d", "num_features": 8}, {"type": "relu"}, {"type": "max_pool2d", "kernel_size": 2},
                    {"type": "flatten"}, {"type": "dropout", "p": 0.25}, {"type": "linear", "in_features": 200, "out_features": 10}]}
        """#

    @Test func shapesThroughEveryLayer() throws {
        let spec = try ModelSpec(json: Self.cnnJSON, source: "cnn.json")
        #expect(spec.inputShape == [1, 28, 28] && spec.takesImages)
        // 28 - 2 = 26, pooled 13, 13 - 2 = 11, pooled 5 (floor): 8 x 5 x 5 = 200.
        #expect(try spec.shapes() == [[1, 28, 28], [4, 26, 26], [4, 26, 26], [4, 26, 26], [4, 13, 13],
                                      [8, 11, 11], [8, 11, 11], [8, 11, 11], [8, 5, 5], [200], [200], [10]])
        #expect(spec.inputFeatures == 784 && spec.outputFeatures == 10)
        #expect(spec.bufferShapes.map(\.name) == ["1.running_mean", "1.running_var", "1.num_batches_tracked",
                                                  "5.running_mean", "5.running_var", "5.num_batches_tracked"])
        // The shape rides in the JSON form (first key), and reads back to the same spec.
        #expect(spec.json.compactText.hasPrefix(#"{"input_shape":[1,28,28],"layers":[{"type":"conv2d""#))
        #expect(try ModelSpec(jsonValue: spec.json) == spec)
        // Dense models derive it as before and do not write it.
        let dense = ModelSpec(widths: [64, 32, 10])
        #expect(dense.resolvedInputShape == [64] && dense.inputShape == nil && !dense.takesImages)
        #expect(!dense.json.compactText.contains("input_shape"))
        let shorthand = try ModelSpec(json: #"{"input_shape": [64], "layers": [64, 10]}"#)
        #expect(shorthand.outputFeatures == 10)
    }

    @Test func shippedFashionCNN() throws {
        let path = DataTestSupport.repositoryRoot + "/examples/fashion-cnn.json"
        let spec = try ModelSpec(json: FileIO.readText(path: path), source: path)
        #expect(try spec.shapes() == [[1, 28, 28], [32, 26, 26], [32, 26, 26], [32, 26, 26], [32, 13, 13],
                                                 [64, 11, 11], [64, 11, 11], [64, 11, 11], [64, 5, 5], [1600], [1600], [10]])
        #expect(spec.parameterCount == 35018)
        #expect(spec.pytorchCode == "nn.Sequential(nn.Conv2d(1, 32, kernel_size=3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(kernel_size=2), "
                + "nn.Conv2d(32, 64, kernel_size=3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(kernel_size=2), nn.Flatten(), nn.Dropout(p=0.25), nn.Linear(1600, 10))")
    }

    @Test func errorsNameThePathAndTheLayer() throws {
        func message(_ text: String) -> String {
            do { _ = try ModelSpec(json: text, source: "cnn.json"); return "no error" } catch { return "\(error)" }
        }
        // Without input_shape a conv model cannot know its height and width (before: "1600 input features").
        let noShape = message(Self.cnnJSON.replacing(#""input_shape": [1, 28, 28],"#, with: ""))
        #expect(noShape.hasPrefix("cnn.json: input_shape: the first layer (conv2d 1 -> 4, kernel 3x3) does not fix the input's shape"), "\(noShape)")
        // 32 x 32 images give 8 x 6 x 6 = 288 values at the linear layer, which takes 200.
        let wrong = message(Self.cnnJSON.replacing("[1, 28, 28]", with: "[1, 32, 32]"))
        #expect(wrong == "cnn.json: layers[10]: linear takes 200 input features, but its input has shape [288] "
                + "(shapes: layers[6] [8, 13, 13] -> layers[7] [8, 6, 6] -> layers[8] [288] -> layers[9] [288])", "\(wrong)")
        let channels = message(Self.cnnJSON.replacing("[1, 28, 28]", with: "[3, 28, 28]"))
        #expect(channels.hasPrefix("cnn.json: layers[0]: conv2d takes [1, height, width] examples, but its input has shape [3, 28, 28]"), "\(channels)")
        #expect(message(Self.cnnJSON.replacing("[1, 28, 28]", with: "[1, 0, 28]")) == "cnn.json: input_shape[1]: expected a positive integer size")
        #expect(message(Self.cnnJSON.replacing("[1, 28, 28]", with: "\"28x28\"")).hasPrefix("cnn.json: input_shape: expected one example's shape"))
        // Sizes that cannot fit in memory are refused before anything is allocated.
        let huge = message(Self.cnnJSON.replacing("[1, 28, 28]", with: "[1, 4000000, 4000000]"))
        #expect(huge.hasPrefix("cnn.json: input_shape: one example of shape [1, 4000000, 4000000] would not fit in memory"), "\(huge)")
    }

    @Test func checkpointsKeepBuffersAndShapes() throws {
        let spec = try ModelSpec(json: Self.cnnJSON)
        let model = spec.makeModel(seed: 3)
        _ = noGrad { model(Tensor<Float>.randomNormal([2, 1, 28, 28])) }   // batch norm statistics move
        let path = DataTestSupport.temporaryDirectory("cnn-ckpt") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint(spec: spec, model: model, preprocessing: Preprocessing(scale: 255, inputShape: [1, 28, 28])).save(to: path)
        let loaded = try Checkpoint.load(path: path)   // before: "1.running_mean: unexpected key"
        #expect(loaded.spec == spec && loaded.preprocessing.scale == 255 && loaded.preprocessing.inputShape == [1, 28, 28])
        #expect(loaded.model.stateDict()["1.num_batches_tracked"]?.item == 1)
        // Stored pixels 0...255 in, logits out: the same as the model on pixels / 255 as images.
        let pixels = Tensor<Float>(shape: [1, 784], scalars: (0..<784).map { Float($0 % 256) })
        model.eval()
        let want = noGrad { model((pixels / 255).reshaped(to: [1, 1, 28, 28])) }
        let got = noGrad { loaded.model(loaded.input(pixels)) }
        #expect(got.isClose(to: want, rtol: 1e-6, atol: 1e-6))
    }

    @Test func preprocessingSteps() throws {
        let p = Preprocessing(scale: 255, inputShape: [1, 2, 2])
        let x = p.apply(Tensor<Float>([[0, 51, 255, 102]]))
        #expect(x.shape == [1, 1, 2, 2] && x.scalars == [0, 51 / 255, 1, 102 / 255])
        // Values a loader already divided by 255 are not divided again.
        #expect(p.apply(Tensor<Float>([[0, 0.2, 1, 0.4]]), featureScale: 255).scalars == [0, 0.2, 1, 0.4])
        // Values divided by 16 for a model that takes values divided by 32 are halved.
        #expect(Preprocessing(scale: 32).apply(Tensor<Float>([[1, 0.5]]), featureScale: 16).scalars == [0.5, 0.25])
        // A checkpoint that records no scale (written before it was recorded) takes features as given.
        #expect(Preprocessing().apply(Tensor<Float>([[0.5, 1]]), featureScale: 16).scalars == [0.5, 1])
        #expect(p.json.compactText == #"{"scale":255,"input_shape":[1,2,2]}"#)
        #expect(try Preprocessing(jsonValue: p.json, source: "p") == p)
        #expect(throws: DataError.self) { try Preprocessing(jsonValue: JSON.parse(#"{"scale": 0}"#), source: "p") }
    }
}

/// `train` on images: the tiny Fashion-MNIST fixture (6 training and 4 test images of 28 x 28).
@Suite("Training a CNN from a model file")
struct CNNTrainingTests {
    static let folder = DataTestSupport.fixture("conv/fashion-mnist-tiny")

    /// Trains the fixture CNN (ModelSpecInputShapeTests.cnnJSON) for `epochs` on the tiny images.
    static func train(epochs: Int, checkpoint: String?, model json: String = ModelSpecInputShapeTests.cnnJSON) throws -> (TrainingResult, String) {
        let dir = DataTestSupport.temporaryDirectory("cnn-model")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileIO.writeAtomically(Array(json.utf8), to: dir + "/cnn.json")
        var o = TrainingOptions()
        o.dataset = try DatasetSpec(parsing: "fashion-mnist:" + folder)
        o.modelPath = dir + "/cnn.json"
        o.epochs = epochs
        o.batchSize = 4
        o.learningRate = 0.01
        o.checkpointPath = checkpoint
        o.checkpointInterval = 0
        o.progress = .none
        var text = ""
        let result = try TrainingSession.run(o) { text += $0 }
        return (result, text)
    }

    @Test func trainsEvaluatesPredictsAndExplains() throws {
        let path = DataTestSupport.temporaryDirectory("cnn-train") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (result, text) = try Self.train(epochs: 2, checkpoint: path)
        #expect(text.contains("784 features as [1, 28, 28] images"), "\(text)")
        #expect(result.history.epochs.count == 2 && result.final!.trainLoss.isFinite)
        #expect(text.contains("test:       loss"), "\(text)")
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata["architecture"]!.hasPrefix(#"{"input_shape":[1,28,28],"#))
        #expect(file.metadata["preprocessing"]!.hasPrefix(#"{"scale":255,"input_shape":[1,28,28]"#), "\(file.metadata["preprocessing"]!)")
        #expect(file.entry(named: "5.num_batches_tracked") != nil)
        let checkpoint = try Checkpoint.load(path: path)
        // eval scores the 4 official test images; predict gives one row each, with the same classes.
        let report = try Inference.evaluate(checkpoint: path)
        #expect(report.contains("dataset fashion-mnist:\(Self.folder): all 4 examples"), "\(report)")
        let rows = try Inference.predictRecorded(checkpoint: path).split(separator: "\n")
        // Fashion-MNIST from any folder: the rows name the classes.
        #expect(rows.count == 5 && rows[0].hasPrefix("prediction,p_T-shirt/top,"))
        let test = try FashionMNIST.load(folder: Self.folder, split: .test)
        let logits = noGrad { checkpoint.model(test.features) }
        #expect(rows.dropFirst().map { String($0.split(separator: ",")[0]) } == Trainer.predictedClasses(logits).map { FashionMNIST.classNames[$0] })
        // predict --input takes one image's stored bytes (0...255).
        let bytes = test.features[0].scalars.map { String(Int(($0 * 255).rounded())) }.joined(separator: ",")
        let one = try Inference.predict(checkpoint: path, input: bytes).split(separator: "\n")[1]
        #expect(one == rows[1], "\(one) vs \(rows[1])")
    }

    /// `explain --checkpoint CKPT --example 0` on a CNN: the input is the image, shaped as the model takes it.
    @Test func explainsAnExample() throws {
        let path = DataTestSupport.temporaryDirectory("cnn-explain") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try Self.train(epochs: 1, checkpoint: path)
        let checkpoint = try Checkpoint.load(path: path)
        let (data, _, _) = try Inference.examples(for: checkpoint, path: path)
        let problem = try ExplainProblem(checkpoint: checkpoint, features: data.features[0].scalars.map(Double.init),
                                         featureScale: data.featureScale)
        #expect(problem.inputShape == [1, 28, 28])
        expectClose(Tensor<Double>(shape: [784], scalars: problem.input), Tensor<Double>(data.features[0].reshaped(to: [784])), atol: 1e-7)
        let report = try problem.explain()
        let logits = noGrad { checkpoint.model(checkpoint.input(data.features, featureScale: data.featureScale)) }
        expectClose(Tensor<Double>(shape: [10], scalars: report.outputs.last!.scalars), Tensor<Double>(logits[0]), atol: 1e-4)
    }

    @Test func modelCheckedAgainstTheDataBeforeTraining() throws {
        // 27 x 27 images fit the layers (8 x 5 x 5 = 200 at the linear layer), but not the data.
        let wrong = ModelSpecInputShapeTests.cnnJSON.replacing("[1, 28, 28]", with: "[1, 27, 27]")
        do {
            _ = try Self.train(epochs: 1, checkpoint: nil, model: wrong)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.hasPrefix("input_shape [1, 27, 27] (729 values) does not match the 784 input features of fashion-mnist:"), "\(e)")
        }
        let tenfold = ModelSpecInputShapeTests.cnnJSON.replacing("\"out_features\": 10", with: "\"out_features\": 3")
        do {
            _ = try Self.train(epochs: 1, checkpoint: nil, model: tenfold)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.hasPrefix("the output shape [3] (after layers[10]) does not match the 10 classes"), "\(e)")
        }
    }
}

/// Issue 14: the digits checkpoint omitted the /16 pixel scaling, so the README's PyTorch recipe
/// (stored pixels, standardised with the checkpoint's mean and std) scored 90.0% instead of 99.4%.
@Suite("Digits: the checkpoint records the pixel scale")
struct DigitsPreprocessingTests {
    @Test func recipeFromTheMetadataAlone() throws {
        let path = DataTestSupport.temporaryDirectory("digits-scale") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var o = TrainingOptions()
        o.epochs = 10
        o.hidden = [32]
        o.checkpointPath = path
        o.progress = .none
        try TrainingSession.run(o) { _ in }
        // The recipe, with nothing but the file: stored pixels 0...16, then each step of "preprocessing".
        let file = try SafetensorsFile(path: path)
        let pre = try JSON.parse(file.metadata["preprocessing"]!)
        #expect(pre["scale"]?.numberValue == 16)
        let mean = pre["standardize"]!["mean"]!.arrayValue!.map { $0.numberValue! }
        let std = pre["standardize"]!["std"]!.arrayValue!.map { $0.numberValue! }
        let (images, labels) = try Digits.idxFiles()
        let n = labels.shape[0]
        let scale = pre["scale"]?.numberValue ?? 1
        var x = [Double](repeating: 0, count: n * 64)
        for i in 0..<(n * 64) { x[i] = (Double(images.bytes[i]) / scale - mean[i % 64]) / std[i % 64] }
        let w0: Tensor<Double> = try file.tensor(named: "0.weight"), b0: Tensor<Double> = try file.tensor(named: "0.bias")
        let w2: Tensor<Double> = try file.tensor(named: "2.weight"), b2: Tensor<Double> = try file.tensor(named: "2.bias")
        let logits = matmul(relu(matmul(Tensor(shape: [n, 64], scalars: x), w0.transposed()) + b0), w2.transposed()) + b2
        let recipe = Trainer.predictedClasses(Tensor<Float>(logits))
        // Backprop's own predictions on the same images (the loader divides by 16; nothing is divided twice).
        let checkpoint = try Checkpoint.load(path: path)
        let data = try Digits.load()
        let ours = Trainer.predictedClasses(noGrad { checkpoint.model(checkpoint.input(data.features, featureScale: data.featureScale)) })
        #expect(recipe == ours)
        let accuracy = Double(zip(recipe, labels.bytes).filter { $0 == Int($1) }.count) / Double(n)
        #expect(accuracy > 0.9, "\(accuracy)")
        // predict --input takes stored pixels too: example 0's 0...16 values give example 0's class.
        let raw = (0..<64).map { String(images.bytes[$0]) }.joined(separator: ",")
        let row = try Inference.predict(checkpoint: path, input: raw).split(separator: "\n")[1]
        #expect(row.hasPrefix("\(ours[0]),"), "\(row)")
    }
}

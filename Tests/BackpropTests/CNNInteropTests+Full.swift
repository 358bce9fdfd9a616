import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining

/// The full-size model of examples/fashion-cnn.json between Backprop and PyTorch, both ways, on the 10,000
/// official test images: fixtures made by `scripts/check_fashion_cnn_checkpoint.py --full CHECKPOINT` from the
/// checkpoint of the README's command. The test images come from Debian's `dataset-fashion-mnist` (CI installs
/// it); without them the tests say so and pass. A debug build compares the first 2,000 images (about 1 minute
/// of CPU time for all 10,000 both ways); `BACKPROP_FASHION_TEST_IMAGES=10000` compares all of them.
extension CNNInteropTests {
    /// How many of the official test images the tests predict (the fixture has PyTorch's classes for all 10,000).
    static let fullImageCount = ProcessInfo.processInfo.environment["BACKPROP_FASHION_TEST_IMAGES"].flatMap { Int($0) }
        .map { min(max($0, 16), 10_000) } ?? 2_000

    static let fullSwiftPath = DataTestSupport.fixture("conv/fashion_cnn_full.safetensors")
    static let fullTorchPath = DataTestSupport.fixture("conv/torch_fashion_cnn_full.safetensors")

    /// The fixture's record for one direction (`swift_checkpoint` or `torch_state_dict`).
    static func fullExpected(_ key: String) throws -> [String: Any] {
        try PyTorchFixture.object("conv/fashion_cnn_full_expected.json")[key] as! [String: Any]
    }

    /// The first ``fullImageCount`` images of the official test set (flat rows of pixels / 255) and their labels,
    /// or `nil` (with a note) when Fashion-MNIST is not installed.
    static func officialTestSet() throws -> (features: Tensor<Float>, featureScale: Double?, labels: [Int])? {
        guard FashionMNIST.hasFiles(folder: FashionMNIST.defaultFolder) else {
            print("note: \(FashionMNIST.defaultFolder) is missing (`\(FashionMNIST.installCommand)`): "
                  + "the 10,000-image comparison with PyTorch is skipped")
            return nil
        }
        let test = try FashionMNIST.load(split: .test, layout: .flat)
        #expect(test.count == 10_000)
        return (test.features.sliced(axis: 0, 0..<fullImageCount), test.featureScale,
                test.targets.scalars.prefix(fullImageCount).map { Int($0) })
    }

    /// Evaluation-mode logits of `model` on the preprocessed images `x`, 500 at a time.
    static func logits(_ model: Sequential<Float>, _ x: Tensor<Float>) -> Tensor<Float> {
        model.eval()
        let parts = noGrad {
            stride(from: 0, to: x.shape[0], by: 500).map { model(x.sliced(axis: 0, $0..<min($0 + 500, x.shape[0]))) }
        }
        return Tensor.concatenated(parts, axis: 0)
    }

    /// PyTorch's classes for the 10,000 test images, from the fixture.
    static func theirPredictions(_ expected: [String: Any]) -> [Int] {
        (expected["predictions"] as! String).map { Int(String($0))! }
    }

    /// Our classes against PyTorch's: the same everywhere but at the fixture's near ties (two logits within
    /// 1e-3, where float rounding may pick either), and the same number correct up to those.
    static func expectSamePredictions(_ logits: Tensor<Float>, _ labels: [Int], _ expected: [String: Any]) throws {
        let theirs = Array(theirPredictions(expected).prefix(labels.count))
        let ours = Trainer.predictedClasses(logits)
        #expect(ours.count == labels.count && theirs.count == labels.count)
        let ties = Set(expected["near_ties"] as! [Int])
        let differing = (0..<ours.count).filter { ours[$0] != theirs[$0] }
        #expect(differing.allSatisfy(ties.contains), "images predicted differently: \(differing.prefix(10))")
        let correct = zip(ours, labels).filter { $0 == $1 }.count
        let theirCorrect = zip(theirs, labels).filter { $0 == $1 }.count
        #expect(abs(correct - theirCorrect) <= ties.count, "\(correct) correct, PyTorch \(theirCorrect)")
        expectClose(Tensor<Double>(logits.sliced(axis: 0, 0..<16)), try PyTorchFixture.tensor(expected["logits"]),
                    atol: 1e-4, rtol: 1e-4, "logits of the first 16 images")
    }

    @Test("The README command's checkpoint (optimizer state dropped): PyTorch's test predictions are ours (first 2,000 images in debug)")
    func fullSwiftToTorch() throws {
        let expected = try Self.fullExpected("swift_checkpoint")
        let checkpoint = try Checkpoint.load(path: Self.fullSwiftPath)
        let example = try ModelSpec(json: FileIO.readText(path: DataTestSupport.repositoryRoot + "/examples/fashion-cnn.json"))
        #expect(checkpoint.spec.layers == example.layers && checkpoint.spec.inputShape == [1, 28, 28])
        #expect(checkpoint.preprocessing.classNames == FashionMNIST.classNames)
        // Trained with the example's recipe (the bare command: no flags but the dataset and the model).
        let options = expected["options"] as! [String: Any]
        #expect(options["epochs"] as? Int == example.training?.epochs && options["schedule"] as? String == "cosine")
        #expect(options["validation_split"] as? Double == 0)
        #expect((expected["test_accuracy"] as! Double) >= 0.91)
        guard let test = try Self.officialTestSet() else { return }
        let logits = Self.logits(checkpoint.model, checkpoint.input(test.features, featureScale: test.featureScale))
        try Self.expectSamePredictions(logits, test.labels, expected)
        // The accuracy train printed and recorded is PyTorch's on all 10,000 images (and ours, where we predicted all).
        #expect(expected["correct"] as? Int == 9126 && abs(9126.0 / 10_000 - (expected["test_accuracy"] as! Double)) < 1e-9)
        if test.labels.count == 10_000 {
            #expect(zip(Trainer.predictedClasses(logits), test.labels).filter { $0 == $1 }.count == 9126)
        }
    }

    @Test("A full-size state dict PyTorch trained loads (strict) and gives PyTorch's test predictions (first 2,000 images in debug)")
    func fullTorchToSwift() throws {
        let expected = try Self.fullExpected("torch_state_dict")
        let spec = try ModelSpec(json: FileIO.readText(path: DataTestSupport.repositoryRoot + "/examples/fashion-cnn.json"))
        try spec.checkTensors(of: SafetensorsFile(path: Self.fullTorchPath))   // the spec's tensors, nothing else
        let model = spec.makeModel(seed: 99)
        try Checkpoint.loadWeights(into: model, from: Self.fullTorchPath)
        #expect(model.stateDict()["1.num_batches_tracked"]?.item == Float(expected["num_batches_tracked"] as! Int))
        guard let test = try Self.officialTestSet() else { return }
        let x = Preprocessing(scale: 255, inputShape: [1, 28, 28]).apply(test.features, featureScale: test.featureScale)
        try Self.expectSamePredictions(Self.logits(model, x), test.labels, expected)
    }
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining

/// A CNN checkpoint (batch norms included) between Backprop and PyTorch, both ways, through the README's
/// recipe: fixtures made by scripts/check_fashion_cnn_checkpoint.py on the tiny Fashion-MNIST images.
@Suite("CNN checkpoints: Backprop <-> PyTorch")
struct CNNInteropTests {
    static let swiftPath = DataTestSupport.fixture("conv/swift_fashion_cnn.safetensors")
    static let torchPath = DataTestSupport.fixture("conv/torch_fashion_cnn.safetensors")

    /// The 4 test images of the tiny fixture as the loader gives them (pixels / 255).
    static func testImages() throws -> TensorDataset<Float> {
        try MNIST.load(folder: CNNTrainingTests.folder, split: .test)
    }

    @Test("PyTorch loaded the checkpoint `train` wrote with strict=True, and its logits are ours")
    func swiftToTorch() throws {
        if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil {
            // `train` on the tiny images with the model fashion_cnn(4, 8); then run the Python script.
            _ = try CNNTrainingTests.train(epochs: 2, checkpoint: Self.swiftPath)
        }
        let expected = try PyTorchFixture.object("conv/fashion_cnn_expected.json")["swift_checkpoint"] as! [String: Any]
        let checkpoint = try Checkpoint.load(path: Self.swiftPath)
        #expect(checkpoint.spec == (try ModelSpec(json: ModelSpecInputShapeTests.cnnJSON)))
        #expect(expected["num_batches_tracked"] as? Int == 4)   // 2 epochs of 2 batches (5 images, batch 4)
        let pre = expected["preprocessing"] as! [String: Any]
        #expect(pre["scale"] as? Int == 255 && pre["input_shape"] as? [Int] == [1, 28, 28])
        let test = try Self.testImages()
        let logits = noGrad { checkpoint.model(checkpoint.input(test.features, featureScale: test.featureScale)) }
        expectClose(Tensor<Double>(logits), try PyTorchFixture.tensor(expected["logits"]), atol: 1e-5, rtol: 1e-5, "logits")
        #expect(Trainer.predictedClasses(logits) == (try PyTorchFixture.indices(expected["predictions"])))
        // predict on the stored bytes (what PyTorch's recipe reads) gives the same classes.
        let bytes = Tensor<Float>(shape: [test.count, 784], scalars: test.features.scalars.map { ($0 * 255).rounded() })
        let rows = Inference.predictionsCSV(checkpoint, features: bytes).split(separator: "\n").dropFirst()
        #expect(rows.map { Int($0.split(separator: ",")[0])! } == (try PyTorchFixture.indices(expected["predictions"])))
    }

    @Test("A state dict PyTorch trained (running statistics, I64 counter) loads and gives PyTorch's logits")
    func torchToSwift() throws {
        let expected = try PyTorchFixture.object("conv/fashion_cnn_expected.json")["torch_state_dict"] as! [String: Any]
        let spec = try ModelSpec(json: ModelSpecInputShapeTests.cnnJSON)
        let file = try SafetensorsFile(path: Self.torchPath)
        try spec.checkTensors(of: file)   // the spec's parameters and buffers, nothing else
        let model = spec.makeModel(seed: 99)
        try Checkpoint.loadWeights(into: model, from: Self.torchPath)
        model.eval()
        #expect(model.stateDict()["1.num_batches_tracked"]?.item == 5)
        expectClose(Tensor<Double>(model.stateDict()["1.running_mean"]!), try PyTorchFixture.tensor(expected["running_mean_1"]),
                    atol: 1e-7, rtol: 1e-6, "running_mean")
        let test = try Self.testImages()
        let x = Preprocessing(scale: 255, inputShape: [1, 28, 28]).apply(test.features, featureScale: test.featureScale)
        let logits = noGrad { model(x) }
        expectClose(Tensor<Double>(logits), try PyTorchFixture.tensor(expected["logits"]), atol: 1e-5, rtol: 1e-5, "logits")
        #expect(Trainer.predictedClasses(logits) == (try PyTorchFixture.indices(expected["predictions"])))
    }
}

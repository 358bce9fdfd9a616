import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining

/// The layers of a CNN: PyTorch's defaults, buffers in the state dict, train/eval,
/// and state dicts that go both ways between PyTorch and Backprop.
@Suite("Convolution, pooling and normalization layers")
struct ConvolutionLayerTests {
    /// nn.Sequential(Conv2d(1,4,3), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(), Linear(36,3)).
    func smallCNN(seed: UInt64 = 0) -> Sequential<Float> {
        var rng = SeededGenerator(seed: seed)
        return Sequential<Float>(Conv2d(1, 4, kernelSize: 3, generator: &rng), BatchNorm2d(4), ReLU(), MaxPool2d(kernelSize: 2),
                                 Flatten(), Linear(36, 3, generator: &rng))
    }

    @Test func defaultsAndInitialisation() {
        var rng = SeededGenerator(seed: 1)
        let conv = Conv2d<Double>(6, 8, kernelSize: [3, 5], groups: 2, generator: &rng)
        #expect(conv.weight.shape == [8, 3, 3, 5] && conv.bias?.shape == [8])
        let bound = 1 / Double(3 * 3 * 5).squareRoot()   // fan_in = in/groups · kH · kW
        #expect(conv.weight.scalars.allSatisfy { abs($0) <= bound } && conv.bias!.scalars.allSatisfy { abs($0) <= bound })
        #expect(conv.weight.scalars.max()! > bound * 0.8 && conv.weight.scalars.min()! < -bound * 0.8)
        #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(Conv1d<Float>(2, 4, kernelSize: 3, bias: false).namedParameters().map(\.name) == ["weight"])
        let pool = MaxPool2d<Float>(kernelSize: 3)
        #expect(pool.stride == Size2(3) && pool.padding == Size2(0))
        let bn = BatchNorm2d<Float>(5)
        #expect(bn.weight!.scalars == [1, 1, 1, 1, 1] && bn.bias!.scalars == [0, 0, 0, 0, 0])
        #expect(bn.namedBuffers().map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(bn.runningVar!.value.scalars == [1, 1, 1, 1, 1] && bn.eps == 1e-5 && bn.momentum == 0.1)
        #expect(LayerNorm<Float>([4, 5]).namedParameters().map(\.tensor.shape) == [[4, 5], [4, 5]])
        #expect(Flatten<Float>()(Tensor.zeros([2, 3, 4, 5])).shape == [2, 60])
        #expect(AdaptiveAvgPool2d<Float>(outputSize: 1)(Tensor.ones([2, 3, 4, 5])).shape == [2, 3, 1, 1])
        #expect(Set(smallCNN().stateDict().keys) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                                     "1.num_batches_tracked", "5.weight", "5.bias"])
    }

    @Test func batchNormTrainEval() {
        let bn = BatchNorm1d<Double>(2, momentum: nil)   // cumulative average
        let a = Tensor<Double>([[1, 10], [3, 30]]), b = Tensor<Double>([[5, 0], [7, 0]])
        let y = bn(a)
        expectClose(y, Tensor([[-1, -1], [1, 1]]), rtol: 1e-4)
        _ = bn(b)
        #expect(bn.numBatchesTracked!.value.item == 2)
        // Cumulative: the plain average of the batch means (2, 20) and (6, 0), and of the unbiased variances (2, 200) and (2, 0).
        expectClose(bn.runningMean!.value, Tensor([4, 10]))
        expectClose(bn.runningVar!.value, Tensor([2, 100]))
        bn.eval()
        expectClose(bn(Tensor([[4, 10]])), Tensor([[0, 0]]), atol: 1e-12)
        #expect(bn.numBatchesTracked!.value.item == 2)
        bn.train()
        _ = bn(a)
        #expect(bn.numBatchesTracked!.value.item == 3)
    }

    @Test("PyTorch's CNN state dict (buffers, int64 counter) loads and gives PyTorch's outputs")
    func torchToSwift() throws {
        let expected = try PyTorchFixture.object("conv/torch_cnn.json")
        let model = smallCNN()
        let path = DataTestSupport.fixture("conv/torch_cnn.safetensors")
        let file = try SafetensorsFile(path: path)
        #expect(file.entry(named: "1.num_batches_tracked")?.dtype == .i64)
        try Checkpoint.loadWeights(into: model, from: path)
        let x = Tensor<Float>(try PyTorchFixture.tensor(expected["input"]))
        model.eval()
        let evalOut = Tensor<Double>(noGrad { model(x) })
        expectClose(evalOut, try PyTorchFixture.tensor(expected["eval_output"]), atol: 1e-5, rtol: 1e-5, "eval output")
        model.train()
        let trainOut = Tensor<Double>(noGrad { model(x) })
        expectClose(trainOut, try PyTorchFixture.tensor(expected["train_output"]), atol: 1e-5, rtol: 1e-5, "train output")
        let bn = model[1] as! BatchNorm2d<Float>
        expectClose(Tensor<Double>(bn.runningMean!.value), try PyTorchFixture.tensor(expected["running_mean_after"]), atol: 1e-6, rtol: 1e-5, "running_mean")
        expectClose(Tensor<Double>(bn.runningVar!.value), try PyTorchFixture.tensor(expected["running_var_after"]), atol: 1e-6, rtol: 1e-5, "running_var")
        #expect(Int(bn.numBatchesTracked!.value.item) == expected["num_batches_tracked_after"] as? Int)
    }

    /// A Swift-made CNN whose batch norm has seen two batches.
    func swiftCNN() -> Sequential<Float> {
        let model = smallCNN(seed: 5)
        var rng = SeededGenerator(seed: 6)
        for _ in 0..<2 { _ = noGrad { model(Tensor<Float>.randomNormal([4, 1, 8, 8], generator: &rng)) } }
        return model
    }

    @Test("CNN checkpoint written for PyTorch: buffers included, num_batches_tracked as I64, byte for byte")
    func swiftCheckpointBytes() throws {
        let bytes = Checkpoint.encodeState(of: swiftCNN(), metadata: ["format": "pt"])
        let path = DataTestSupport.fixture("conv/swift_cnn.safetensors")
        if ProcessInfo.processInfo.environment["BACKPROP_REGENERATE_FIXTURES"] != nil {
            try FileIO.writeAtomically(bytes, to: path)
        }
        #expect(try FileIO.readBytes(path: path) == bytes)
        let file = try SafetensorsFile(bytes: bytes, path: "swift_cnn")
        #expect(file.entry(named: "1.num_batches_tracked")?.dtype == .i64)
        #expect(try file.tensor(named: "1.num_batches_tracked", as: Double.self).item == 2)
    }

    @Test("PyTorch loaded the Swift CNN with strict=True and its predictions match ours")
    func swiftToTorch() throws {
        let expected = try PyTorchFixture.object("conv/swift_cnn_expected.json")
        #expect(expected["num_batches_tracked"] as? Int == 2)
        let model = smallCNN(seed: 99)
        try Checkpoint.loadWeights(into: model, from: DataTestSupport.fixture("conv/swift_cnn.safetensors"))
        model.eval()
        let y = Tensor<Double>(noGrad { model(Tensor<Float>(try! PyTorchFixture.tensor(expected["input"]))) })
        expectClose(y, try PyTorchFixture.tensor(expected["eval_output"]), atol: 1e-5, rtol: 1e-5, "eval output")
        // And the same model straight from swiftCNN(), without the file.
        let direct = swiftCNN()
        direct.eval()
        let y2 = Tensor<Double>(noGrad { direct(Tensor<Float>(try! PyTorchFixture.tensor(expected["input"]))) })
        expectClose(y2, y, atol: 0, rtol: 0, "direct model")
    }

    @Test func loadStateDictChecksBuffers() throws {
        let model = smallCNN()
        var dict = model.stateDict()
        dict["1.running_var"] = Tensor.ones([5])
        #expect(throws: StateDictError.self) { try model.loadStateDict(dict) }
        dict["1.running_var"] = nil
        #expect(throws: StateDictError.self) { try model.loadStateDict(dict) }
        try model.loadStateDict(dict, strict: false)
        dict["1.running_mean"] = Tensor([1, 2, 3, 4])
        dict["1.running_var"] = Tensor([1, 1, 1, 1])
        try model.loadStateDict(dict)
        #expect((model[1] as! BatchNorm2d<Float>).runningMean!.value.scalars == [1, 2, 3, 4])
        // stateDict is a snapshot: a later training step does not change it.
        let saved = model.stateDict()
        _ = model(Tensor<Float>.randomNormal([2, 1, 8, 8]))
        #expect(saved["1.running_mean"]!.scalars == [1, 2, 3, 4])
        #expect(saved["1.num_batches_tracked"]!.item == 0)
    }
}

/// The conv layers in the one layer description (LayerSpec): JSON with PyTorch's keys, shapes,
/// PyTorch code, and modules whose state dict matches PyTorch's.
@Suite("LayerSpec: convolution, pooling and normalization layers")
struct ConvolutionLayerSpecTests {
    let text = """
    {"layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": 3},
                {"type": "batch_norm2d", "num_features": 32},
                {"type": "relu"},
                {"type": "max_pool2d", "kernel_size": 2},
                {"type": "conv2d", "in_channels": 32, "out_channels": 64, "kernel_size": [3, 3], "padding": "same", "groups": 2},
                {"type": "avg_pool2d", "kernel_size": 2, "stride": 2, "padding": 1},
                {"type": "adaptive_avg_pool2d", "output_size": [5, 5]},
                {"type": "flatten"},
                {"type": "layer_norm", "normalized_shape": 1600},
                {"type": "linear", "in_features": 1600, "out_features": 10}]}
    """

    func layers() throws -> [LayerSpec] {
        let json = try JSON.parse(text, source: "cnn.json")
        return try json["layers"]!.arrayValue!.enumerated().map { try $1.decode(LayerSpec.self, source: "cnn.json", path: "layers[\($0)]") }
    }

    @Test func decodeShapesCodeAndModules() throws {
        let layers = try layers()
        var shape = [1, 28, 28]
        var shapes: [[Int]] = []
        for (i, l) in layers.enumerated() { shape = try l.outputShape(for: shape, path: "layers[\(i)]"); shapes.append(shape) }
        #expect(shapes == [[32, 26, 26], [32, 26, 26], [32, 26, 26], [32, 13, 13], [64, 13, 13], [64, 7, 7], [64, 5, 5], [1600], [1600], [10]])
        #expect(layers.map(\.pytorchCode) == ["nn.Conv2d(1, 32, kernel_size=3)", "nn.BatchNorm2d(32)", "nn.ReLU()", "nn.MaxPool2d(kernel_size=2)",
                                              "nn.Conv2d(32, 64, kernel_size=3, padding='same', groups=2)",
                                              "nn.AvgPool2d(kernel_size=2, stride=2, padding=1)", "nn.AdaptiveAvgPool2d(5)", "nn.Flatten()",
                                              "nn.LayerNorm([1600])", "nn.Linear(1600, 10)"])
        // JSON round trip.
        for l in layers { #expect(try JSON(encoding: l).decode(LayerSpec.self, source: "re", path: "x") == l) }
        let model = Sequential<Float>(describedBy: layers, seed: 1)
        #expect(noGrad { model(Tensor<Float>.zeros([2, 1, 28, 28])) }.shape == [2, 10])
        #expect(Set(model.stateDict().keys) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                                "1.num_batches_tracked", "4.weight", "4.bias", "8.weight", "8.bias", "9.weight", "9.bias"])
        #expect(model.parameterCount == layers.reduce(0) { $0 + $1.parameterCount })
    }

    @Test func errorsNameTheKey() throws {
        func decodeError(_ s: String) -> String {
            do { _ = try JSON.parse(s, source: "m.json").decode(LayerSpec.self, source: "m.json", path: "layers[0]"); return "" }
            catch { return "\(error)" }
        }
        #expect(decodeError(#"{"type": "conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 2}"#).contains("layers[0].groups"))
        #expect(decodeError(#"{"type": "conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": "full"}"#).contains("layers[0].padding"))
        #expect(decodeError(#"{"type": "max_pool2d", "kernel_size": 2, "padding": 2}"#).contains("layers[0].padding"))
        #expect(decodeError(#"{"type": "batch_norm2d", "num_features": 4, "affine": false}"#).contains("unknown key 'affine'"))
        #expect(throws: (any Error).self) { try LayerSpec.conv2d(inChannels: 3, outChannels: 4, kernelSize: 3).outputShape(for: [1, 28, 28]) }
    }
}

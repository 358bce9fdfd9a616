import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining

/// Fashion-MNIST loading on a 6 + 4 image copy of the real files
/// (Fixtures/conv/fashion-mnist-tiny, made by scripts/make_conv_fixtures.py).
@Suite("Fashion-MNIST")
struct FashionMNISTTests {
    let folder = DataTestSupport.fixture("conv/fashion-mnist-tiny")

    @Test func imagesForConvolutionAndRowsForDenseModels() throws {
        let expected = try PyTorchFixture.object("conv/fashion_tiny.json")
        for (split, key) in [(MNIST.Split.train, "train"), (.test, "t10k")] {
            let record = try #require(expected[key] as? [String: Any])
            let images = try FashionMNIST.load(folder: folder, split: split)
            let n = (record["labels"] as! [Int]).count
            #expect(images.features.shape == [n, 1, 28, 28])
            #expect(images.classIndicesOrNil == record["labels"] as? [Int])
            #expect(images.classNames?.first == "T-shirt/top" && images.classCount == 10)
            #expect(images.features.scalars.allSatisfy { (0...1).contains($0) })
            let sums = images.features.reshaped(to: [n, 784]).sum(axis: 1)
            expectClose(Tensor<Double>(sums), Tensor(record["pixel_sums"] as! [Double]), atol: 1e-3, rtol: 1e-5, "\(key) pixel sums")
            let flat = try FashionMNIST.load(folder: folder, split: split, layout: .flat)
            #expect(flat.features.shape == [n, 784] && flat.features.scalars == images.features.scalars)
        }
    }

    @Test func validationComesFromTheTrainingSet() throws {
        let data = try FashionMNIST.load(folder: folder, split: .train)
        let (train, validation) = data.trainValidationSplit(validationFraction: 1.0 / 3, seed: 1)
        #expect(train.count == 4 && validation.count == 2 && validation.features.shape == [2, 1, 28, 28])
    }

    @Test func missingFilesNameTheAptCommand() throws {
        do {
            _ = try FashionMNIST.load(folder: "/nonexistent/fashion", split: .train)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.description.contains("apt-get install dataset-fashion-mnist"), "\(e)")
            #expect(e.description.contains("/nonexistent/fashion"), "\(e)")
        }
        #expect(try DatasetSpec(parsing: "fashion-mnist") == .mnist(folder: FashionMNIST.defaultFolder, fashion: true))
        #expect(try DatasetSpec(parsing: "fashion-mnist:\(folder)") == .mnist(folder: folder, fashion: true))
    }
}

extension TensorDataset {
    var classIndicesOrNil: [Int]? { isClassification ? targets.scalars.map { Int($0) } : nil }
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropCLI

/// `fashion-mnist:DIR` is Fashion-MNIST from another folder, not plain MNIST: its name, its class names in
/// the checkpoint, and the apt hint when the files are missing.
@Suite("fashion-mnist:DIR keeps the Fashion-MNIST identity")
struct FashionMNISTIdentityTests {
    @Test func parsesAndPrintsAsFashionMNIST() throws {
        let folder = CNNTrainingTests.folder
        #expect("\(try DatasetSpec(parsing: "fashion-mnist:\(folder)"))" == "fashion-mnist:\(folder)")
        #expect("\(try DatasetSpec(parsing: "fashion-mnist"))" == "fashion-mnist")
        #expect("\(try DatasetSpec(parsing: "mnist:\(folder)"))" == "mnist:\(folder)")
        for text in ["fashion-mnist", "fashion-mnist:\(folder)", "mnist:\(folder)"] {
            let spec = try DatasetSpec(parsing: text)
            #expect(try DatasetSpec(parsing: spec.description) == spec, "\(text)")
        }
        // The class names come with the data, from any folder; plain MNIST has none.
        let data = try DatasetSpec(parsing: "fashion-mnist:\(folder)").load(.training, options: DatasetOptions())
        #expect(data.classNames == FashionMNIST.classNames && data.featureShape == [784])
        #expect(try DatasetSpec(parsing: "mnist:\(folder)").load(.training, options: DatasetOptions()).classNames != FashionMNIST.classNames)
    }

    @Test("train --dataset fashion-mnist:/nonexistent names the apt command")
    func missingFolderNamesTheAptCommand() {
        var output: [String] = [], errors: [String] = []
        let code = BackpropCommand.runMain(arguments: ["train", "--dataset", "fashion-mnist:/nonexistent/fashion", "--progress", "none"],
                                           output: { output.append($0) }, errorOutput: { errors.append($0) })
        #expect(code == 1)
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("error: /nonexistent/fashion: Fashion-MNIST is not there") == true, "\(errors)")
        #expect(errors.first?.contains("`apt-get install dataset-fashion-mnist` installs it in /usr/share/datasets/fashion-mnist") == true, "\(errors)")
    }

    @Test("the checkpoint of a run on fashion-mnist:DIR records the class names and the dataset")
    func checkpointRecordsClassNames() throws {
        let path = DataTestSupport.temporaryDirectory("fashion-identity") + "/cnn.safetensors"
        let (_, text) = try CNNTrainingTests.train(epochs: 1, checkpoint: path)
        #expect(text.hasPrefix("dataset fashion-mnist:\(CNNTrainingTests.folder): "), "\(text)")
        let checkpoint = try Checkpoint.load(path: path)
        #expect(checkpoint.preprocessing.classNames?.first == "T-shirt/top")
        #expect(checkpoint.preprocessing.classNames == FashionMNIST.classNames)
        #expect(checkpoint.training?["dataset"]?.stringValue == "fashion-mnist:\(CNNTrainingTests.folder)")
    }
}

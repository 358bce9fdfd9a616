import ArgumentParser
import Backprop

/// `backprop eval CHECKPOINT --dataset ...`: loss, accuracy and a confusion matrix.
public struct EvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Report loss, accuracy and a confusion matrix of a checkpoint on a dataset.",
        discussion: """
            The model is rebuilt from the checkpoint alone (its architecture is in the safetensors metadata).
            For the dataset it was trained on, the default scores the validation split made in training.
            Example: backprop eval digits.safetensors --dataset digits
            """
    )

    @Argument(help: "A safetensors checkpoint written by `backprop train`.")
    var checkpoint: String
    @Option(name: .long, help: "digits | spirals[:K] | moons | sine | blobs[:K] | mnist:FOLDER (test split) | csv:FILE (default: the dataset the checkpoint was trained on).")
    var dataset: String?
    @Option(name: .long, help: "CSV target column (default: the one used in training).")
    var target: String?
    @Option(name: .long, help: "auto | validation | train | all")
    var split = "auto"

    public init() {}

    /// Prints the checkpoint's scores on the chosen split; an unknown `--split` is an error.
    public func run() throws {
        guard let s = Inference.Split(rawValue: split) else { throw CLIError("--split \(split): use auto, validation, train or all") }
        print(try Inference.evaluate(checkpoint: checkpoint, dataset: dataset, target: target, split: s), terminator: "")
    }
}

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
    @Option(name: .long, help: "digits | spirals[:K] | moons | sine | blobs[:K] | mnist:FOLDER | fashion-mnist[:FOLDER] (test split) | csv:FILE (default: the dataset the checkpoint was trained on).",
            transform: ArgumentParsers.dataset)
    var dataset: DatasetSpec?
    @Option(name: .long, parsing: .unconditional, help: "CSV target column, a name or a 0-based index, -1 the last (default: the one used in training).")
    var target: String?
    @Option(name: .long, help: "Which examples to score: auto is the validation split for the dataset trained on, else all.")
    var split: Inference.Split = .auto

    public init() {}

    /// Prints the checkpoint's scores on the chosen split.
    public func run() throws {
        let text = try naming([.split: "--split", .target: "--target"]) {
            try Inference.evaluate(checkpoint: checkpoint, dataset: dataset, target: target, split: split)
        }
        print(text, terminator: "")
    }
}

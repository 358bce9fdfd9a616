import ArgumentParser
import Backprop

/// `backprop predict CHECKPOINT --csv FILE | --input 1,2,3`: predictions as CSV.
public struct PredictCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Write a checkpoint's predictions for a CSV file or one input.",
        discussion: """
            Classification prints the predicted class and the softmax probabilities; regression the values.
            Example: backprop predict moons.safetensors --input 0.5,-0.2
            """
    )

    @Argument(help: "A safetensors checkpoint written by `backprop train`.")
    var checkpoint: String
    @Option(name: .long, help: "A CSV file of inputs (feature columns by the names used in training, if it has a header).")
    var csv: String?
    @Option(name: .long, parsing: .unconditional, help: "One input, comma-separated: 0.5,-0.2")
    var input: String?
    @Option(name: .long, help: "Write the predictions to this file instead of standard output.")
    var output: String?

    public init() {}

    /// Requires exactly one of `--csv` and `--input`.
    public func validate() throws {
        guard (csv == nil) != (input == nil) else { throw ValidationError("give exactly one of --csv FILE or --input VALUES") }
    }

    /// Writes the predictions as CSV (a header, then one row per input), to `--output` or standard output.
    public func run() throws {
        let text = try naming([.input: "--input"]) {
            try csv.map { try Inference.predict(checkpoint: checkpoint, csv: $0) }
                ?? Inference.predict(checkpoint: checkpoint, input: input!)
        }
        if let output { try FileIO.writeText(text, to: output) } else { print(text, terminator: "") }
    }
}

import ArgumentParser
import Foundation
import Backprop

/// `backprop explain PROBLEM.json`: every number of one forward and backward pass.
public struct ExplainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show every number of a network's forward and backward pass.",
        discussion: """
        PROBLEM.json holds the layers, the loss, x and y, for example:

          {"layers": [{"type": "linear", "weight": [[1, 2], [2, 5], [7, 3]], "bias": [4, 2, 1]},
                      {"type": "relu"},
                      {"type": "linear", "weight": [[4, 1, 2], [3, 4, 1]], "bias": [5, 1]}],
           "loss": {"type": "mse", "reduction": "sum"},
           "x": [10, 5], "y": [320, 340]}

        Layer types: linear (weight out x in, bias), relu (scale), leaky_relu (negative_slope), tanh,
        sigmoid, softplus (beta, threshold), gelu (approximate: none or tanh), elu (alpha), silu,
        identity, softmax, log_softmax, dropout (p; the identity here); for CNNs, with the keys of
        torch.nn.functional: conv2d and conv1d (weight, bias, stride, padding, dilation, groups), max_pool2d
        and avg_pool2d (kernel_size, stride, padding), adaptive_avg_pool2d (output_size), flatten,
        batch_norm2d and batch_norm1d (weight, bias, running_mean, running_var, eps, momentum, training) and
        layer_norm (normalized_shape, weight, bias, eps). Loss types: mse, l2 (half the squared distance), l1,
        huber, bce, cross_entropy (y as class indices or as distributions); reduction mean (default; sum for
        l2) or sum. x and y may be one example (a point [n], [C, L], [C, H, W]) or a batch of them.

        A trained model instead of a file: --checkpoint FILE with --example N (example N of the data the
        checkpoint is evaluated on: the validation split of its training data) or --input 1,2,3 (raw
        features; the checkpoint's preprocessing is applied), and optionally --target (a class index or
        values; default: the example's label, or the model's predicted class for --input).
        """
    )

    @Argument(help: "The problem, a JSON file (or use --checkpoint).")
    var problem: String?

    @Option(help: "Explain a checkpoint written by `backprop train` instead of a problem file.")
    var checkpoint: String?

    @Option(help: "With --checkpoint: the index of an example of the checkpoint's evaluation data.")
    var example: Int?

    @Option(parsing: .unconditional, help: "With --checkpoint: one input's raw features, comma-separated.")
    var input: String?

    @Option(parsing: .unconditional, help: "With --checkpoint: the target, a class index or comma-separated values.")
    var target: String?

    @Option(help: "With --checkpoint --example: the dataset (default: the one the checkpoint was trained on).",
            transform: ArgumentParsers.dataset)
    var dataset: DatasetSpec?

    @Flag(help: "Print JSON (keys outputs, loss, gradients, jacobians, ...) instead of tables.")
    var json = false

    @Option(name: .customLong("step"), help: ArgumentHelp("Also show the parameters after one SGD step with this learning rate.", valueName: "LR"))
    var learningRate: Double?

    @Option(help: "float64 (default) or float32.")
    var dtype: ExplainDType = .float64

    @Option(help: ArgumentHelp("Also write a self-contained HTML page that steps through the forward and backward pass.", valueName: "OUT.html"))
    var html: String?

    public init() {}

    public func validate() throws {
        if checkpoint == nil {
            guard problem != nil else { throw ValidationError("give a problem file, or --checkpoint FILE with --example N or --input VALUES") }
            for (flag, given) in [("--example", example != nil), ("--input", input != nil), ("--target", target != nil),
                                  ("--dataset", dataset != nil)] where given {
                throw ValidationError("\(flag) applies only with --checkpoint")
            }
        } else {
            guard problem == nil else { throw ValidationError("give either a problem file or --checkpoint, not both") }
            guard (example == nil) != (input == nil) else {
                throw ValidationError("--checkpoint needs exactly one of --example N and --input VALUES")
            }
            if input != nil, dataset != nil { throw ValidationError("--dataset applies only with --example") }
            if let example, example < 0 { throw ValidationError("--example \(example): must be 0 or more") }
        }
    }

    /// Prints the report of ``explainFile(at:json:learningRate:dtype:)`` for the problem file, or of
    /// the checkpoint on one example.
    public func run() throws {
        let (report, source) = try checkpoint.map { try checkpointReport($0) } ?? naming([.learningRate: "--step"]) {
            (try explainReport(at: problem!, learningRate: learningRate, dtype: dtype), problem!)
        }
        if let html {
            try FileIO.writeText(report.htmlPage(source: source, omittedNote: "the same command with --json prints all its values").render(), to: html)
        }
        CommandOutput.write(json ? report.json() : report.text(source: source))
    }

    /// What the command prints for the checkpoint on one example or input.
    func explainCheckpoint(_ path: String) throws -> String {
        let (report, source) = try checkpointReport(path)
        return json ? report.json() : report.text(source: source)
    }

    /// The report of the checkpoint on one example or input, and how to name it.
    func checkpointReport(_ path: String) throws -> (ExplainReport, String) {
        if let learningRate, !learningRate.isFinite { throw CLIError("--step \(learningRate): expected a finite learning rate") }
        let loaded = try Checkpoint.load(path: path)
        var features: [Double]
        var label: ExplainTarget? = try target.map { try Self.target($0) }
        var source: String
        var featureScale: Double?   // what the dataset loader divided the stored values by
        if let example {
            let (data, spec, description) = try Inference.examples(for: loaded, path: path, dataset: dataset)
            guard example < data.count else {
                throw CLIError("--example \(example): \(spec) has \(data.count) examples here (\(description)); use 0..<\(data.count)")
            }
            features = data.features[example].scalars.map(Double.init)
            featureScale = data.featureScale
            if label == nil {
                if data.isClassification {
                    label = .classIndices(shape: [], indices: [Int(data.targets[example].scalars[0])])
                } else {
                    let y = data.targets[example]
                    label = .values(shape: [y.count], scalars: y.scalars.map(Double.init))
                }
            }
            source = "\(path), example \(example) of \(spec) (\(description))"
        } else {
            features = try input!.split(separator: ",", omittingEmptySubsequences: false).enumerated().map { i, item in
                guard let v = Double(item.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw CLIError("--input: value \(i + 1) '\(item.prefix(40))' is not a finite number")
                }
                return v
            }
            source = "\(path), input [\(input!)]"
        }
        if !loaded.spec.loss.isClassification, case let .classIndices(_, indices)? = label {
            label = .values(shape: [1], scalars: indices.map(Double.init))   // "3" for a regression model is the value 3
        }
        let problem: ExplainProblem
        do {
            problem = try ExplainProblem(checkpoint: loaded, features: features, target: label, featureScale: featureScale)
        } catch let e as ExplainError where e.path == "input" || e.path == "target" {
            throw CLIError("--\(e.path): \(e.message)")
        }
        return (try problem.explain(dtype: dtype, learningRate: learningRate), source)
    }

    /// `3` (a class index) or `0.5,1,2` (values).
    static func target(_ text: String) throws -> ExplainTarget {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = try items.map { item -> Double in
            guard let v = Double(item.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw CLIError("--target \(text.prefix(40)): '\(item.prefix(40))' is not a finite number")
            }
            return v
        }
        if values.count == 1, values[0] >= 0, values[0] == values[0].rounded(), !text.contains(".") {
            return .classIndices(shape: [], indices: [Int(values[0])])
        }
        return .values(shape: [values.count], scalars: values)
    }
}

extension ExplainDType: ExpressibleByArgument {}

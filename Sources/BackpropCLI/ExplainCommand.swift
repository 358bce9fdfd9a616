import ArgumentParser
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
        identity, softmax. Loss types: mse, l2 (half the squared distance), bce, cross_entropy
        (y as class indices or as distributions); reduction mean (default; sum for l2) or sum.
        x and y may be one point or a batch (a list of points).
        """
    )

    @Argument(help: "The problem, a JSON file.")
    var problem: String

    @Flag(help: "Print JSON (keys outputs, loss, gradients, jacobians, ...) instead of tables.")
    var json = false

    @Option(name: .customLong("step"), help: ArgumentHelp("Also show the parameters after one SGD step with this learning rate.", valueName: "LR"))
    var learningRate: Double?

    @Option(help: "float64 (default) or float32.")
    var dtype: ExplainDType = .float64

    @Option(help: ArgumentHelp("Also write a self-contained HTML page that steps through the forward and backward pass.", valueName: "OUT.html"))
    var html: String?

    public init() {}

    /// Prints the report of ``explainFile(at:json:learningRate:dtype:)`` for the problem file.
    public func run() throws {
        if let html {
            let report = try explainReport(at: problem, learningRate: learningRate, dtype: dtype)
            try FileIO.writeText(report.htmlPage(source: problem).render(), to: html)
        }
        print(try explainFile(at: problem, json: json, learningRate: learningRate, dtype: dtype), terminator: "")
    }
}

extension ExplainDType: ExpressibleByArgument {}

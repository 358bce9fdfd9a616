import ArgumentParser
import Backprop

/// The `backprop` command-line tool.
public struct BackpropCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Neural networks and backpropagation, every number visible.",
        version: Backprop.version,
        subcommands: [DemoCommand.self, ExplainCommand.self, GraphCommand.self, JacobianCommand.self,
                      PlotCommand.self, SoftmaxCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self,
                      BenchCommand.self]
    )
    public init() {}
}

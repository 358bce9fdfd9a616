import ArgumentParser
import Foundation
import Backprop

/// `backprop plot NAME... --range -4,4 --svg FILE`: activations and their
/// derivatives (by backpropagation through the library's ops), as SVG or CSV.
public struct PlotCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot activations and their first derivatives, computed by backpropagation through the library's own ops.",
        discussion: """
            Names: \(Activation.forms.filter { !$0.hasPrefix("softmax") && !$0.hasPrefix("log_softmax") && !$0.hasPrefix("identity") }.joined(separator: ", ")), identity.
            Example: backprop plot relu leaky_relu:0.1 softplus:1 gelu --range -4,4 --svg activations.svg
            """
    )

    @Argument(help: "Activations, e.g. relu leaky_relu:0.1 softplus:1 gelu.")
    var names: [String]

    @Option(name: .long, parsing: .unconditional, help: "The x range LO,HI.")
    var range: String = "-4,4"

    @Option(name: .long, help: "Number of points over the range.")
    var points: Int = 201

    @Option(name: .long, parsing: .unconditional, help: "Evaluate at exactly these points x1,x2,... instead of a range.")
    var at: String?

    @Option(name: .long, help: "Write the plot as SVG to this file.")
    var svg: String?

    @Flag(name: .long, help: "Print rows function,x,value,derivative.")
    var csv = false

    public init() {}

    /// Writes the SVG when `--svg` is given, and prints the CSV when `--csv` is set or there is no SVG.
    public func run() throws {
        let specs = try names.map { try Activation(plotting: $0) }
        let xs = try PlotCommand.points(range: range, count: points, at: at, functions: specs.count)
        if let svg { try FileIO.writeText(activationPlot(specs, at: xs).svg(), to: svg) }
        if csv || svg == nil { CommandOutput.write(activationCSV(specs, at: xs)) }
    }

    /// The x values: `--at` if given, else `count` points over `--range`. A `count` whose arrays cannot fit in
    /// memory (x, and for each of `functions` its input, value and derivative, Doubles) is refused before allocating.
    static func points(range: String, count: Int, at: String?, functions: Int = 1) throws -> [Double] {
        func numbers(_ text: String, option: String) throws -> [Double] {
            try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
                guard let v = Double(item.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw CLIError("\(option) \(text): \(DataError.quote(item)) is not a number")
                }
                return v
            }
        }
        if let at { return try numbers(at, option: "--at") }
        let bounds = try numbers(range, option: "--range")
        guard bounds.count == 2, bounds[0] < bounds[1] else {
            throw CLIError("--range \(range): expected LO,HI with LO < HI, e.g. -4,4")
        }
        guard count >= 2 else { throw CLIError("--points \(count): need at least 2") }
        if let problem = MemoryBudget.refusal(bytes: MemoryBudget.bytes([count, 1 + 3 * max(functions, 1)],
                                                                         elementSize: MemoryLayout<Double>.stride)) {
            throw CLIError("--points \(count): the points \(problem)")
        }
        return LinePlot.samplePoints(bounds[0]...bounds[1], count: count)
    }
}

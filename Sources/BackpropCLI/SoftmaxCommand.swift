import ArgumentParser
import Backprop
import Foundation

/// `backprop softmax VALUES --beta B1,B2,...`: softargmax and smooth maximum for each β.
public struct SoftmaxCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "softmax",
        abstract: "Softargmax (what libraries call softmax) and the smooth maximum (1/β) log Σ exp(β e_n), for each β.",
        discussion: "Example: backprop softmax 1,2,3 --beta 1,2,10,100  "
    )

    // `.allUnrecognized` lets a first value be negative (`-1,2,3`) without `--`.
    @Argument(parsing: .allUnrecognized, help: "The values e, comma-separated (or separate arguments), e.g. 1,2,3.")
    var values: [String] = []

    @Option(name: .long, parsing: .unconditional, help: "Inverse temperatures β, comma-separated.")
    var beta: String = "1,2,5,10,100"

    public init() {}

    /// Prints the table of ``output(values:betas:)``.
    public func run() throws {
        CommandOutput.write(try SoftmaxCommand.output(values: values.joined(separator: ","), betas: beta))
    }

    /// The text the command prints, for tests.
    public static func output(values: String, betas: String) throws -> String {
        guard !values.isEmpty else { throw CLIError("no values given; e.g. backprop softmax 1,2,3 --beta 1,10") }
        func numbers(_ text: String, _ what: String) throws -> [Double] {
            try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
                guard let v = Double(item.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw CLIError("\(what) \(text): \(DataError.quote(item)) is not a number")
                }
                return v
            }
        }
        return try naming([.betas: "--beta"]) {
            try softmaxReport(values: numbers(values, "values"), betas: numbers(betas, "--beta"))
        }
    }
}

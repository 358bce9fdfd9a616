import ArgumentParser
import Backprop

/// `backprop demo`: the lab's full network, forward and backward.
public struct DemoCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the lab's worked network (Linear, ReLU, Linear, squared error) forward and backward and print every number."
    )
    public init() {}

    /// Prints ``LabNetwork/report()``.
    public func run() throws {
        print(LabNetwork().report(), terminator: "")
    }
}

import ArgumentParser
import Backprop

/// `backprop demo`: the lab's full network, forward and backward.
public struct DemoCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the lab's network of SPEC §3 forward and backward and print every number."
    )
    public init() {}

    public func run() throws {
        print(LabNetwork().report(), terminator: "")
    }
}

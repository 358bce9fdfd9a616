import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

#if canImport(Glibc)
import Glibc
#endif

/// The `backprop` executable built next to the test bundle.
private let toolPath: String = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The test runner may be .build/debug/BackpropPackageTests.xctest (a file) or a bundle directory.
    for candidate in [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("backprop").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return DataTestSupport.repositoryRoot + "/.build/debug/backprop"
}()

/// Issue 14: SIGKILL in the middle of writing a checkpoint leaves the previous one intact.
@Suite("Checkpoints survive SIGKILL while being written")
struct CheckpointKillTests {
    @Test("backprop train killed while it writes its checkpoint: the previous checkpoint is intact",
          .enabled(if: FileManager.default.isExecutableFile(atPath: toolPath)))
    func killWhileWriting() throws {
        let dir = DataTestSupport.temporaryDirectory("kill")
        let path = dir + "/model.safetensors"
        // A checkpoint is written in one piece after training; feature names
        // (stored in its metadata) of 2 MB each make that write take long
        // enough to be caught, while training stays tiny.
        let names = (0..<4).map { i in "f\(i)_" + String(repeating: "abcdefgh", count: 250_000) }
        var csv = names.joined(separator: ",") + ",label\n"
        for r in 0..<40 { csv += (0..<4).map { c in String(Double((r * 7 + c * 3) % 11) / 10) }.joined(separator: ",") + ",\(r % 2)\n" }
        try FileIO.writeText(csv, to: dir + "/data.csv")

        let previous = Checkpoint(spec: ModelSpec(widths: [4, 3, 2]), model: ModelSpec(widths: [4, 3, 2]).makeModel(seed: 7))
        try previous.save(to: path)
        let previousBytes = try FileIO.readBytes(path: path)

        var killedMidWrite = 0
        for _ in 0..<5 where killedMidWrite == 0 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: toolPath)
            process.arguments = ["train", "--dataset", "csv:" + dir + "/data.csv", "--target", "label", "--layers", "4,3,2",
                                 "--epochs", "1", "--checkpoint", path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait for the temporary file of the atomic write, then kill at once.
            var sawTemporary = false
            while process.isRunning {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                if entries.contains(where: { $0.hasPrefix(".model.safetensors.tmp-") }) {
                    kill(process.processIdentifier, SIGKILL)
                    sawTemporary = true
                    break
                }
                usleep(200)
            }
            process.waitUntilExit()
            let entries = try FileManager.default.contentsOfDirectory(atPath: dir)
            let temporaries = entries.filter { $0.hasPrefix(".model.safetensors.tmp-") }
            if sawTemporary && process.terminationReason == .uncaughtSignal && !temporaries.isEmpty {
                // Killed before the rename: the previous checkpoint must be untouched.
                killedMidWrite += 1
                #expect(try FileIO.readBytes(path: path) == previousBytes)
                let restored = try Checkpoint.load(path: path)
                #expect(restored.model.stateDict() == previous.model.stateDict())
            } else {
                // Too late (or too early): whatever is there must be a whole checkpoint.
                _ = try Checkpoint.load(path: path)
                try previous.save(to: path)
            }
            for t in temporaries { try? FileManager.default.removeItem(atPath: dir + "/" + t) }
        }
        #expect(killedMidWrite > 0, "never caught the write in progress in 5 runs")
    }
}

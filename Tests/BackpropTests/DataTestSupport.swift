import Foundation
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Paths for the data/IO tests: committed fixtures (found next to this source
/// file, so they work without a resource bundle) and fresh temporary folders.
enum DataTestSupport {
    static let fixturesDirectory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    static let repositoryRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// `Fixtures/<relative>`.
    static func fixture(_ relative: String) -> String { fixturesDirectory + "/" + relative }

    /// A new empty directory under the system's temporary directory.
    static func temporaryDirectory(_ label: String = "data") -> String {
        let path = NSTemporaryDirectory() + "backprop-\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The message of the `DataError` thrown by `body`, or `nil` when it does not throw one.
    static func dataErrorMessage(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let e as DataError {
            return e.description
        } catch {
            return "unexpected error type: \(error)"
        }
    }

    /// The fixture JSON file parsed.
    static func json(_ relative: String) throws -> JSON {
        try JSON.parse(bytes: FileIO.readBytes(path: fixture(relative)), source: relative)
    }
}

extension JSON {
    /// A nested numeric array flattened, row-major.
    var flatNumbers: [Double] {
        switch self {
        case .number(let n): return [n]
        case .array(let items): return items.flatMap { $0.flatNumbers }
        default: return []
        }
    }
}

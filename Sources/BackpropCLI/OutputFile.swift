import Foundation

/// Writing a command's output file: the text goes to a temporary file in the
/// same directory, which is then renamed over the destination, so a reader
/// never sees half a file and a failed write leaves the old file intact.
enum OutputFile {
    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw WriteError(description: "cannot write \(path): \(reason)")
        }
    }
}

/// Where `graph`, `jacobian`, `softmax`, `explain` and `plot` write what they print: standard
/// output, or, within ``CommandOutput/$sink``'s `withValue`, a closure (a test that runs the command
/// in-process and compares its output, as the README shows it).
///
/// ```swift
/// let text = Mutex("")
/// CommandOutput.$sink.withValue({ s in text.withLock { $0 += s } }) {
///     _ = BackpropCommand.runMain(arguments: ["softmax", "1,2,3"])
/// }
/// ```
enum CommandOutput {
    /// Receives the text instead of standard output, for the current task; `nil` prints.
    @TaskLocal static var sink: (@Sendable (String) -> Void)?

    /// Writes `text` as is (no newline added).
    static func write(_ text: String) {
        if let sink { sink(text) } else { print(text, terminator: "") }
    }
}

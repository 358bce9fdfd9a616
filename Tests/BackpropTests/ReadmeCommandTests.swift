import Foundation
import Synchronization
import Testing
@testable import BackpropCLI

/// A command the README shows with its output: a line `$ backprop SUBCOMMAND ...` (or `$ swift run
/// backprop ...`, continued by a trailing `\`) inside a fenced block, and the lines after it up to the
/// next `$ ` line or the closing fence. A line `...` in the output stands for any number of lines.
struct ReadmeCommand: CustomStringConvertible {
    /// 1-based line of the `$ ` line in README.md.
    var line: Int
    /// The words after `backprop`, as the shell splits them.
    var arguments: [String]
    var expected: [String]
    var description: String { "README.md:\(line): backprop \(arguments.joined(separator: " "))" }
}

enum ReadmeSupport {
    static let root = DataTestSupport.repositoryRoot
    static func readme() throws -> String { try String(contentsOfFile: root + "/README.md", encoding: .utf8) }

    /// The README's commands of these subcommands with the output it shows.
    static func commands(subcommands: Set<String>) throws -> [ReadmeCommand] {
        let lines = try readme().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [ReadmeCommand] = []
        var inFence = false
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.hasPrefix("```") { inFence.toggle(); i += 1; continue }
            guard inFence, line.hasPrefix("$ ") else { i += 1; continue }
            let start = i
            var command = String(line.dropFirst(2))
            while command.hasSuffix("\\"), i + 1 < lines.count {
                i += 1
                command = String(command.dropLast()) + " " + lines[i].trimmingCharacters(in: .whitespaces)
            }
            i += 1
            var expected: [String] = []
            while i < lines.count, !lines[i].hasPrefix("```"), !lines[i].hasPrefix("$ ") { expected.append(lines[i]); i += 1 }
            var words = try shellWords(command)
            if words.starts(with: ["swift", "run"]) { words.removeFirst(2) }
            if words.starts(with: ["-c", "release"]) { words.removeFirst(2) }
            guard words.first == "backprop" || words.first == ".build/release/backprop" || words.first == ".build/debug/backprop",
                  words.count > 1, subcommands.contains(words[1]) else { continue }
            found.append(ReadmeCommand(line: start + 1, arguments: Array(words.dropFirst()), expected: expected))
        }
        return found
    }

    /// Splits a command line as a POSIX shell does for the README's commands: words separated by blanks,
    /// double and single quotes (`"a b"`, `'a'`), backslash escapes outside single quotes, and quoted and
    /// unquoted parts joined into one word (`"W1=[[1,2]]",x=[1]`). No variables, globs or operators,
    /// which the README's commands do not use.
    static func shellWords(_ text: String) throws -> [String] {
        struct Unbalanced: Error { let text: String }
        var words: [String] = []
        var word: String?
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped { word = (word ?? "") + String(c); escaped = false; continue }
            switch (quote, c) {
            case (nil, "\\"), ("\"", "\\"): escaped = true
            case (nil, "\""), (nil, "'"): quote = c; word = word ?? ""
            case ("\"", "\""), ("'", "'"): quote = nil
            case (nil, " "), (nil, "\t"): if let w = word { words.append(w); word = nil }
            default: word = (word ?? "") + String(c)
            }
        }
        guard quote == nil, !escaped else { throw Unbalanced(text: text) }
        if let word { words.append(word) }
        return words
    }

    /// Runs `backprop ARGUMENTS` in-process; what the command prints, and its error line.
    static func run(_ arguments: [String]) -> (code: Int32, output: String, errors: [String]) {
        final class Text: Sendable { let value = Mutex("") }
        let text = Text()
        var errors: [String] = []
        let code = CommandOutput.$sink.withValue({ s in text.value.withLock { $0 += s } }) {
            BackpropCommand.runMain(arguments: arguments, output: { s in text.value.withLock { $0 += s + "\n" } },
                                    errorOutput: { errors.append($0) })
        }
        return (code, text.value.withLock { $0 }, errors)
    }

    /// Runs a README command from the repository's root: arguments that name a file under the root
    /// become absolute paths, and the root is taken out of the output again.
    static func runFromRoot(_ arguments: [String]) -> (code: Int32, output: String, errors: [String]) {
        let absolute = arguments.map { FileManager.default.fileExists(atPath: root + "/" + $0) && !$0.hasPrefix("-") ? root + "/" + $0 : $0 }
        let result = run(absolute)
        return (result.code, result.output.replacingOccurrences(of: root + "/", with: ""), result.errors)
    }

    /// Where `expected` (README lines, `...` skipping any number of output lines) and `output` differ;
    /// empty when they agree. Without a final `...` the output must end where the README's lines end.
    static func differences(expected: [String], output: String) -> [String] {
        var actual = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if actual.last == "" { actual.removeLast() }
        var k = 0
        var skipping = false
        for line in expected {
            if line == "..." { skipping = true; continue }
            if skipping {
                guard let found = actual[k...].firstIndex(of: line) else { return ["README line not in the output after its line \(k): \(line)"] }
                k = found + 1
                skipping = false
            } else {
                guard k < actual.count, actual[k] == line else {
                    return ["output line \(k + 1) is \(k < actual.count ? "\"\(actual[k])\"" : "missing"); the README has \"\(line)\""]
                }
                k += 1
            }
        }
        if !skipping && k < actual.count { return ["the output goes on after the README's last line: \"\(actual[k])\""] }
        return []
    }
}

@Suite("README: every command shown with its output prints that output")
struct ReadmeCommandTests {
    static let shown = (try? ReadmeSupport.commands(subcommands: ["graph", "jacobian", "softmax", "explain", "plot"])) ?? []

    @Test("the README shows graph, jacobian, softmax and explain with their outputs")
    func commandsFound() throws {
        let subcommands = Self.shown.map { $0.arguments[0] }
        #expect(Set(subcommands).isSuperset(of: ["graph", "jacobian", "softmax", "explain"]), "\(Self.shown)")
        #expect(Self.shown.count >= 5 && Self.shown.allSatisfy { $0.expected.count >= 3 }, "\(Self.shown)")
    }

    @Test("the command's real output is the README's (\"...\" skips lines)", arguments: shown)
    func output(_ command: ReadmeCommand) {
        let result = ReadmeSupport.runFromRoot(command.arguments)
        #expect(result.code == 0 && result.errors.isEmpty, "\(command): \(result.errors)")
        let differences = ReadmeSupport.differences(expected: command.expected, output: result.output)
        #expect(differences.isEmpty, "\(command): \(differences.joined(separator: "; "))")
    }

    @Test("the comparison skips at \"...\" and finds a changed or missing line")
    func comparison() {
        let output = "a\nb\nc\nd\n"
        #expect(ReadmeSupport.differences(expected: ["a", "b", "c", "d"], output: output).isEmpty)
        #expect(ReadmeSupport.differences(expected: ["a", "...", "d"], output: output).isEmpty)
        #expect(ReadmeSupport.differences(expected: ["a", "b", "..."], output: output).isEmpty)
        #expect(ReadmeSupport.differences(expected: ["a", "x", "c", "d"], output: output) == ["output line 2 is \"b\"; the README has \"x\""])
        #expect(ReadmeSupport.differences(expected: ["a", "b", "c"], output: output) == ["the output goes on after the README's last line: \"d\""])
        #expect(ReadmeSupport.differences(expected: ["a", "...", "x"], output: output) == ["README line not in the output after its line 1: x"])
    }

    @Test("README command lines split as the shell splits them")
    func shellWords() throws {
        #expect(try ReadmeSupport.shellWords(#"backprop graph "a = x*y + z; w = a" --at x=1,y=2"#)
                == ["backprop", "graph", "a = x*y + z; w = a", "--at", "x=1,y=2"])
        #expect(try ReadmeSupport.shellWords(#"--at "W1=[[1,2],[3,4]]","W2=[[0,1],[1,1]]",x=[1,-1]"#)
                == ["--at", "W1=[[1,2],[3,4]],W2=[[0,1],[1,1]],x=[1,-1]"])
        #expect(try ReadmeSupport.shellWords(#"a 'b "c"' d\ e """#) == ["a", "b \"c\"", "d e", ""])
        #expect(throws: (any Error).self) { try ReadmeSupport.shellWords(#"a "b"#) }
    }

    /// The README's plot command (shown without output) writes the committed docs/activations.svg.
    @Test("the README's plot command draws the committed docs/activations.svg")
    func activationsSVG() throws {
        let readme = try ReadmeSupport.readme()
        let line = try #require(readme.split(separator: "\n").first { $0.hasPrefix("backprop plot ") && $0.contains("--svg docs/activations.svg") })
        let dir = DataTestSupport.temporaryDirectory("readme-plot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let arguments = try ReadmeSupport.shellWords(String(line)).dropFirst()
            .map { $0 == "docs/activations.svg" ? dir + "/activations.svg" : $0 }
        let result = ReadmeSupport.run(Array(arguments))
        #expect(result.code == 0 && result.errors.isEmpty && result.output.isEmpty, "\(result)")
        let drawn = try String(contentsOfFile: dir + "/activations.svg", encoding: .utf8)
        let committed = try String(contentsOfFile: ReadmeSupport.root + "/docs/activations.svg", encoding: .utf8)
        let same = drawn == committed   // (not inside #expect, which would print both files)
        #expect(same, "docs/activations.svg is not the current drawing; regenerate: swift run backprop \(arguments.dropLast().joined(separator: " ")) docs/activations.svg")
    }
}

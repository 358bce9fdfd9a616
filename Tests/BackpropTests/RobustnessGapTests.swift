// Issue 14, the gaps its audit left: checkpoint metadata that trapped or ran away, sizes from options
// allocated before they were checked, NaN/inf from literals and preprocessing, file names and control
// bytes in messages, pointers to documents outside the repository.
import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

private func run(_ arguments: [String]) -> (code: Int32, output: [String], errors: [String]) {
    var output: [String] = [], errors: [String] = []
    let code = BackpropCommand.runMain(arguments: arguments, output: { output.append($0) }, errorOutput: { errors.append($0) })
    return (code, output, errors)
}

/// A 2 -> 4 -> 2 classifier checkpoint with the given `training` and `preprocessing` metadata.
private func checkpoint(training: String, preprocessing: Preprocessing = Preprocessing(), name: String = "m") throws -> String {
    let spec = ModelSpec(widths: [2, 4, 2])
    let c = Checkpoint(spec: spec, model: spec.makeModel(seed: 1), preprocessing: preprocessing,
                       training: try JSON.parse(training, source: "test"))
    let path = DataTestSupport.temporaryDirectory("robust") + "/\(name).safetensors"
    try c.save(to: path)
    return path
}

@Suite("Checkpoint metadata: recorded seed, samples and split checked before use")
struct RecordedTrainingTests {
    @Test("a negative seed or sample count, or a split outside [0, 1), is an error naming the file and the key, in eval, predict and explain")
    func outOfRange() throws {
        let cases: [(String, String)] = [
            (#"{"dataset":"moons","seed":-1}"#, "__metadata__.training.seed: must be an integer from 0 to 18446744073709551615, got -1"),
            (#"{"dataset":"moons","seed":1.5}"#, "__metadata__.training.seed: must be an integer from 0 to 18446744073709551615, got 1.5"),
            (#"{"dataset":"moons","samples":-5}"#, "__metadata__.training.samples: must be a positive integer, got -5"),
            (#"{"dataset":"moons","samples":0}"#, "__metadata__.training.samples: must be a positive integer, got 0"),
            (#"{"dataset":"moons","samples":"many"}"#, #"__metadata__.training.samples: must be a positive integer, got "many""#),
            (#"{"dataset":"moons","validation_split":1.5}"#, "__metadata__.training.validation_split: must be a number in [0, 1), got 1.5"),
        ]
        for (training, message) in cases {
            let path = try checkpoint(training: training)
            for arguments in [["eval", path], ["predict", path], ["explain", "--checkpoint", path, "--example", "0"]] {
                let r = run(arguments)
                #expect(r.code == 1 && r.errors == ["error: \(path): \(message)"], "\(arguments) \(training): \(r.errors)")
            }
        }
    }

    @Test("a sample count of 1e14 is refused with the bytes it would need, before generating")
    func hugeSamples() throws {
        let path = try checkpoint(training: #"{"dataset":"moons","samples":100000000000000}"#)
        let r = run(["eval", path])
        #expect(r.code == 1)
        #expect(r.errors.count == 1 && r.errors[0].hasPrefix(
            "error: \(path): __metadata__.training.samples: 100000000000000 examples would need 3.2 PB (3200000000000000 bytes); this machine has "),
            "\(r.errors)")
        // A recorded seed above Int.max (UInt64) and the recorded count still work.
        let big = try Inference.RecordedTraining(JSON.parse(#"{"seed": 1e19, "samples": 12, "validation_split": 0.25}"#, source: "t"), path: "t")
        #expect(big.seed == 10_000_000_000_000_000_000 && big.samples == 12 && big.validationSplit == 0.25)
        #expect(throws: DataError(path: "t", "__metadata__.training.samples: 13 is more than the limit of 12")) {
            try Inference.RecordedTraining(JSON.parse(#"{"samples": 13}"#, source: "t"), path: "t", maximumSamples: 12)
        }
    }

    @Test("the recorded values pick the examples: 40 moons, a validation split of 10")
    func recordedValuesUsed() throws {
        let path = try checkpoint(training: #"{"dataset":"moons","seed":7,"samples":40,"validation_split":0.25}"#)
        let loaded = try Checkpoint.load(path: path)
        let (all, _, _) = try Inference.examples(for: loaded, path: path, split: .all)
        #expect(all.count == 40)
        let moons = Synthetic.twoMoons(count: 40, noise: 0.1, seed: 7 &+ 1_000_003)
        #expect(all.features.scalars == moons.features.scalars)
    }
}

@Suite("Sizes from options are checked before allocating")
struct OptionSizeTests {
    @Test("plot --points, bench --allreduce and train --samples of 1e14: one line with the bytes needed")
    func hugeOptionSizes() {
        // (arguments, exit code, the error line up to the machine's memory, what follows it)
        let cases: [([String], Int32, String, String)] = [
            (["plot", "tanh", "--points", "100000000000000"], 1,
             "error: --points 100000000000000: the points would need 3.2 PB (3200000000000000 bytes); this machine has ", " of memory"),
            (["bench", "--allow-debug", "--allreduce", "100000000000000"], 1,
             "error: bench: --allreduce 100000000000000: the three buffers of 100000000000000 floats would need 1.2 PB (1200000000000000 bytes); this machine has ",
             " of memory"),
            (["train", "--dataset", "moons", "--samples", "100000000000000", "--epochs", "1"], 64,
             "error: --samples: 100000000000000 samples would need 3.2 PB (3200000000000000 bytes); this machine has ",
             " of memory (see 'backprop help train')"),
        ]
        for (arguments, code, prefix, suffix) in cases {
            let r = run(arguments)
            #expect(r.code == code && r.errors.count == 1 && r.errors[0].hasPrefix(prefix) && r.errors[0].hasSuffix(suffix),
                    "\(arguments): \(r.errors)")
        }
        // Within memory: still accepted.
        #expect(DatasetOptions.samplesRefusal(1_000_000) == nil)
        #expect(throws: Never.self) { _ = try PlotCommand.points(range: "-1,1", count: 1_000, at: nil, functions: 3) }
    }
}

@Suite("No NaN or infinity accepted silently")
struct NonFiniteInputTests {
    @Test("a literal that overflows to inf is an error with line:column, in programs and in --at")
    func overflowingLiteral() {
        #expect(run(["graph", "x*1e999", "--at", "x=1"]).errors == ["error: 1:3: number 1e999 is out of the range of a Double"])
        #expect(run(["graph", "x", "--at", "x=1e999"]).errors
                == ["error: --at \"x=1e999\", column 3: number 1e999 is out of the range of a Double"])
        #expect(run(["graph", "x", "--at", "x=[1,2e400]"]).errors
                == ["error: --at \"x=[1,2e400]\", column 6: number 2e400 is out of the range of a Double"])
        #expect(throws: ExpressionError.self) { _ = try ExpressionProgram(parsing: "y = 1E+999") }
        // The largest Double is still a number.
        #expect(run(["graph", "x", "--at", "x=1.7e308"]).code == 0)
    }

    @Test("preprocessing with a std of 0 or below, or a mean beyond Float, is refused naming the metadata path")
    func badStandardizer() throws {
        let cases: [(Standardizer, String)] = [
            (Standardizer(mean: [0, 0], std: [1, 0]), "standardize.std[1] must be a positive number (at least 3e-39), got 0.0"),
            (Standardizer(mean: [0, 0], std: [-2, 1]), "standardize.std[0] must be a positive number (at least 3e-39), got -2.0"),
            (Standardizer(mean: [0, 0], std: [1e-300, 1]), "standardize.std[0] must be a positive number (at least 3e-39), got 1e-300"),
            (Standardizer(mean: [1e300, 0], std: [1, 1]), "standardize.mean[0] must be a finite Float, got 1e+300"),
        ]
        for (s, message) in cases {
            let path = try checkpoint(training: #"{"dataset":"moons"}"#, preprocessing: Preprocessing(standardizer: s))
            for arguments in [["eval", path], ["predict", path, "--input", "0.5,0.5"]] {
                let r = run(arguments)
                #expect(r.code == 1 && r.errors == ["error: \(path) __metadata__.preprocessing: \(message)"], "\(arguments): \(r.errors)")
            }
        }
        let scale = try checkpoint(training: #"{"dataset":"moons"}"#, preprocessing: Preprocessing(scale: 1e-300))
        #expect(run(["eval", scale]).errors == ["error: \(scale) __metadata__.preprocessing: scale must be a positive number, got 1e-300"])
    }
}

@Suite("Messages name the file, and what is evaluated")
struct MessageFileTests {
    @Test("explain's errors about a file's contents start with the file")
    func explainNamesTheFile() throws {
        let path = DataTestSupport.temporaryDirectory("robust") + "/bad.json"
        try FileIO.writeText("""
            {"layers": [{"type": "linear", "weight": [[1, 2], [2, 5], [7, 3]], "bias": [4, 2]}, {"type": "relu"}],
             "loss": {"type": "mse", "reduction": "sum"}, "x": [10, 5], "y": [320, 340, 1]}
            """, to: path)
        let r = run(["explain", path])
        #expect(r.code == 1 && r.errors.count == 1 && r.errors[0].hasPrefix("error: \(path): layers[0].bias: "), "\(r.errors)")
        // Already named (a JSON syntax error): not twice.
        try FileIO.writeText("{\"layers\": [],\n \"loss\": }\n", to: path)
        #expect(run(["explain", path]).errors == ["error: \(path): invalid JSON at line 2, column 10 (byte 24): unexpected character \"}\""])
    }

    @Test("eval --split validation on synthetic data says what is evaluated instead")
    func splitOnSyntheticData() throws {
        let path = try checkpoint(training: #"{"dataset":"moons","samples":50,"validation_split":0.2}"#)
        for split in ["validation", "train"] {
            let r = run(["eval", path, "--dataset", "moons", "--split", split])
            #expect(r.errors == ["error: --split: the \(split) split applies only to digits and csv:FILE datasets; moons is evaluated on a fresh sample (another seed), not on the examples trained on"])
            #expect(!r.errors[0].contains("not moons"))
        }
        #expect(run(["eval", path, "--split", "all"]).code == 0)
    }

    @Test("control bytes in an echoed path are escaped")
    func controlBytesInPaths() {
        let bad = "/nonexistent/a\u{1b}[31mred\u{7}.safetensors"
        for arguments in [["eval", bad], ["train", "--dataset", "csv:" + bad, "--target", "0"], ["plot", "relu", "--svg", "/nonexistent/\u{1b}x/p.svg"]] {
            let r = run(arguments)
            #expect(r.code != 0 && r.errors.count == 1, "\(arguments)")
            let line = r.errors.first ?? ""
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(line.debugDescription)")
            #expect(line.contains("\\u{1b}"), "\(line.debugDescription)")
        }
        #expect(DataError(path: "a\u{1b}b\nc", "cannot open").description == "a\\u{1b}b\\nc: cannot open")
        let m = DataTestSupport.dataErrorMessage { _ = try FileIO.readBytes(path: "/nonexistent/\u{0}\u{9b}x") }
        #expect(m == "/nonexistent/\\0\\u{9b}x: cannot open for reading: No such file or directory", "\(m ?? "nil")")
    }
}

@Suite("No pointers to documents outside the repository")
struct OutsidePointerTests {
    @Test("Sources/ never cites SPEC sections or the seeds: name the lab, the lecture or the homework")
    func noOutsidePointers() throws {
        let root = DataTestSupport.repositoryRoot + "/Sources"
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".swift") || $0.hasSuffix(".c") || $0.hasSuffix(".h") }
        #expect(files.count > 50)
        var hits: [String] = []
        for file in files {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("SPEC §") || line.contains("SPEC section") || line.contains("SPEC's") || line.contains("seeds'")
                || line.contains("the seeds") || line.contains("seed 00") {
                hits.append("\(file):\(n + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(hits.isEmpty, "\(hits.joined(separator: "\n"))")
    }
}

@Suite("A killed write's temporary file is removed by the next write of the file")
struct StaleTemporaryTests {
    @Test("old unlocked .NAME.tmp-XXXXXX files go; fresh, locked and other files' stay")
    func staleTemporariesRemoved() throws {
        let dir = DataTestSupport.temporaryDirectory("stale")
        let stale = dir + "/.m.safetensors.tmp-AbC123", fresh = dir + "/.m.safetensors.tmp-XyZ789"
        let locked = dir + "/.m.safetensors.tmp-Lck456", other = dir + "/.n.safetensors.tmp-AbC123"
        let notOurs = dir + "/.m.safetensors.tmp-toolong"
        for path in [stale, fresh, locked, other, notOurs] { try FileIO.writeText("half a checkpoint", to: path) }
        let hourAgo = Date(timeIntervalSinceNow: -3600)
        for path in [stale, locked, other, notOurs] {
            try FileManager.default.setAttributes([.modificationDate: hourAgo], ofItemAtPath: path)
        }
        // A writer that is still alive holds its lock (here: this process, through another open file).
        let fd = open(locked, O_RDONLY)
        #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        try FileIO.writeText("new", to: dir + "/m.safetensors")
        #expect(!FileIO.exists(stale))
        #expect(FileIO.exists(fresh) && FileIO.exists(locked) && FileIO.exists(other) && FileIO.exists(notOurs))
        #expect(try FileIO.readText(path: dir + "/m.safetensors") == "new")
    }
}

@Suite("graph: -h and -- with programs")
struct GraphArgumentTests {
    func parsed(_ arguments: [String]) throws -> GraphCommand {
        try #require(BackpropCommand.parseAsRoot(arguments) as? GraphCommand)
    }

    @Test("graph \"-h\" --at h=1 is the program -h; graph -h alone and --help print the help")
    func minusH() throws {
        let c = try parsed(["graph", "-h", "--at", "h=1", "--json"])
        #expect(c.program == "-h" && c.at == ["h=1"] && c.json)
        #expect(try GraphCommand.output(program: c.program, at: c.at, json: true)
                == #"{"values": {"h": 1, "-h": -1}, "gradients": {"h": -1, "-h": 1}}"# + "\n")
        for arguments in [["graph", "-h"], ["graph", "--help"]] {
            let help = run(arguments)
            #expect(help.code == 0 && help.errors.isEmpty && help.output.joined().contains("USAGE: backprop graph"), "\(arguments)")
        }
    }

    @Test("graph -- PROGRAM with options after it, or before")
    func terminator() throws {
        for arguments in [["graph", "--", "-h*h", "--at", "h=2", "--json"], ["graph", "--at", "h=2", "--json", "--", "-h*h"]] {
            let c = try parsed(arguments)
            #expect(c.program == "-h*h" && c.at == ["h=2"] && c.json, "\(arguments)")
        }
        let c = try parsed(["graph", "--", "-h", "--svg", "/dev/null", "--at", "h=1", "--dot", "g.dot", "--html", "g.html"])
        #expect(c.program == "-h" && c.at == ["h=1"] && c.svg == "/dev/null" && c.dot == "g.dot" && c.html == "g.html")
        #expect(run(["graph", "--", "-h", "--at"]).errors == ["error: Missing value for '--at' (see 'backprop help graph')"])
    }
}

@Suite("predict's CSV quotes class names with line breaks")
struct PredictionCSVTests {
    @Test("a class name with a newline, a comma or a quote is one quoted field")
    func quotedClassNames() {
        #expect(Inference.csvField("a\nb") == "\"a\nb\"" && Inference.csvField("a\r\nb") == "\"a\r\nb\"")
        #expect(Inference.csvField("a,b") == "\"a,b\"" && Inference.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(Inference.csvField("plain") == "plain")
    }
}

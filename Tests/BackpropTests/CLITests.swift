import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// Runs the tool's entry point as `backprop ARGS...`, capturing what it prints.
private func run(_ arguments: [String]) -> (code: Int32, output: [String], errors: [String]) {
    var output: [String] = [], errors: [String] = []
    let code = BackpropCommand.runMain(arguments: arguments, output: { output.append($0) }, errorOutput: { errors.append($0) })
    return (code, output, errors)
}

@Suite("CLI: every error is one line on stderr and a non-zero exit code")
struct CLITests {
    static let lab = DataTestSupport.repositoryRoot + "/examples/lab-network.json"

    /// (arguments, exit code, the one line on stderr). 64 is a usage error (bad option or value), 1 a failure.
    static let cases: [([String], Int32, String)] = [
        // unknown option, for every subcommand
        (["demo", "--foo"], 64, "error: Unknown option '--foo' (see 'backprop help demo')"),
        (["explain", "p.json", "--foo"], 64, "error: Unknown option '--foo'. Did you mean '--json'? (see 'backprop help explain')"),
        // graph takes unrecognised arguments as the program (so that `-x` needs no `--`), but not `--word`.
        (["graph", "x", "--at", "x=1", "--foo"], 64, "error: Unknown option \"--foo\" (see 'backprop help graph')"),
        (["jacobian", "x", "--wrt", "x", "--at", "x=1", "--foo"], 64,
         "error: Unknown option '--foo'. Did you mean '--wrt'? (see 'backprop help jacobian')"),
        (["plot", "relu", "--foo"], 64, "error: Unknown option '--foo'. Did you mean '--at'? (see 'backprop help plot')"),
        (["train", "--foo"], 64, "error: Unknown option '--foo'. Did you mean '--loss'? (see 'backprop help train')"),
        (["eval", "m.safetensors", "--foo"], 64, "error: Unknown option '--foo' (see 'backprop help eval')"),
        (["predict", "m.safetensors", "--input", "1", "--foo"], 64,
         "error: Unknown option '--foo'. Did you mean '--csv'? (see 'backprop help predict')"),
        (["bench", "--foo"], 64, "error: Unknown option '--foo'. Did you mean '--json'? (see 'backprop help bench')"),
        // softmax takes every unrecognised argument as a value, so that `-1,2` needs no `--`.
        (["softmax", "1,2", "--foo"], 1, "error: values 1,2,--foo: \"--foo\" is not a number"),
        (["--foo"], 64, "error: Unknown option '--foo' (see 'backprop help')"),
        (["nosuch"], 64, "error: Unexpected argument 'nosuch' (see 'backprop help')"),

        // a bad value: parsed by ArgumentParser (usage error) or checked by the command
        (["demo", "extra"], 64, "error: Unexpected argument 'extra' (see 'backprop help demo')"),
        (["explain", lab, "--dtype", "float16"], 64,
         "error: The value 'float16' is invalid for '--dtype <dtype>'. Please provide one of 'float64' and 'float32'. (see 'backprop help explain')"),
        (["explain", lab, "--step", "abc"], 64, "error: The value 'abc' is invalid for '--step <LR>' (see 'backprop help explain')"),
        (["graph", "x+", "--at", "x=1"], 1, "error: 1:3: expected an expression after '+'"),
        (["graph", "x*y", "--at", "x=1"], 1, "error: 1:3: unbound variable 'y' (defined: x); give it a value with --at y=..."),
        (["graph", "x+y", "--at", "x=[1,2],y=[1,2,3]"], 1, "error: 1:2: add: shapes [2] and [3] cannot be broadcast together"),
        (["graph", "x", "--at", "x=[1,"], 1, "error: --at \"x=[1,\", column 6: expected a number in the tensor literal, found end of input"),
        (["jacobian", "x", "--at", "x=1"], 64, "error: Missing expected argument '--wrt <wrt>' (see 'backprop help jacobian')"),
        (["jacobian", "x", "--wrt", "y", "--at", "x=1"], 1,
         "error: --wrt: no variable 'y' to differentiate with respect to; the variables given values are: x"),
        (["plot", "relu", "--points", "abc"], 64, "error: The value 'abc' is invalid for '--points <points>' (see 'backprop help plot')"),
        (["plot", "relu", "--range", "4,-4"], 1, "error: --range 4,-4: expected LO,HI with LO < HI, e.g. -4,4"),
        (["softmax", "1,x"], 1, "error: values 1,x: \"x\" is not a number"),
        (["softmax", "1,2", "--beta"], 64, "error: Missing value for '--beta <beta>' (see 'backprop help softmax')"),
        (["train", "--lr", "abc"], 64, "error: The value 'abc' is invalid for '--lr <lr>' (see 'backprop help train')"),
        (["train", "--optimizer", "nope"], 64,
         "error: The value 'nope' is invalid for '--optimizer <optimizer>'. Please provide one of 'sgd', 'adam', 'adamw' or 'rmsprop'. (see 'backprop help train')"),
        (["train", "--dataset", "nope"], 64,
         "error: The value 'nope' is invalid for '--dataset <dataset>': unknown dataset nope; use one of digits, spirals[:K], moons, sine, blobs[:K], mnist:FOLDER, fashion-mnist[:FOLDER], csv:FILE (see 'backprop help train')"),
        (["train", "--progress", "nope"], 64,
         "error: The value 'nope' is invalid for '--progress <progress>'. Please provide one of 'auto', 'bar', 'lines' or 'none'. (see 'backprop help train')"),
        // the library's checks of the options, named by the flag
        (["train", "--lr=-1"], 64, "error: --lr: learning rate must be positive, got -1.0 (see 'backprop help train')"),
        (["train", "--batch-size", "0"], 64, "error: --batch-size: batch size must be positive, got 0 (see 'backprop help train')"),
        (["train", "--validation-split", "1"], 64,
         "error: --validation-split: validation split must be in [0, 1), got 1.0 (see 'backprop help train')"),
        (["train", "--epochs", "0"], 64, "error: --epochs: epochs must be at least 1, got 0 (see 'backprop help train')"),
        (["train", "--weight-decay=-0.5"], 64, "error: --weight-decay: weight decay must be 0 or more, got -0.5 (see 'backprop help train')"),
        (["train", "--target", "y"], 64,
         "error: --target: a target column applies only to csv:FILE datasets, not digits (see 'backprop help train')"),
        (["train", "--layers", "60,10", "--epochs", "1"], 1,
         "error: --layers: the first width 60 of the layers [60, 10] does not match the 64 input features of digits"),
        (["train", "--dataset", "sine", "--loss", "cross_entropy", "--epochs", "1"], 1,
         "error: --loss: loss cross_entropy does not fit sine, a regression task"),
        (["explain", lab, "--step", "nan"], 1, "error: --step: learning rate must be a finite number, got nan"),
        (["softmax", "1,2", "--beta", "0"], 1,
         "error: --beta: β must be a finite number other than 0, got 0 (the smooth maximum divides by β)"),
        (["eval", "m.safetensors", "--split", "nope"], 64,
         "error: The value 'nope' is invalid for '--split <split>'. Please provide one of 'auto', 'validation', 'train' or 'all'. (see 'backprop help eval')"),
        (["predict", "m.safetensors", "--csv", "a.csv", "--input", "1"], 64,
         "error: give at most one of --csv FILE or --input VALUES (see 'backprop help predict')"),
        (["bench", "--threads", "abc"], 64, "error: The value 'abc' is invalid for '--threads <threads>' (see 'backprop help bench')"),
        (["bench", "--allow-debug", "--threads", "0"], 1, "error: bench: --threads must be at least 1, got 0"),

        // a missing input file, or an output file that cannot be written
        (["explain", "/nonexistent/p.json"], 1, "error: /nonexistent/p.json: no such file"),
        (["graph", "x", "--at", "x=1", "--dot", "/nonexistent-dir/g.dot"], 1,
         "error: /nonexistent-dir/g.dot: cannot write: No such file or directory"),
        (["plot", "relu", "--svg", "/nonexistent-dir/a.svg"], 1, "error: /nonexistent-dir/a.svg: cannot write: No such file or directory"),
        (["train", "--dataset", "csv:/nonexistent/d.csv", "--target", "y"], 1,
         "error: /nonexistent/d.csv: cannot open for reading: No such file or directory"),
        (["train", "--model", "/nonexistent/m.json"], 1, "error: /nonexistent/m.json: cannot open for reading: No such file or directory"),
        (["eval", "/nonexistent/m.safetensors"], 1, "error: /nonexistent/m.safetensors: cannot open for reading: No such file or directory"),
        (["predict", "/nonexistent/m.safetensors", "--input", "1,2"], 1,
         "error: /nonexistent/m.safetensors: cannot open for reading: No such file or directory"),
    ]

    @Test("bad arguments and missing files", arguments: cases.indices)
    func badArguments(_ k: Int) {
        let (arguments, code, line) = Self.cases[k]
        let result = run(arguments)
        #expect(result.code == code, "\(arguments)")
        #expect(result.errors == [line], "\(arguments)")
        #expect(result.output.isEmpty, "\(arguments)")
    }

    @Test("malformed JSON is one line naming the file, line and column")
    func malformedJSON() throws {
        let path = DataTestSupport.temporaryDirectory("cli") + "/bad.json"
        try FileIO.writeText("{\"layers\": [],\n \"loss\": }\n", to: path)
        let result = run(["explain", path])
        #expect(result.code == 1)
        #expect(result.errors == ["error: \(path): invalid JSON at line 2, column 10 (byte 24): unexpected character \"}\""])
    }

    @Test("help and --version go to standard output with exit code 0")
    func helpAndVersion() {
        let version = run(["--version"])
        #expect(version.code == 0 && version.errors.isEmpty)
        #expect(version.output == [Backprop.version])

        for arguments in [["help", "train"], ["train", "--help"]] {
            let help = run(arguments)
            #expect(help.code == 0 && help.errors.isEmpty, "\(arguments)")
            #expect(help.output.count == 1, "\(arguments)")
            #expect(help.output.first?.hasPrefix("OVERVIEW: Train a network on a dataset and save a safetensors checkpoint.") == true)
            #expect(help.output.first?.contains("USAGE: backprop train <options>") == true)
            #expect(help.output.first?.contains("--checkpoint <checkpoint>") == true)
        }
        let root = run([])
        #expect(root.code == 0 && root.errors.isEmpty)
        #expect(root.output.first?.contains("SUBCOMMANDS:") == true)
    }
}

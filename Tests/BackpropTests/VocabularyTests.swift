import Foundation
import Testing
import Backprop
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// Runs `backprop ARGS...` through the tool's entry point, capturing what it prints.
private func run(_ arguments: [String]) -> (code: Int32, output: String, errors: String) {
    var output = "", errors = ""
    let code = BackpropCommand.runMain(arguments: arguments, output: { output += $0 }, errorOutput: { errors += $0 })
    return (code, output, errors)
}

/// Every activation kind with its defaults, and each again with parameters that differ from them.
private let variants: [Activation] = Activation.allKinds + [
    .relu(scale: 3), .leakyReLU(negativeSlope: 0.2), .softplus(beta: 2), .softplus(beta: 0.5, threshold: 5),
    .gelu(approximate: .tanh), .elu(alpha: 0.5),
]

private let points: [Double] = [-2.5, -1, -0.25, 0, 0.5, 1.75, 3]

@Suite("One vocabulary: every activation through every form")
struct VocabularyTests {
    @Test("the command-line form, the coded (JSON) form and the module all round-trip to the same activation",
          arguments: variants)
    func roundTrips(_ a: Activation) throws {
        let parsed = try Activation(parsing: a.description)
        #expect(parsed == a, "\(a.description)")
        let json = try JSON(encoding: a)
        let decoded = try json.decode(Activation.self)
        #expect(decoded == a, "\(json.compactText)")
        let layer = try JSON.parse(json.compactText).decode(LayerSpec.self)
        #expect(layer == .activation(a))
        // Through a model file and a checkpoint's architecture.
        let spec = ModelSpec(widths: [3, 4, 2], activation: a)
        let fromJSON = try ModelSpec(jsonValue: spec.json)
        #expect(fromJSON == spec)
        let text = "{\"layers\": [3, 4, 2], \"activation\": \"" + a.description + "\"}"
        let shorthand = try ModelSpec(json: text)
        #expect(shorthand == spec)
        // The module computes what the function computes (Double, so equality is exact).
        let x = Tensor<Double>(shape: [1, points.count], scalars: points)
        let module: any Module<Double> = a.module()
        let viaModule = module.callAsFunction(x)
        #expect(viaModule == a(x), "\(a)")
    }

    @Test("train, plot, explain and the expression language accept every name with the same meaning",
          arguments: variants)
    func everyCommandAgrees(_ a: Activation) throws {
        let x = Tensor<Double>(points)
        let expected = a(x).scalars

        // train: --activation parses to the same activation (and a model built from it uses its module).
        let train = try TrainCommand.parse(["--activation", a.description])
        #expect(train.activation == a)

        // plot: the command accepts the form, and its CSV's values are the function's (elementwise
        // activations; the others have no curve and are refused).
        let plot = run(["plot", a.description, "--at", points.map { "\($0)" }.joined(separator: ","), "--csv"])
        if a.isElementwise {
            #expect(plot.code == 0, "\(plot.errors)")
            let csv = activationCSV([try Activation(plotting: a.description)], at: points)
            let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
            #expect(rows.map { String($0[0]) } == Array(repeating: a.description, count: points.count))
            #expect(rows.map { Double($0[2])! } == expected, "\(a.description)")
        } else {
            #expect(plot.code != 0 && plot.errors.contains("is not elementwise"))
        }

        // explain: the layer written in JSON with its parameters computes the same forward values.
        let problem = JSON.object([
            ("layers", .array([try JSON(encoding: a)])),
            ("loss", .object([("type", .string("mse")), ("reduction", .string("sum"))])),
            ("x", .array(points.map { .number($0) })), ("y", .array(points.map { _ in .number(0) })),
        ])
        let report = try ExplainProblem(json: Data(problem.compactText.utf8), source: "p.json").explain()
        #expect(report.rows[0].layer == .activation(a))
        #expect(report.outputs[0].scalars == expected, "\(a)")
        // ... and in its command-line form, a string in place of the layer object.
        let problemWithForm = JSON.object([
            ("layers", .array([.string(a.description)])),
            ("loss", .object([("type", .string("mse")), ("reduction", .string("sum"))])),
            ("x", .array(points.map { .number($0) })), ("y", .array(points.map { _ in .number(0) })),
        ])
        let viaForm = try ExplainProblem(json: Data(problemWithForm.compactText.utf8), source: "p.json").explain()
        #expect(viaForm.rows[0].layer == .activation(a))
        #expect(viaForm.outputs[0].scalars == expected, "\(a.description)")

        // The expression language: a name alone means the defaults.
        if Activation.allKinds.contains(a) {
            let graph = try ExpressionGraph(program: ExpressionProgram(parsing: "y = \(a.name)(x)"), at: [("x", x)])
            #expect(graph.value(of: "y")!.scalars == expected, "\(a.name)")
        }
    }

    @Test("PyTorch code, summaries and command-line forms of each kind")
    func derivedText() {
        let table: [(Activation, String, String, String)] = [
            (.relu(), "relu", "relu", "nn.ReLU()"),
            (.relu(scale: 3), "relu:3", "relu (scale 3)", "ScaledReLU(3)  # scale * relu(x): no nn module"),
            (.leakyReLU(negativeSlope: 0.1), "leaky_relu:0.1", "leaky_relu (negative_slope 0.1)", "nn.LeakyReLU(negative_slope=0.1)"),
            (.tanh, "tanh", "tanh", "nn.Tanh()"),
            (.sigmoid, "sigmoid", "sigmoid", "nn.Sigmoid()"),
            (.softplus(beta: 2), "softplus:2", "softplus (beta 2)", "nn.Softplus(beta=2)"),
            (.softplus(beta: 1, threshold: 10), "softplus:1:10", "softplus (threshold 10)", "nn.Softplus(threshold=10)"),
            (.gelu(approximate: .tanh), "gelu:tanh", "gelu (approximate tanh)", "nn.GELU(approximate='tanh')"),
            (.elu(alpha: 0.5), "elu:0.5", "elu (alpha 0.5)", "nn.ELU(alpha=0.5)"),
            (.silu, "silu", "silu", "nn.SiLU()"),
            (.identity, "identity", "identity", "nn.Identity()"),
            (.softmax, "softmax", "softmax", "nn.Softmax(dim=-1)"),
            (.logSoftmax, "log_softmax", "log_softmax", "nn.LogSoftmax(dim=-1)"),
        ]
        #expect(Set(table.map(\.0.name)) == Set(Activation.names), "every kind appears in the table")
        for (a, form, summary, code) in table {
            #expect(a.description == form)
            #expect(a.summary == summary)
            #expect(a.pytorchCode == code)
        }
    }

    @Test("bad forms name what is wrong, the same way in every command")
    func badForms() {
        let bad: [(String, String)] = [
            ("swish", "unknown activation 'swish'"),
            ("softplus:0", "softplus's beta must be positive, got 0"),
            ("softplus:2:3:4", "softplus takes at most 2: beta, threshold"),
            ("leaky_relu:0x10", "negative_slope '0x10' is not a number"),
            ("elu:nan", "alpha 'nan' is not a number"),
            ("gelu:erf", "gelu's approximate must be 'none' or 'tanh', got 'erf'"),
        ]
        for (form, message) in bad {
            let train = run(["train", "--activation", form, "--epochs", "1"])
            #expect(train.code != 0 && train.errors.contains(message) && train.errors.contains("--activation"), "\(train.errors)")
            let plot = run(["plot", form])
            #expect(plot.code != 0 && plot.errors.contains(message), "\(plot.errors)")
            let file = DataTestSupport.temporaryDirectory("vocab") + "/m.json"
            try? FileIO.writeText("{\"layers\": [2, 3, 2], \"activation\": \"" + form + "\"}", to: file)
            #expect(DataTestSupport.dataErrorMessage { _ = try ModelSpec(json: FileIO.readText(path: file), source: file) }?.contains(message) == true)
        }
    }
}

@Suite("explain runs the real model, also from a checkpoint")
struct ExplainCheckpointTests {
    @Test("explain --checkpoint gives the gradients of the same network written as an explain file")
    func checkpointEqualsFile() throws {
        let dir = DataTestSupport.temporaryDirectory("explain-ckpt")
        var o = TrainingOptions()
        o.dataset = .blobs(classes: 3); o.samples = 90; o.hidden = [5]; o.epochs = 3; o.activation = .softplus(beta: 2)
        o.progress = .none; o.checkpointPath = dir + "/b.safetensors"
        try TrainingSession.run(o, output: { _ in })

        let command = try ExplainCommand.parse(["--checkpoint", dir + "/b.safetensors", "--input", "0.5,-1.25", "--target", "2", "--json"])
        let viaCheckpoint = try command.explainCheckpoint(dir + "/b.safetensors")

        // The same network as an explain file: the checkpoint's tensors and description, the input after
        // the checkpoint's standardisation.
        let checkpoint = try Checkpoint.load(path: dir + "/b.safetensors")
        let x = checkpoint.preprocessing.apply(Tensor<Float>([[0.5, -1.25]])).scalars.map(Double.init)
        let state = checkpoint.model.stateDict()
        func matrix(_ name: String) -> JSON {
            let t = state[name]!
            return .array((0..<t.shape[0]).map { i in .array((0..<t.shape[1]).map { .number(Double(t[element: i, $0])) }) })
        }
        func vector(_ name: String) -> JSON { .array(state[name]!.scalars.map { .number(Double($0)) }) }
        let file = JSON.object([
            ("layers", .array([
                .object([("type", .string("linear")), ("weight", matrix("0.weight")), ("bias", vector("0.bias"))]),
                .object([("type", .string("softplus")), ("beta", .number(2))]),
                .object([("type", .string("linear")), ("weight", matrix("2.weight")), ("bias", vector("2.bias"))]),
            ])),
            ("loss", .object([("type", .string("cross_entropy")), ("reduction", .string("mean"))])),
            ("x", .array(x.map { .number($0) })), ("y", .number(2)),
        ])
        try FileIO.writeText(file.prettyText, to: dir + "/same.json")
        let viaFile = try explainFile(at: dir + "/same.json", json: true)

        let a = try JSON.parse(viaCheckpoint), b = try JSON.parse(viaFile)
        #expect(a["gradients"] == b["gradients"])
        #expect(a["loss"] == b["loss"])
        #expect(a["outputs"] == b["outputs"])
        #expect(a["gradients"]?["0.weight"] != nil)
    }

    @Test("explain --checkpoint --example takes the example and its label from the checkpoint's data")
    func example() throws {
        let dir = DataTestSupport.temporaryDirectory("explain-ckpt")
        var o = TrainingOptions()
        o.dataset = .digits; o.hidden = [8]; o.epochs = 1; o.progress = .none; o.checkpointPath = dir + "/d.safetensors"
        try TrainingSession.run(o, output: { _ in })
        let text = try ExplainCommand.parse(["--checkpoint", dir + "/d.safetensors", "--example", "0"]).explainCheckpoint(dir + "/d.safetensors")
        #expect(text.contains("example 0 of digits (the validation split made in training: 359 examples)"), "\(text.prefix(300))")
        #expect(text.contains("linear 64 -> 8"))
        let bad = run(["explain", "--checkpoint", dir + "/d.safetensors", "--example", "359"])
        #expect(bad.code == 1 && bad.errors.hasPrefix("error: --example 359: digits has 359 examples here"), "\(bad.errors)")
        let both = run(["explain", "--checkpoint", dir + "/d.safetensors"])
        #expect(both.code == 64 && both.errors.contains("exactly one of --example N and --input VALUES"))
    }
}

@Suite("README: one description of each layer")
struct VocabularyReadmeTests {
    /// The README's snippet, verbatim but for `print`, whose line is compared instead.
    @Test func readmeSnippet() throws {
        let a = try Activation(parsing: "leaky_relu:0.1")
        let model = Sequential<Float>(describedBy: [.linear(inFeatures: 2, outFeatures: 8), .activation(a),
                                                    .linear(inFeatures: 8, outFeatures: 1)], seed: 1)
        let code = ModelSpec(layers: [.linear(inFeatures: 2, outFeatures: 8), .activation(a)]).pytorchCode
        #expect(code == "nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(negative_slope=0.1))")
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        // The same seed builds the same weights as the widths shorthand of ModelSpec.
        let same = ModelSpec(widths: [2, 8, 1], activation: a).makeModel(seed: 1)
        #expect(model.stateDict() == same.stateDict())
    }
}

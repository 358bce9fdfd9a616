import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// The formula and derivative texts of every activation, worked by hand (d/dx of each formula), and
/// where explain shows them; every `LayerSpec` case through its JSON, PyTorch code, module and shape.
@Suite("One vocabulary: formula texts, every layer case, explain's forms")
struct VocabularyWalkTests {
    @Test("formula and derivative text of every activation kind")
    func formulaAndDerivative() {
        let table: [(Activation, String, String)] = [
            (.relu(), "max(x, 0)", "1 if x > 0, else 0"),
            (.relu(scale: 3), "3 max(x, 0)", "3 if x > 0, else 0"),
            (.leakyReLU(negativeSlope: 0.1), "max(x, 0) + 0.1 min(x, 0)", "1 if x > 0, else 0.1"),
            (.tanh, "tanh(x)", "1 - tanh(x)²"),
            (.sigmoid, "1 / (1 + e^-x)", "sigmoid(x) (1 - sigmoid(x))"),
            (.softplus(), "log(1 + e^x)", "sigmoid(x)"),
            (.softplus(beta: 2), "(1/2) log(1 + e^(2x))", "sigmoid(2x)"),
            (.gelu(approximate: .none), "x Φ(x)", "Φ(x) + x φ(x)"),
            (.gelu(approximate: .tanh), "x Φ(x), tanh approximation", "d/dx of the tanh approximation"),
            (.elu(alpha: 0.5), "x if x > 0, else 0.5 (e^x - 1)", "1 if x > 0, else 0.5 e^x"),
            (.silu, "x sigmoid(x)", "sigmoid(x) (1 + x (1 - sigmoid(x)))"),
            (.identity, "x", "1"),
            (.softmax, "e^x_i / Σ_j e^x_j", "diag(p) - p pᵀ (a full Jacobian: outputs share the sum)"),
            (.logSoftmax, "x_i - log Σ_j e^x_j", "I - 1 pᵀ (a full Jacobian)"),
        ]
        #expect(Set(table.map(\.0.name)) == Set(Activation.names), "every kind appears in the table")
        for (a, formula, derivative) in table {
            #expect(a.formula == formula, "\(a.description)")
            #expect(a.derivative == derivative, "\(a.description)")
        }
    }

    /// linear 2 -> 2, softplus with beta 2 written in its command-line form, linear 2 -> 1.
    static let softplusProblem = #"""
    {"layers": [{"type": "linear", "weight": [[1, 0], [0, -1]], "bias": [0, 0.5]}, "softplus:2",
                {"type": "linear", "weight": [[1, 1]]}],
     "loss": {"type": "mse", "reduction": "sum"}, "x": [1, 2], "y": [0]}
    """#

    /// The text parts of the HTML page's steps (titles, notes and the words between values).
    func stepTexts(_ report: ExplainReport) -> [String] {
        ExplainPageModel(report).steps().flatMap { step in
            [step.title, step.note] + step.equations.flatMap(\.parts).compactMap { part -> String? in
                if case let .text(t) = part { return t } else { return nil }
            }
        }
    }

    @Test("explain shows the activation's formula and derivative: text, --json and the HTML step")
    func explainShowsTheTexts() throws {
        let report = try ExplainProblem(json: Data(Self.softplusProblem.utf8), source: "p.json").explain()
        #expect(report.rows[1].formula == "a1 = softplus(s1), softplus(x) = (1/2) log(1 + e^(2x))")
        #expect(report.rows[1].derivative == "sigmoid(2x)")
        #expect(report.rows[0].derivative == nil)
        let text = report.text()
        #expect(text.contains("a1 = softplus(s1), softplus(x) = (1/2) log(1 + e^(2x))"))
        #expect(text.contains("Derivatives of the activations"))
        #expect(text.contains("  1 softplus (beta 2): softplus'(x) = sigmoid(2x)\n"))
        let json = try JSON.parse(report.json())
        let layers = json["layers"]!.arrayValue!
        #expect(layers[1]["derivative_formula"]?.stringValue == "sigmoid(2x)")
        #expect(layers[1]["formula"]?.stringValue == "a1 = softplus(s1), softplus(x) = (1/2) log(1 + e^(2x))")
        #expect(layers[0]["derivative_formula"] == nil)
        #expect(stepTexts(report).contains("the elementwise derivative, softplus'(x) = sigmoid(2x), at"))
        // A softmax has no elementwise derivative: its text goes with the full Jacobian.
        let softmax = try ExplainProblem(json: Data(#"""
        {"layers": [{"type": "linear", "weight": [[1, 0], [0, -1]]}, "softmax"],
         "loss": {"type": "mse", "reduction": "sum"}, "x": [1, 2], "y": [0, 1]}
        """#.utf8), source: "s.json").explain()
        #expect(stepTexts(softmax).contains("(softmax'(x) = diag(p) - p pᵀ (a full Jacobian: outputs share the sum))"))
    }

    @Test("an explain layer in the command-line form equals the object form, and a bad form names its place")
    func explainTakesTheCommandLineForm() throws {
        let asObject = Self.softplusProblem.replacingOccurrences(of: #""softplus:2""#, with: #"{"type": "softplus", "beta": 2}"#)
        let a = try ExplainProblem(json: Data(Self.softplusProblem.utf8), source: "p.json").explain()
        let b = try ExplainProblem(json: Data(asObject.utf8), source: "p.json").explain()
        #expect(a.rows[1].layer == .activation(.softplus(beta: 2)))
        #expect(a.json() == b.json())
        let bad = Self.softplusProblem.replacingOccurrences(of: "softplus:2", with: "softplus:0")
        do {
            _ = try ExplainProblem(json: Data(bad.utf8), source: "p.json").explain()
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("layers[1]: activation 'softplus:0': softplus's beta must be positive, got 0"), "\(error)")
        }
    }

    @Test("explain --help lists every layer type and activation form from the vocabulary, wrapped by the parser")
    func explainHelp() {
        let help = ExplainCommand.helpMessage(columns: 80)
        let joined = help.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        for name in LayerSpec.typeNames { #expect(joined.contains(name), "\(name)") }
        for form in Activation.forms { #expect(joined.contains(form), "\(form)") }
        // No hand-broken lines: the parser wraps every paragraph to the width (the usage line is its own).
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 80 || $0.hasPrefix("USAGE") })
    }

    @Test("a --model shorthand's bad activation names its key")
    func shorthandErrorNamesItsKey() {
        let message = DataTestSupport.dataErrorMessage {
            _ = try ModelSpec(json: #"{"layers": [2, 3, 2], "activation": "swish"}"#, source: "m.json")
        }
        #expect(message?.contains("activation: unknown activation 'swish'") == true, "\(message ?? "no error")")
    }

    // MARK: Every LayerSpec case

    struct Case: CustomStringConvertible {
        var spec: LayerSpec
        var code: String
        var example: [Int]          // one example's input shape
        var output: [Int]           // one example's output shape
        var buffers: [String] = []  // state-dict keys that are not parameters
        var description: String { spec.summary }
    }

    static let batchNormBuffers = ["running_mean", "running_var", "num_batches_tracked"]

    /// One value per case (and both forms of the ones with a switch), PyTorch's code and the shapes
    /// worked by hand: floor((L + 2 pad - kernel) / stride) + 1.
    static let cases: [Case] = [
        Case(spec: .linear(inFeatures: 3, outFeatures: 2), code: "nn.Linear(3, 2)", example: [3], output: [2]),
        Case(spec: .linear(inFeatures: 3, outFeatures: 2, bias: false), code: "nn.Linear(3, 2, bias=False)", example: [3], output: [2]),
        Case(spec: .dropout(p: 0.25), code: "nn.Dropout(p=0.25)", example: [3], output: [3]),
        Case(spec: .conv1d(inChannels: 2, outChannels: 4, kernelSize: 3, stride: 2, padding: 1),
             code: "nn.Conv1d(2, 4, kernel_size=3, stride=2, padding=1)", example: [2, 9], output: [4, 5]),   // (9 + 2 - 3) / 2 + 1
        Case(spec: .conv2d(inChannels: 2, outChannels: 4, kernelSize: 3, groups: 2, bias: false),
             code: "nn.Conv2d(2, 4, kernel_size=3, groups=2, bias=False)", example: [2, 5, 5], output: [4, 3, 3]),
        Case(spec: .maxPool2d(kernelSize: 2), code: "nn.MaxPool2d(kernel_size=2)", example: [2, 5, 5], output: [2, 2, 2]),
        Case(spec: .avgPool2d(kernelSize: 3, stride: 2, padding: 1), code: "nn.AvgPool2d(kernel_size=3, stride=2, padding=1)",
             example: [2, 5, 5], output: [2, 3, 3]),   // (5 + 2 - 3) / 2 + 1
        Case(spec: .adaptiveAvgPool2d(outputSize: 2), code: "nn.AdaptiveAvgPool2d(2)", example: [2, 5, 5], output: [2, 2, 2]),
        Case(spec: .flatten(), code: "nn.Flatten()", example: [2, 3, 3], output: [18]),
        Case(spec: .batchNorm1d(numFeatures: 3), code: "nn.BatchNorm1d(3)", example: [3], output: [3], buffers: batchNormBuffers),
        Case(spec: .batchNorm2d(numFeatures: 2, eps: 1e-3, momentum: 0.2), code: "nn.BatchNorm2d(2, eps=0.001, momentum=0.2)",
             example: [2, 3, 3], output: [2, 3, 3], buffers: batchNormBuffers),
        Case(spec: .layerNorm(normalizedShape: [4]), code: "nn.LayerNorm([4])", example: [3, 4], output: [3, 4]),
        Case(spec: .layerNorm(normalizedShape: [4], elementwiseAffine: false), code: "nn.LayerNorm([4], elementwise_affine=False)",
             example: [3, 4], output: [3, 4]),
    ] + Activation.allKinds.map { a in
        Case(spec: .activation(a), code: a.pytorchCode, example: [5], output: [5])
    }

    @Test("the walk covers every layer type")
    func walkCoversEveryType() {
        #expect(Set(Self.cases.map(\.spec.typeName)) == Set(LayerSpec.typeNames), "a new LayerSpec case needs a row here")
    }

    @Test("every layer case: JSON round trip, PyTorch code, parameters vs state dict, output shape", arguments: cases)
    func everyCase(_ c: Case) throws {
        // JSON: written with its type name, read back to the same case.
        let json = try JSON(encoding: c.spec)
        #expect(json["type"]?.stringValue == c.spec.typeName)
        #expect(try JSON.parse(json.compactText).decode(LayerSpec.self, source: "l.json", path: "layers[0]") == c.spec)
        try c.spec.validate(path: "layers[0]")
        #expect(c.spec.pytorchCode == c.code)

        // The module: its parameters are the described ones, in order and shape; the rest of its
        // state dict is its buffers.
        var rng = SeededGenerator(seed: 7)
        let module: any Module<Double> = c.spec.makeModule(Double.self, generator: &rng)
        let parameters = module.namedParameters()
        #expect(parameters.map(\.name) == c.spec.parameterShapes.map(\.name))
        #expect(parameters.map(\.tensor.shape) == c.spec.parameterShapes.map(\.shape))
        #expect(Set(module.stateDict().keys) == Set(c.spec.parameterShapes.map(\.name) + c.buffers))
        #expect(c.spec.parameterCount == parameters.reduce(0) { $0 + $1.tensor.count })

        // Shapes: the described output shape, and the module's on a batch of two examples.
        #expect(try c.spec.outputShape(for: c.example, path: "layers[0]") == c.output)
        let n = c.example.reduce(1, *)
        let x = Tensor<Double>(shape: [2] + c.example, scalars: (0..<(2 * n)).map { Double($0 % 7) - 3 })
        let y = noGrad { module.callAsFunction(x) }
        #expect(y.shape == [2] + c.output)
    }
}

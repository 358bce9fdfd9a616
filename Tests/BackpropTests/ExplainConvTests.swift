import Foundation
import Testing
import Backprop
@testable import BackpropData
@testable import BackpropTeaching

// `backprop explain` on small CNNs: conv1d/conv2d, pooling, flatten, batch
// norm (training and evaluation mode) and layer norm. Every number of the
// --json output (outputs, loss, each gradient in its parameter's shape,
// dC/dx, the updated running statistics) is compared with PyTorch in float64
// (Fixtures/explain/*.expected.json, made by scripts/make_explain_fixtures.py).

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func explainConvProblem(_ json: String) throws -> ExplainProblem { try ExplainProblem(json: Data(json.utf8), source: "test.json") }

/// The shape and row-major numbers of a JSON tensor.
private func shapeAndValues(_ j: JSON?) -> ([Int], [Double])? {
    switch j {
    case .number(let v)?: return ([], [v])
    case .array(let items)?:
        let parts = items.compactMap { shapeAndValues($0) }
        guard parts.count == items.count, let first = parts.first else { return nil }
        return ([items.count] + first.0, parts.flatMap(\.1))
    default: return nil
    }
}

/// `actual` equals `expected` in shape, and element by element to 1e-10 (absolute plus relative).
private func expectTensor(_ actual: JSON?, _ expected: JSON?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let (shape, values) = shapeAndValues(actual) else {
        Issue.record("\(what): missing or not numbers", sourceLocation: sourceLocation)
        return
    }
    guard let (expectedShape, expectedValues) = shapeAndValues(expected) else {
        Issue.record("\(what): no fixture value", sourceLocation: sourceLocation)
        return
    }
    #expect(shape == expectedShape, "\(what): shape \(shape), PyTorch \(expectedShape)", sourceLocation: sourceLocation)
    for (i, (a, e)) in zip(values, expectedValues).enumerated() where !(abs(a - e) <= 1e-10 + 1e-10 * abs(e)) {
        Issue.record("\(what): element \(i) is \(a), PyTorch \(e)", sourceLocation: sourceLocation)
        return
    }
}

@Suite("Explain: conv, pooling and normalization layers")
struct ExplainConvTests {
    static let problems = [
        ("conv2d", "examples/conv2d.json"),
        ("conv-batchnorm", "examples/conv-batchnorm.json"),
        ("conv1d", "examples/conv1d.json"),
        ("conv-groups-adaptive", "Tests/BackpropTests/Fixtures/explain/conv-groups-adaptive.json"),
    ]

    @Test("--json equals PyTorch (float64, 1e-10): outputs, loss, gradients, dC/dx, running statistics", arguments: problems)
    func pytorchFixtures(_ name: String, _ path: String) throws {
        let json = try JSON.parse(explainFile(at: root.appendingPathComponent(path).path, json: true))
        let expected = try JSON.parse(String(contentsOf: PyTorchFixture.directory.appendingPathComponent("explain/\(name).expected.json"), encoding: .utf8))
        let outputs = try #require(json["outputs"]?.arrayValue), expectedOutputs = try #require(expected["outputs"]?.arrayValue)
        #expect(outputs.count == expectedOutputs.count)
        for (i, (a, e)) in zip(outputs, expectedOutputs).enumerated() { expectTensor(a, e, "\(name): output of layer \(i)") }
        let upstream = try #require(json["output_gradients"]?.arrayValue), expectedUpstream = try #require(expected["output_gradients"]?.arrayValue)
        for (i, (a, e)) in zip(upstream, expectedUpstream).enumerated() { expectTensor(a, e, "\(name): dC/d(output of layer \(i))") }
        expectTensor(json["loss"], expected["loss"], "\(name): loss")
        expectTensor(json["input_gradient"], expected["input_gradient"], "\(name): dC/dx")
        let gradients = try #require(json["gradients"]?.objectValue), expectedGradients = try #require(expected["gradients"]?.objectValue)
        #expect(gradients.map(\.0) == expectedGradients.map(\.0), "\(name): the same state_dict names, in order")
        for (key, value) in expectedGradients { expectTensor(json["gradients"]?[key], value, "\(name): gradient \(key)") }
        for (key, value) in try #require(expected["buffers"]?.objectValue) {
            expectTensor(json["buffers"]?[key], value, "\(name): buffer \(key) after the pass")
        }
        // float32 runs the same network: the loss to float32's precision.
        let single = try explainReport(at: root.appendingPathComponent(path).path, dtype: .float32)
        let loss = try #require(expected["loss"]?.numberValue)
        #expect(abs(single.loss - loss) <= 1e-5 * max(1, abs(loss)), "\(name): float32 loss \(single.loss), PyTorch float64 \(loss)")
        // The one weight gradient entry the text writes out as a sum adds up to the library's (and PyTorch's) value.
        let report = try explainReport(at: root.appendingPathComponent(path).path)
        let worked = try #require(report.rows[0].details.first { $0.contains("for example dC/dW1[0, 0, 0") })
        let first = try #require(report.gradient("0.weight")?.scalars.first)
        #expect(worked.hasSuffix("= \(formatNumber(first))") || (first == 0 && worked.contains("every term is 0")), "\(name): \(worked)")
    }

    @Test("the issue's example: C = 19.36, dC/dW1 kernel-shaped, how it was formed, where the max routed")
    func issueExample() throws {
        let path = root.appendingPathComponent("examples/conv2d.json").path
        let report = try explainReport(at: path)
        #expect(report.loss == 19.36 || abs(report.loss - 19.36) < 1e-12)
        let dW = try #require(report.gradient("0.weight"))
        #expect(dW.shape == [1, 1, 2, 2])
        // dC/dW1[0, 0, p, q] = Σ_i,j dC/ds1[i, j] x[i + p, j + q]: dC/ds1 is 0.88, 1.76, 2.64, 3.52 at (1,0), (1,2), (3,1), (3,3).
        let x: [[Double]] = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [1, 3, 5, 7, 9], [2, 4, 6, 8, 10], [0, 1, 0, 1, 0]]
        let g: [(Int, Int, Double)] = [(1, 0, 0.88), (1, 2, 1.76), (3, 1, 2.64), (3, 3, 3.52)]
        let byHand = [(0, 0), (0, 1), (1, 0), (1, 1)].map { p, q in g.reduce(0.0) { $0 + $1.2 * x[$1.0 + p][$1.1 + q] } }
        #expect(zip(dW.scalars, byHand).allSatisfy { abs($0 - $1) < 1e-12 }, "\(dW.scalars) vs \(byHand)")
        #expect(report.rows[0].output.shape == [1, 4, 4] && report.rows[2].output.shape == [1, 2, 2], "feature maps keep their shape")

        let text = report.text(source: "examples/conv2d.json")
        for phrase in ["dC/dW1 is the input x correlated with dY = dC/ds1",
                       "for example dC/dW1[0, 0, 0, 0] = 0.88·6 + 1.76·8 + 2.64·4 + 3.52·8 = 58.08",
                       "dC/dx is dY = dC/ds1 convolved with the flipped kernel",
                       "a1'[0, 1, 1] = 8.5, the max at a1[0, 3, 3]: dC/da1[0, 3, 3] gets dC/da1'[0, 1, 1] = 3.52",
                       "  0.weight    [1, 1, 2, 2]   [[[[ 1,  0],             [[[[58.08, 73.04],",
                       "                                [ 0, -1]]]]              [15.84, 14.96]]]]"] {
            #expect(text.contains(phrase), "text lacks: \(phrase)")
        }
    }

    @Test("batch norm: batch statistics and updated running statistics in training mode; running statistics in eval mode")
    func batchNormText() throws {
        let training = try explainReport(at: root.appendingPathComponent("examples/conv-batchnorm.json").path)
        #expect(training.rows[1].isTraining)
        let text = training.text()
        #expect(text.contains("channel 0: mean 2, var 10.75, √(var + 1e-05) = 3.27872; running_mean 0 → 0.2, running_var 1 → 2.12857"))
        // Points are coupled through the batch statistics: no per-point dy~/dx.
        #expect(training.jacobian("dy~/dx") == nil && training.jacobian("da2/ds2") != nil)
        #expect(training.notes.contains { $0.contains("no per-example Jacobians") })
        #expect(training.buffers.map(\.name) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])

        let eval = try explainReport(at: root.appendingPathComponent("examples/conv1d.json").path)
        #expect(!eval.rows[1].isTraining)
        #expect(eval.text().contains("channel 1: running_mean -0.5, running_var 2"))
        // Evaluation mode leaves the running statistics as given.
        #expect(eval.buffers.first { $0.name == "1.running_var" }?.value.scalars == [4, 2])
        // One example [C, L] runs as a batch of one and is shown without that axis; the Jacobian is per example.
        #expect(eval.input.shape == [2, 6] && eval.rows[0].output.shape == [2, 3])
        #expect(eval.jacobian("dy~/dx")?.shape == [2, 12])
    }

    static let issue = #"""
    {"layers": [{"type": "conv2d", "weight": [[[[1, 0], [0, -1]]]], "bias": [0.5], "stride": 1, "padding": 0, "dilation": 1, "groups": 1},
                {"type": "relu"},
                {"type": "max_pool2d", "kernel_size": 2, "stride": 2},
                {"type": "flatten"},
                {"type": "linear", "weight": [[0.1, 0.2, 0.3, 0.4]], "bias": [0]}],
     "loss": {"type": "mse", "reduction": "sum"},
     "x": [[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [1, 3, 5, 7, 9], [2, 4, 6, 8, 10], [0, 1, 0, 1, 0]]], "y": [1]}
    """#

    static let bn = #"""
    {"layers": [{"type": "conv2d", "weight": [[[[1]]], [[[2]]]]},
                {"type": "batch_norm2d", "running_mean": [0, 0], "training": true},
                {"type": "flatten"}, {"type": "layer_norm", "normalized_shape": [8], "weight": [1, 1, 1, 1, 1, 1, 1, 1]}],
     "loss": {"type": "mse"}, "x": [[[1, 2], [3, 4]]], "y": [1, 2, 3, 4, 5, 6, 7, 8]}
    """#

    static let badInputs: [(String, String, String, String)] = [
        ("x of the wrong rank", issue, #""x": [[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [1, 3, 5, 7, 9], [2, 4, 6, 8, 10], [0, 1, 0, 1, 0]]]"#, #""x": [1, 2, 3]"#),
        ("input channels", issue, #""x": [[["#, #""x": [[[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], [["#),
        ("kernel rank", issue, "[[[[1, 0], [0, -1]]]]", "[[[1, 0], [0, -1]]]"),
        ("bias length", issue, #""bias": [0.5], "stride""#, #""bias": [0.5, 1], "stride""#),
        ("stride", issue, #""stride": 1, "padding": 0"#, #""stride": 0, "padding": 0"#),
        ("unknown conv key", issue, #""groups": 1}"#, #""groups": 1, "kernel_size": 2}"#),
        ("kernel larger than the input", issue, #""padding": 0, "dilation": 1"#, #""padding": 0, "dilation": 9"#),
        ("linear after flatten", issue, "[[0.1, 0.2, 0.3, 0.4]]", "[[0.1, 0.2, 0.3]]"),
        ("running_mean length", bn, #""running_mean": [0, 0]"#, #""running_mean": [0, 0, 0]"#),
        ("training not a bool", bn, #""training": true"#, #""training": "yes""#),
        ("negative running_var", bn, #""running_mean": [0, 0]"#, #""running_mean": [0, 0], "running_var": [1, -1]"#),
        ("layer_norm weight shape", bn, "[1, 1, 1, 1, 1, 1, 1, 1]", "[1, 1]"),
        ("training on one value per channel", bn, #""x": [[[1, 2], [3, 4]]]"#, #""x": [[[1]]]"#),
    ]

    static let expectedMessages = [
        "x: expected one example [C, H, W] or a batch [N, C, H, W] (layers[0] is a conv2d), got shape [3]",
        "layers[0].weight: expected shape [1, 2, kH, kW] (the input has 2 channels), got [1, 1, 2, 2]",
        "layers[0].weight: expected a kernel of shape [out_channels, in_channels/groups, kH, kW], got shape [1, 2, 2]",
        "layers[0].bias: expected 1 values (one per output channel of the weight [1, 1, 2, 2]), got shape [2]",
        "layers[0].stride: must be positive, got [0, 0]",
        "layers[0]: unknown key 'kernel_size' for a conv2d layer (expected type, weight, bias, stride, padding, dilation, groups)",
        "layers[0]: conv2d kernel (2, 2) (dilation (9, 9)) is larger than the padded input [1, 5, 5]",
        "layers[4].weight: expected 1 x 4, got 1 x 3",
        "layers[1].running_mean: expected 2 values (one per channel of the input [2, 2, 2]), got shape [3]",
        "layers[1].training: expected true or false, got a string",
        "layers[1].running_var: a variance cannot be negative; element 1 is -1",
        "layers[3].weight: expected shape [8] (normalized_shape), got [2]",
        "layers[1].training: training mode needs more than one value per channel to take a variance; the input has 1 (a batch of 1 of shape [2, 1, 1])",
    ]

    @Test("shapes are checked before computing; errors name the JSON path", arguments: badInputs.indices)
    func badInput(_ k: Int) throws {
        let (name, base, original, replacement) = Self.badInputs[k]
        #expect(base.contains(original), "\(name): test input")
        do {
            _ = try explainConvProblem(base.replacingOccurrences(of: original, with: replacement)).explain()
            Issue.record("\(name): no error")
        } catch let error as ExplainError {
            #expect(error.description == Self.expectedMessages[k], "\(name)")
        }
    }

    @Test("x of one example or a batch, by the first layer that fixes an example's rank")
    func batchOrExample() throws {
        #expect(try ExplainProblem.inputIsBatch([1, 5, 5], layerTypes: ["conv2d", "relu"]) == false)
        #expect(try ExplainProblem.inputIsBatch([2, 1, 5, 5], layerTypes: ["conv2d"]) == true)
        #expect(try ExplainProblem.inputIsBatch([2, 6], layerTypes: ["conv1d"]) == false)
        #expect(try ExplainProblem.inputIsBatch([3, 2, 6], layerTypes: ["relu", "conv1d"]) == true)
        #expect(try ExplainProblem.inputIsBatch([2], layerTypes: ["linear"]) == false)
        #expect(try ExplainProblem.inputIsBatch([4, 2], layerTypes: ["tanh", "linear"]) == true)
        #expect(try ExplainProblem.inputIsBatch([4, 2], layerTypes: ["batch_norm1d", "linear"]) == true)
        #expect(try ExplainProblem.inputIsBatch([2, 6], layerTypes: ["batch_norm1d", "conv1d"]) == false)
        #expect(try ExplainProblem.inputIsBatch([2, 6], layerTypes: ["flatten", "linear"]) == true)
        #expect(try ExplainProblem.inputIsBatch([2, 3, 4], layerTypes: ["relu"]) == true)
        #expect(throws: ExplainError("x", "expected an array: one example (such as [n] or [C, H, W]) or a batch of them, got a single number")) {
            try ExplainProblem.inputIsBatch([], layerTypes: ["relu"])
        }
        #expect(throws: ExplainError("x", "expected one point [n] or a batch [[...], ...] of shape [N, n], got shape [1, 5, 5]")) {
            try ExplainProblem.inputIsBatch([1, 5, 5], layerTypes: ["linear"])
        }
        // The same conv network on a batch of two copies of the issue's x: twice the sum-reduced loss, per-example Jacobians.
        let x = #"[[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [1, 3, 5, 7, 9], [2, 4, 6, 8, 10], [0, 1, 0, 1, 0]]]"#
        let batch = try explainConvProblem(Self.issue.replacingOccurrences(of: x, with: "[\(x), \(x)]").replacingOccurrences(of: #""y": [1]"#, with: #""y": [[1], [1]]"#)).explain()
        let one = try explainConvProblem(Self.issue).explain()
        #expect(abs(batch.loss - 2 * one.loss) < 1e-12)
        #expect(zip(batch.gradient("0.weight")!.scalars, one.gradient("0.weight")!.scalars).allSatisfy { abs($0 - 2 * $1) < 1e-12 })
        #expect(batch.jacobian("dy~/dx")?.shape == [2, 1, 25] && one.jacobian("dy~/dx")?.shape == [1, 25])
    }

    @Test("a problem from its parts (as explain --checkpoint builds it): conv layers, buffers and training mode")
    func fromParts() throws {
        let fromFile = try explainConvProblem(Self.bn)
        let parts = try ExplainProblem(layers: fromFile.layers, parameters: fromFile.parameters, buffers: fromFile.buffers,
                                       training: fromFile.trainingLayers, loss: fromFile.loss,
                                       input: ExplainValue(shape: fromFile.inputShape, scalars: fromFile.input), target: fromFile.target)
        let (a, b) = (try fromFile.explain(), try parts.explain())
        #expect(a.loss == b.loss && a.gradients == b.gradients && a.buffers == b.buffers)
        // Without its running statistics, an eval-mode batch norm uses PyTorch's initial ones, and says so.
        let noBuffers = try ExplainProblem(layers: fromFile.layers, parameters: fromFile.parameters, loss: fromFile.loss,
                                           input: ExplainValue(shape: fromFile.inputShape, scalars: fromFile.input), target: fromFile.target)
        #expect(try noBuffers.explain().notes.contains { $0.hasPrefix("layers[1] (batch_norm2d) runs in evaluation mode with running statistics that were not given") })
        #expect(try !fromFile.explain().notes.contains { $0.contains("were not given") })
        #expect(throws: ExplainError("1.running_mean", "expected shape [2], got [3]")) {
            try ExplainProblem(layers: fromFile.layers, parameters: fromFile.parameters,
                               buffers: [("1.running_mean", ExplainValue(shape: [3], scalars: [0, 0, 0]))], loss: fromFile.loss,
                               input: ExplainValue(shape: fromFile.inputShape, scalars: fromFile.input), target: fromFile.target)
        }
    }

    @Test("the README's conv excerpt is the command's real output (\"...\" skips lines)")
    func readmeExcerpt() throws {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let command = "$ swift run backprop explain examples/conv2d.json\n"
        let start = try #require(readme.range(of: command))
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        let excerpt = readme[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let output = try explainFile(at: root.appendingPathComponent("examples/conv2d.json").path)
            .replacingOccurrences(of: root.appendingPathComponent("examples").path, with: "examples")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var k = 0
        var skipping = false
        for line in excerpt {
            if line == "..." { skipping = true; continue }
            if skipping {
                guard let found = output[k...].firstIndex(of: line) else { Issue.record("README line not in the output: \(line)"); return }
                k = found + 1
                skipping = false
            } else {
                #expect(k < output.count && output[k] == line, "README line \(line) differs from the output's \(k < output.count ? output[k] : "end")")
                k += 1
            }
        }
        #expect(excerpt.count > 40)
    }

    @Test("a large map's local Jacobian is left out, with a note; the gradients are still all there")
    func largeJacobianLeftOut() throws {
        let x = "[" + (0..<20).map { r in "[" + (0..<20).map { String(($0 * 7 + r * 3) % 11 - 5) }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        let w = "[" + (0..<324).map { String(Double($0 % 5) / 10) }.joined(separator: ", ") + "]"
        let json = """
        {"layers": [{"type": "conv2d", "weight": [[[[1, 0, 0], [0, 1, 0], [0, 0, -1]]]], "bias": [0]}, {"type": "relu"},
                    {"type": "flatten"}, {"type": "linear", "weight": [\(w)], "bias": [0]}],
         "loss": {"type": "mse", "reduction": "sum"}, "x": [\(x)], "y": [1]}
        """
        let report = try explainConvProblem(json).explain()
        // relu on [1, 18, 18]: 324 x 324 = 104,976 entries, above the limit; flatten's is too; dy~/dx is 1 x 400.
        #expect(report.jacobian("da1/ds1") == nil && report.jacobian("da1'/da1") == nil)
        #expect(report.jacobian("dy~/dx")?.shape == [1, 400])
        #expect(report.notes.contains("da1/ds1, da1'/da1 are left out: more than 65536 entries per example; the gradients are computed in full."))
        #expect(report.gradient("0.weight")?.shape == [1, 1, 3, 3])
        // A [1, 324] weight is too wide to print beside its gradient: the table shows the gradients only.
        let text = report.text()
        #expect(text.contains("  parameter   shape          gradient\n"))
        #expect(text.contains("(the parameters' values are too wide to print beside their gradients; they are in the JSON report)"))
    }

    @Test("the page shows an elementwise derivative only for a diagonal Jacobian (relu), never for log_softmax or a pool")
    func elementwiseOnlyWhenDiagonal() throws {
        let dense = try explainConvProblem(#"""
        {"layers": [{"type": "linear", "weight": [[1, 2], [3, -1], [0, 1]]}, {"type": "relu"}, {"type": "log_softmax"}],
         "loss": {"type": "mse", "reduction": "sum"}, "x": [1, 2], "y": [0, 0, 0]}
        """#).explain()
        let page = ExplainPageModel(dense)
        #expect(page.layers[1].derivative?.scalars == [1, 1, 1])
        #expect(page.layers[2].derivative == nil && page.layers[2].jacobian != nil)
        let conv = ExplainPageModel(try explainConvProblem(Self.issue).explain())
        #expect(conv.layers[1].derivative?.shape == [1, 4, 4])    // relu on the maps, in their shape
        #expect(conv.layers[2].derivative == nil && conv.layers[3].derivative == nil)   // max pool, flatten
    }
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI
import ArgumentParser

/// Plain-Swift matrices for writing the homework's backward formulas out by hand,
/// independently of the library's autograd.
private typealias Matrix = [[Double]]
private func matmul(_ a: Matrix, _ b: Matrix) -> Matrix {
    a.map { row in (0..<b[0].count).map { j in zip(row, b).reduce(0) { $0 + $1.0 * $1.1[j] } } }
}
private func transpose(_ a: Matrix) -> Matrix { (0..<a[0].count).map { j in a.map { $0[j] } } }
private func column(_ v: [Double]) -> Matrix { v.map { [$0] } }
private func diag(_ v: [Double]) -> Matrix { v.indices.map { i in v.indices.map { $0 == i ? v[i] : 0 } } }
@Sendable private func sigma(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private func example(_ name: String) -> String { packageRoot.appendingPathComponent("examples/\(name)").path }

private func problem(_ json: String) throws -> ExplainProblem { try ExplainProblem(json: Data(json.utf8), source: "test.json") }

private func close(_ a: ExplainValue?, _ b: Matrix, tol: Double = 1e-10) -> Bool {
    guard let a else { return false }
    let flat = b.flatMap { $0 }
    return a.scalars.count == flat.count && zip(a.scalars, flat).allSatisfy { Swift.abs($0 - $1) <= tol * Swift.max(1, Swift.abs($1)) }
}
private func close(_ a: ExplainValue?, _ b: [Double], tol: Double = 1e-10) -> Bool { close(a, [b], tol: tol) }

@Suite("Explain")
struct ExplainTests {
    // MARK: the homework's table, against the formulas written out

    /// One configuration of the homework's network: f, g and the cost, with their derivatives by hand.
    struct Configuration: Sendable {
        let fixture: String, example: String
        let f: @Sendable (Double) -> Double, df: @Sendable (Double) -> Double
        let g: @Sendable (Double) -> Double, dg: @Sendable (Double) -> Double
        let bce: Bool
    }

    static let configurations: [Configuration] = [
        .init(fixture: "relu_identity_sqdist", example: "regression-relu.json",
              f: { Swift.max($0, 0) }, df: { $0 > 0 ? 1 : 0 }, g: { $0 }, dg: { _ in 1 }, bce: false),
        .init(fixture: "relu3_identity_sqdist", example: "regression-3relu.json",
              f: { 3 * Swift.max($0, 0) }, df: { $0 > 0 ? 3 : 0 }, g: { $0 }, dg: { _ in 1 }, bce: false),
        .init(fixture: "tanh_sigmoid_sqdist", example: "classification-tanh-sigmoid-mse.json",
              f: { Foundation.tanh($0) }, df: { 1 - Foundation.tanh($0) * Foundation.tanh($0) },
              g: sigma, dg: { sigma($0) * (1 - sigma($0)) }, bce: false),
        .init(fixture: "tanh_sigmoid_bce", example: "classification-tanh-sigmoid-bce.json",
              f: { Foundation.tanh($0) }, df: { 1 - Foundation.tanh($0) * Foundation.tanh($0) },
              g: sigma, dg: { sigma($0) * (1 - sigma($0)) }, bce: true),
        .init(fixture: "relu_tanh_sqdist", example: "deeper-relu-tanh.json",
              f: { Swift.max($0, 0) }, df: { $0 > 0 ? 1 : 0 },
              g: { Foundation.tanh($0) }, dg: { 1 - Foundation.tanh($0) * Foundation.tanh($0) }, bce: false),
    ]

    @Test("the homework's table: gradients of W1, b1, W2, b2 and the local Jacobians match the formulas, gradcheck and PyTorch",
          arguments: configurations.indices)
    func seedNetwork(_ k: Int) throws {
        let c = Self.configurations[k]
        let networks = try #require(try PyTorchFixture.object("seed_networks.json")["networks"] as? [[String: Any]])
        let net = try #require(networks.first { $0["id"] as? String == c.fixture })
        let W1 = try #require(net["W1"] as? Matrix), W2 = try #require(net["W2"] as? Matrix)
        let b1 = try #require(net["b1"] as? [Double]), b2 = try #require(net["b2"] as? [Double])
        let x = try #require(net["x"] as? [Double]), y = try #require(net["y"] as? [Double])
        let K = Double(y.count)

        // Forward: s1 = W1 x + b1; a1 = f(s1); s2 = W2 a1 + b2; y~ = g(s2).
        let s1 = zip(matmul(W1, column(x)).map { $0[0] }, b1).map(+)
        let a1 = s1.map(c.f)
        let s2 = zip(matmul(W2, column(a1)).map { $0[0] }, b2).map(+)
        let yt = s2.map(c.g)
        // dC/dy~ as a 1 x K row vector.
        let dCdy: Matrix = c.bce
            ? [zip(y, yt).map { (yi, p) in (-(yi / p) + (1 - yi) / (1 - p)) / K }]
            : [zip(yt, y).map { 2 * ($0 - $1) }]
        let dyds2 = diag(s2.map(c.dg))
        let dCds2 = matmul(dCdy, dyds2)                    // dC/ds2 = dC/dy~ · dy~/ds2
        let dCdW2 = matmul(transpose(dCds2), [a1])         // (dC/ds2)ᵀ a1ᵀ, K x d
        let dCdb2 = transpose(dCds2)                       // (dC/ds2)ᵀ
        let dCda1 = matmul(dCds2, W2)                      // dC/ds2 · W2
        let da1ds1 = diag(s1.map(c.df))
        let dCds1 = matmul(dCda1, da1ds1)                  // dC/da1 · da1/ds1
        let dCdW1 = matmul(transpose(dCds1), [x])          // (dC/ds1)ᵀ xᵀ, d x n
        let dCdb1 = transpose(dCds1)

        let report = try ExplainProblem(json: Data(contentsOf: URL(fileURLWithPath: example(c.example)))).explain()
        #expect(close(report.outputs.last, yt), "\(c.fixture): y~")
        #expect(close(report.gradient("0.weight"), dCdW1), "\(c.fixture): dC/dW1")
        #expect(close(report.gradient("0.bias"), dCdb1), "\(c.fixture): dC/db1")
        #expect(close(report.gradient("2.weight"), dCdW2), "\(c.fixture): dC/dW2")
        #expect(close(report.gradient("2.bias"), dCdb2), "\(c.fixture): dC/db2")
        #expect(report.gradient("2.weight")?.shape == [W2.count, W2[0].count], "gradient in the parameter's shape")
        #expect(close(report.jacobian("da1/ds1"), da1ds1), "\(c.fixture): da1/ds1")
        #expect(close(report.jacobian("dy~/ds2"), dyds2), "\(c.fixture): dy~/ds2")
        #expect(close(report.jacobian("dC/dy~"), dCdy), "\(c.fixture): dC/dy~")
        #expect(report.jacobian("dC/dy~")?.shape == [1, y.count])
        // dy~/dx = dy~/ds2 · W2 · da1/ds1 · W1.
        #expect(close(report.jacobian("dy~/dx"), matmul(matmul(matmul(dyds2, W2), da1ds1), W1)), "\(c.fixture): dy~/dx")

        // PyTorch's numbers (float64).
        let forward = try #require(net["forward"] as? [String: Any])
        let grads = try #require(net["gradients"] as? [String: Any])
        #expect(Swift.abs(report.loss - (try #require(forward["cost"] as? Double))) < 1e-12)
        #expect(close(report.gradient("0.weight"), try #require(grads["W1"] as? Matrix), tol: 1e-12))
        #expect(close(report.gradient("2.weight"), try #require(grads["W2"] as? Matrix), tol: 1e-12))
        #expect(close(report.inputGradient, try #require(grads["x"] as? [Double]), tol: 1e-12))

        // gradcheck: the same cost as a function of (W1, b1, W2, b2), by finite differences.
        let cost: ([Tensor<Double>]) -> Tensor<Double> = { p in
            // The network written out with ops: Linear as x Wᵀ + b, each activation by its description.
            var out = Tensor<Double>(x), k = 0
            for layer in report.rows.map(\.layer) {
                if case .linear = layer {
                    out = matmul(out, p[2 * k].T) + p[2 * k + 1]
                    k += 1
                } else {
                    out = layer.activationFunction!(out)
                }
            }
            return c.bce ? binaryCrossEntropy(out, Tensor(y)) : mseLoss(out, Tensor(y), reduction: .sum)
        }
        let result = gradcheck(cost, at: [Tensor(W1), Tensor(b1), Tensor(W2), Tensor(b2)])
        #expect(result.passed, "\(c.fixture): \(result)")
    }

    // MARK: the shipped examples give the lab's and the homework's numbers

    static func jsonReport(_ name: String, step: Double? = nil) throws -> [String: Any] {
        let text = try explainFile(at: example(name), json: true, learningRate: step)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("lab network (the lab): z = h = (24, 47, 86), o = (320, 347)")
    func labNetwork() throws {
        let json = try Self.jsonReport("lab-network.json")
        let outputs = try #require(json["outputs"] as? [[Double]])
        #expect(outputs == [[24, 47, 86], [24, 47, 86], [320, 347], [320, 347]])
        #expect(json["loss"] as? Double == 49)
        let gradients = try #require(json["gradients"] as? [String: Any])
        #expect(Set(gradients.keys) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(gradients["0.weight"] as? Matrix == [[420, 210], [560, 280], [140, 70]])
        #expect(gradients["0.bias"] as? [Double] == [42, 56, 14])
        #expect(gradients["2.weight"] as? Matrix == [[0, 0, 0], [336, 658, 1204]])
        #expect(gradients["2.bias"] as? [Double] == [0, 14])
        let jacobians = try #require(json["jacobians"] as? [String: Any])
        #expect(jacobians["da1/ds1"] as? Matrix == [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        #expect(jacobians["dy~/ds2"] as? Matrix == [[1, 0], [0, 1]])
        #expect(jacobians["dC/dy~"] as? Matrix == [[0, 14]])
        #expect(jacobians["dy~/dx"] as? Matrix == [[20, 19], [18, 29]])
        #expect(json["input_gradient"] as? [Double] == [252, 406])
    }

    @Test("the issue's 3 ReLU network: a1 = 3 h, o = (950, 1039), PyTorch's gradients")
    func seed3ReLU() throws {
        let json = try Self.jsonReport("seed-3relu.json")
        let outputs = try #require(json["outputs"] as? [[Double]])
        #expect(outputs == [[24, 47, 86], [72, 141, 258], [950, 1039], [950, 1039]])
        #expect(json["loss"] as? Double == 885501)
        let gradients = try #require(json["gradients"] as? [String: Any])
        #expect(gradients["0.weight"] as? Matrix == [[277020, 138510], [205560, 102780], [117540, 58770]])
        #expect(gradients["2.weight"] as? Matrix == [[90720, 177660, 325080], [100656, 197118, 360684]])
        #expect(gradients["2.bias"] as? [Double] == [1260, 1398])
        let jacobians = try #require(json["jacobians"] as? [String: Any])
        #expect(jacobians["da1/ds1"] as? Matrix == [[3, 0, 0], [0, 3, 0], [0, 0, 3]])
    }

    @Test("lab softmax + cross-entropy: L = 0.0067153, dC/dv = o - y = (-0.0066929, 0.0066929)")
    func labSoftmaxCrossEntropy() throws {
        let json = try Self.jsonReport("lab-softmax-cross-entropy.json")
        #expect(Swift.abs(try #require(json["loss"] as? Double) - 0.0067153) < 5e-8)
        let o = try #require((json["outputs"] as? [[Double]])?.first)
        let dv = try #require(json["input_gradient"] as? [Double])
        #expect(Swift.abs(dv[0] - (o[0] - 1)) < 1e-15 && Swift.abs(dv[1] - o[1]) < 1e-15)
        #expect(Swift.abs(dv[0] + 0.0066929) < 5e-8)
    }

    @Test("--step: one SGD step θ - η dC/dθ, and the loss it gives")
    func sgdStep() throws {
        let json = try Self.jsonReport("lab-network.json", step: 0.001)
        let step = try #require(json["step"] as? [String: Any])
        let parameters = try #require(step["parameters"] as? [String: Any])
        let w1 = try #require(parameters["0.weight"] as? Matrix)
        let expected: Matrix = [[1 - 0.42, 2 - 0.21], [2 - 0.56, 5 - 0.28], [7 - 0.14, 3 - 0.07]]
        #expect(zip(w1.flatMap { $0 }, expected.flatMap { $0 }).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        #expect(parameters["2.bias"] as? [Double] == [5, 1 - 0.014])
        // The new loss, computed by hand from the stepped parameters.
        let W1 = expected, b1 = [4 - 0.042, 2 - 0.056, 1 - 0.014]
        let W2: Matrix = [[4, 1, 2], [3 - 0.336, 4 - 0.658, 1 - 1.204]], b2 = [5, 1 - 0.014]
        let h = zip(matmul(W1, column([10, 5])).map { $0[0] }, b1).map { Swift.max($0 + $1, 0) }
        let o = zip(matmul(W2, column(h)).map { $0[0] }, b2).map(+)
        let loss = zip(o, [320.0, 340]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        #expect(Swift.abs(try #require(step["loss"] as? Double) - loss) < 1e-9)
    }

    @Test("--dtype float32 gives the lab's numbers too")
    func float32() throws {
        let report = try ExplainProblem(json: Data(contentsOf: URL(fileURLWithPath: example("lab-network.json")))).explain(dtype: .float32)
        #expect(report.dtype == .float32)
        #expect(report.outputs.last?.scalars == [320, 347])
        #expect(report.gradient("0.weight")?.scalars == [420, 210, 560, 280, 140, 70])
    }

    @Test("a batch: sum-reduced loss and gradients are the sums over its points; Jacobians per point")
    func batch() throws {
        let layers = """
        [{"type": "linear", "weight": [[1, -1], [0.5, 2], [-1, 0.5]], "bias": [0, 0.1, -0.1]},
         {"type": "tanh"}, {"type": "linear", "weight": [[1, 0, -1], [0.5, 1, 0.5]], "bias": [0.2, 0]}]
        """
        let points: [([Double], [Double])] = [([1, 2], [0.5, -1]), ([0.5, -1], [2, 0]), ([-2, 0.25], [0, 1])]
        func json(_ x: String, _ y: String) -> String {
            "{\"layers\": \(layers), \"loss\": {\"type\": \"mse\", \"reduction\": \"sum\"}, \"x\": \(x), \"y\": \(y)}"
        }
        let whole = try problem(json("\(points.map(\.0))", "\(points.map(\.1))")).explain()
        let singles = try points.map { try problem(json("\($0.0)", "\($0.1)")).explain() }
        #expect(Swift.abs(whole.loss - singles.map(\.loss).reduce(0, +)) < 1e-12)
        for name in ["0.weight", "0.bias", "2.weight", "2.bias"] {
            let sum = singles.map { $0.gradient(name)!.scalars }.reduce(into: [Double](repeating: 0, count: whole.gradient(name)!.scalars.count)) {
                for i in $0.indices { $0[i] += $1[i] }
            }
            #expect(close(whole.gradient(name), sum, tol: 1e-12), "\(name)")
        }
        let jacobian = try #require(whole.jacobian("dy~/dx"))
        #expect(jacobian.shape == [3, 2, 2])
        for (n, single) in singles.enumerated() {
            #expect(close(ExplainValue(shape: [2, 2], scalars: Array(jacobian.scalars[n * 4..<n * 4 + 4])), single.jacobian("dy~/dx")!.scalars))
            #expect(close(ExplainValue(shape: [3, 3], scalars: Array(whole.jacobian("da1/ds1")!.scalars[n * 9..<n * 9 + 9])),
                          single.jacobian("da1/ds1")!.scalars))
        }
    }

    /// The model files for `train --model` in examples/ (no weights, input or target: not explain problems).
    static let trainingModels: Set<String> = ["fashion-cnn.json"]

    @Test("every shipped example runs, in text and JSON, with and without --step")
    func allExamples() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".json") && !Self.trainingModels.contains($0) }
        #expect(names.count >= 8)
        for name in names {
            _ = try explainFile(at: example(name))
            let json = try Self.jsonReport(name, step: 0.1)
            for key in ["outputs", "loss", "gradients", "jacobians", "step"] { #expect(json[key] != nil, "\(name): \(key)") }
        }
    }

    // MARK: golden text

    @Test("text output of the lab example matches the golden file")
    func golden() throws {
        let report = try ExplainProblem(json: Data(contentsOf: URL(fileURLWithPath: example("lab-network.json")))).explain(learningRate: 0.001)
        let text = report.text(source: "examples/lab-network.json")
        let url = PyTorchFixture.directory.appendingPathComponent("golden/explain-lab.txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(text == golden)
    }

    // MARK: bad input: one line naming where

    static let lab = #"""
    {"layers": [{"type": "linear", "weight": [[1, 2], [2, 5], [7, 3]], "bias": [4, 2, 1]},
                {"type": "relu"},
                {"type": "linear", "weight": [[4, 1, 2], [3, 4, 1]], "bias": [5, 1]}],
     "loss": {"type": "mse", "reduction": "sum"}, "x": [10, 5], "y": [320, 340]}
    """#

    static let badInputs: [(String, String, String)] = [
        ("wrong weight shape", #"[[4, 1, 2], [3, 4, 1]], "bias": [5, 1]"#, #"[[4, 3], [1, 4], [2, 1]], "bias": [5, 1]"#),
        ("wrong bias length", #""bias": [5, 1]"#, #""bias": [5, 1, 0]"#),
        ("unknown layer type", #"{"type": "relu"}"#, #"{"type": "foo"}"#),
        ("unknown key", #"{"type": "relu"}"#, #"{"type": "relu", "slope": 2}"#),
        ("wrong value type", #"{"type": "relu"}"#, #"{"type": "relu", "scale": "3"}"#),
        ("missing loss type", #"{"type": "mse", "reduction": "sum"}"#, #"{"reduction": "sum"}"#),
        ("unknown loss type", #""type": "mse""#, #""type": "hinge""#),
        ("bad reduction", #""reduction": "sum""#, #""reduction": "none""#),
        ("missing x", #""x": [10, 5], "#, ""),
        ("ragged weight", "[[1, 2], [2, 5], [7, 3]]", "[[1, 2], [2, 5, 1], [7, 3]]"),
        ("wrong y shape", #""y": [320, 340]"#, #""y": [320, 340, 1]"#),
        ("x not numbers", #""x": [10, 5]"#, #""x": [10, "5"]"#),
        ("bce outside [0, 1]", #""type": "mse""#, #""type": "bce""#),
    ]

    static let expectedMessages = [
        "layers[2].weight: expected 2 x 3, got 3 x 2",
        "layers[2].bias: expected 2 values (weight is 2 x 3), got 3",
        "layers[1].type: unknown layer type 'foo' (expected one of linear, dropout, conv1d, conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, flatten, batch_norm1d, batch_norm2d, layer_norm, relu, leaky_relu, tanh, sigmoid, softplus, gelu, elu, silu, identity, softmax, log_softmax)",
        "layers[1]: unknown key 'slope' for a relu layer (expected type, scale)",
        "layers[1].scale: expected a number, got a string",
        "loss: missing key 'type'",
        "loss.type: unknown loss type 'hinge' (expected one of mse, l2, l1, huber, bce, cross_entropy)",
        "loss.reduction: expected 'mean' or 'sum', got 'none'",
        "top level: missing key 'x'",
        "layers[0].weight: ragged array: element [1] has shape [3], element [0] has shape [2]",
        "y: expected shape [2] (the network's output), got [3]",
        "x[1]: expected a number or an array of numbers, got a string",
        "y: bce needs targets in [0, 1]; element 0 is 320",
    ]

    @Test("bad input gives one line naming the JSON path", arguments: badInputs.indices)
    func badInput(_ k: Int) throws {
        let (name, original, replacement) = Self.badInputs[k]
        #expect(Self.lab.contains(original), "\(name): test input")
        let json = Self.lab.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try problem(json).explain()
            Issue.record("\(name): no error")
        } catch let error as ExplainError {
            #expect(error.description == Self.expectedMessages[k], "\(name)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("more bad input: class indices, outputs outside [0, 1] for bce, malformed JSON, missing file")
    func moreBadInput() throws {
        let ce = #"{"layers": [{"type": "linear", "weight": [[1, 2], [3, 4]]}], "loss": {"type": "cross_entropy"}, "x": [[1, 2], [3, 4]], "y": [0, 2]}"#
        #expect(throws: ExplainError("y[1]", "class index 2 out of range 0..<2 (the network has 2 outputs)")) { try problem(ce) }
        let fractional = ce.replacingOccurrences(of: "[0, 2]", with: "[0, 0.5]")
        #expect(throws: ExplainError("y[1]", "class index 0.5 is not a whole number")) { try problem(fractional) }
        let bce = Self.lab.replacingOccurrences(of: #""type": "mse""#, with: #""type": "bce""#)
            .replacingOccurrences(of: "[320, 340]", with: "[1, 0]")
        #expect(throws: ExplainError("loss", "bce needs the network's outputs in [0, 1] (end the network with a sigmoid); output element 0 is 320")) {
            try problem(bce).explain()
        }
        #expect(throws: ExplainError("test.json", "invalid JSON at line 2, column 10 (byte 24): unexpected character \"}\"")) {
            try problem("{\"layers\": [],\n \"loss\": }")
        }
        #expect(throws: ExplainError("test.json", "expected a JSON object with keys layers, loss, x, y; got an array")) {
            try problem("[1, 2]")
        }
        #expect(throws: ExplainError("/nonexistent/problem.json", "no such file")) {
            try explainFile(at: "/nonexistent/problem.json")
        }
    }

    // MARK: the command

    @Test("the command parses its options and throws the library's error on bad input")
    func command() throws {
        let parsed = try #require(try BackpropCommand.parseAsRoot(["explain", "p.json", "--json", "--step", "0.1", "--dtype", "float32"]) as? ExplainCommand)
        #expect(parsed.problem == "p.json" && parsed.json && parsed.learningRate == 0.1 && parsed.dtype == .float32)
        let missing = try #require(try BackpropCommand.parseAsRoot(["explain", "/nonexistent/p.json"]) as? ExplainCommand)
        #expect(throws: ExplainError("/nonexistent/p.json", "no such file")) { try missing.run() }
    }
}

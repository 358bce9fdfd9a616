import BackpropCore
import BackpropNN
import BackpropData

/// A network and its training loss: the layers of a `Sequential`, described by ``LayerSpec``s, in a
/// form that a checkpoint stores (so a model can be rebuilt from the file alone), that model files
/// hold, and that prints as the PyTorch code of the same `nn.Sequential`.
///
/// Its JSON form lists the layers as PyTorch names them, and also accepts the shorthand of a multilayer
/// perceptron (widths, one hidden activation in its command-line form, dropout):
///
/// ```swift
/// let spec = try ModelSpec(json: #"{"layers": [64, 128, 10], "activation": "leaky_relu:0.1"}"#)
/// spec.pytorchCode   // nn.Sequential(nn.Linear(64, 128), nn.LeakyReLU(negative_slope=0.1), nn.Linear(128, 10))
/// let same = try ModelSpec(json: #"{"layers": [{"type": "linear", "in_features": 64, "out_features": 128},
///     {"type": "leaky_relu", "negative_slope": 0.1}, {"type": "linear", "in_features": 128, "out_features": 10}]}"#)
/// let model = spec.makeModel(seed: 1)   // Sequential<Float>, named 0.weight, 0.bias, 2.weight, 2.bias
/// ```
public struct ModelSpec: Equatable, Sendable {
    /// The layers, in order, as in `nn.Sequential`.
    public var layers: [LayerSpec]
    /// The training loss.
    public var loss: LossKind

    /// A network from its layers.
    ///
    /// ```swift
    /// let spec = ModelSpec(layers: [.linear(inFeatures: 2, outFeatures: 1), .activation(.sigmoid)], loss: .mse)
    /// ```
    public init(layers: [LayerSpec], loss: LossKind = .crossEntropy) {
        self.layers = layers
        self.loss = loss
    }

    /// A multilayer perceptron: `Linear` layers between consecutive widths, each hidden one followed by
    /// `activation` (and dropout when `dropout > 0`). `[64, 128, 10]` builds
    /// `Sequential(Linear(64, 128), ReLU(), Linear(128, 10))`. Call ``validate(source:)`` to check it.
    ///
    /// ```swift
    /// let spec = ModelSpec(widths: [2, 32, 32, 1], activation: .tanh, loss: .mse)
    /// ```
    public init(widths: [Int], activation: Activation = .relu(), dropout: Double = 0, loss: LossKind = .crossEntropy) {
        var layers: [LayerSpec] = []
        for i in 0..<max(0, widths.count - 1) {
            layers.append(.linear(inFeatures: widths[i], outFeatures: widths[i + 1]))
            if i < widths.count - 2 {
                layers.append(.activation(activation))
                if dropout > 0 { layers.append(.dropout(p: dropout)) }
            }
        }
        self.init(layers: layers, loss: loss)
        if widths.count == 1 { self.layers = [.linear(inFeatures: widths[0], outFeatures: widths[0])] }
    }

    /// The number of input features: those of the first layer that fixes them.
    public var inputFeatures: Int? {
        for layer in layers { if case let .linear(i, _, _) = layer { return i } }
        return nil
    }

    /// The number of outputs for one example, or `nil` when the layers do not fit together.
    public var outputFeatures: Int? {
        guard let n = inputFeatures else { return nil }
        return (try? outputShape(for: [n]))?.last
    }

    /// The shape of one example's output for one example's input shape; errors name the layer (`layers[2]`).
    public func outputShape(for input: [Int]) throws -> [Int] {
        var shape = input
        for (i, layer) in layers.enumerated() { shape = try layer.outputShape(for: shape, path: "layers[\(i)]") }
        return shape
    }

    /// The number of parameters of the model it builds.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Checks the layers and that each one's output fits the next one's input; errors are ``DataError``s
    /// naming `source` and the layer: `model.json: layers[2]: linear takes 128 input features, ...`.
    public func validate(source: String = "model spec") throws {
        do {
            guard !layers.isEmpty else { throw SpecError("layers", "expected at least one layer") }
            for (i, layer) in layers.enumerated() { try layer.validate(path: "layers[\(i)]") }
            guard let n = inputFeatures else {
                throw SpecError("layers", "no linear layer: the input size is not known")
            }
            _ = try outputShape(for: [n])
            // Sizes that could never be allocated are refused here, before a model is built.
            var total = 0
            for layer in layers {
                for p in layer.parameterShapes {
                    let (n, overflow) = p.shape.reduce((1, false)) { acc, d in
                        let r = acc.0.multipliedReportingOverflow(by: d); return (r.partialValue, acc.1 || r.overflow)
                    }
                    let (sum, overflowSum) = total.addingReportingOverflow(n)
                    guard !overflow, !overflowSum, sum <= ModelSpec.maximumParameterCount else {
                        throw SpecError("layers", "the network would have more than \(ModelSpec.maximumParameterCount) parameters (\(layer.summary) alone: \(overflow ? "too many to count" : String(n)))")
                    }
                    total = sum
                }
            }
        } catch let error as SpecError {
            throw DataError(path: source, error.description)
        }
    }

    /// The most parameters a spec may describe: 2³¹ (8 GiB of float32), far above what trains here.
    public static let maximumParameterCount = 1 << 31

    /// The spec as JSON, layers as PyTorch names them:
    /// `{"layers":[{"type":"linear","in_features":64,"out_features":128},{"type":"relu"},...],"loss":"cross_entropy"}`.
    public var json: JSON {
        .object([("layers", .array(layers.map { try! JSON(encoding: $0) })), ("loss", .string(loss.rawValue))])
    }

    /// Parses JSON text (a file's contents); `source` names it in errors.
    public init(json text: String, source: String = "model spec") throws {
        try self.init(jsonValue: JSON.parse(text, source: source), source: source)
    }

    /// Reads a spec from a parsed JSON object: `layers` as layer objects, or as widths with `activation`
    /// (a command-line form such as `softplus:2`) and `dropout`; `loss` defaults to cross-entropy.
    /// Unknown keys are errors (a typo should not be silently ignored).
    public init(jsonValue v: JSON, source: String = "model spec") throws {
        func fail(_ path: String, _ message: String) -> DataError {
            DataError(path: source, path.isEmpty ? message : "\(path): \(message)")
        }
        guard let members = v.objectValue else { throw fail("", "the spec is \(v.kindName), not a JSON object") }
        guard let items = v["layers"]?.arrayValue else {
            throw fail("layers", "expected an array of layers ([{\"type\": \"linear\", ...}, ...]) or of widths ([64, 128, 10])")
        }
        let isShorthand = items.first.map { if case .number = $0 { return true } else { return false } } ?? false
        let known = isShorthand ? ["layers", "activation", "dropout", "loss"] : ["layers", "loss"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw fail("", "unknown key \"\(SpecError.clip(unknown.0))\" (known: \(known.joined(separator: ", ")))")
        }
        var loss = LossKind.crossEntropy
        if let l = v["loss"] {
            guard let s = l.stringValue, let k = LossKind(rawValue: s) else {
                throw fail("loss", "expected one of \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            loss = k
        }
        if isShorthand {
            var widths: [Int] = []
            for (i, item) in items.enumerated() {
                guard let w = item.intValue else { throw fail("layers[\(i)]", "expected an integer width, got \(item.kindName)") }
                guard w > 0 else { throw fail("layers[\(i)]", "widths must be positive, got \(w)") }
                widths.append(w)
            }
            guard widths.count >= 2 else { throw fail("layers", "need at least an input and an output width, got \(widths)") }
            var activation = Activation.relu()
            if let a = v["activation"] {
                guard let text = a.stringValue else { throw fail("activation", "expected a string such as \"relu\", got \(a.kindName)") }
                do { activation = try Activation(parsing: text) } catch let e as SpecError { throw fail("", e.message) }
            }
            var dropout = 0.0
            if let d = v["dropout"] {
                guard let x = d.numberValue else { throw fail("dropout", "expected a number, got \(d.kindName)") }
                guard x >= 0 && x < 1 else { throw fail("dropout", "must be in [0, 1), got \(x)") }
                dropout = x
            }
            self.init(widths: widths, activation: activation, dropout: dropout, loss: loss)
        } else {
            var layers: [LayerSpec] = []
            for (i, item) in items.enumerated() {
                do {
                    layers.append(try item.decode(LayerSpec.self, source: source, path: "layers[\(i)]"))
                } catch let e as SpecError {
                    throw fail(e.path, e.message)
                }
            }
            self.init(layers: layers, loss: loss)
        }
        try validate(source: source)
    }

    /// The network, initialised like PyTorch's modules from a generator seeded with `seed`.
    public func makeModel(seed: UInt64) -> Sequential<Float> { makeModel(Float.self, seed: seed) }

    /// The network in `Float` or `Double`, initialised like PyTorch's modules from a generator seeded with `seed`.
    ///
    /// ```swift
    /// let model = ModelSpec(widths: [3, 4, 2]).makeModel(Double.self, seed: 0)
    /// ```
    public func makeModel<S: TensorScalar>(_: S.Type, seed: UInt64) -> Sequential<S> {
        Sequential<S>(describedBy: layers, seed: seed)
    }

    /// The PyTorch code that builds the same network, e.g.
    /// `nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))`.
    public var pytorchCode: String {
        "nn.Sequential(" + layers.map(\.pytorchCode).joined(separator: ", ") + ")"
    }
}

/// The losses `backprop train` can minimise.
public enum LossKind: String, Sendable, CaseIterable, Codable {
    /// Softmax cross-entropy on logits, class targets (classification).
    case crossEntropy = "cross_entropy"
    /// Mean squared error (regression).
    case mse
    /// Mean absolute error (regression).
    case l1
    /// Huber loss with delta 1 (regression).
    case huber

    /// `true` for losses on class targets.
    public var isClassification: Bool { self == .crossEntropy }

    /// The mean loss of a batch.
    public func callAsFunction(_ output: Tensor<Float>, _ batch: Batch<Float>) -> Tensor<Float> {
        switch self {
        case .crossEntropy: return BackpropNN.crossEntropy(output, classIndices: batch.classIndices)
        case .mse: return mseLoss(output, batch.targets)
        case .l1: return l1Loss(output, batch.targets)
        case .huber: return huberLoss(output, batch.targets)
        }
    }
}

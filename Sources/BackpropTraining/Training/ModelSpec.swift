import BackpropCore
import BackpropNN
import BackpropData
/// A multilayer perceptron described by its layer sizes, in a form that
/// fits on a command line (`--layers 64,128,10 --activation relu`) or in a
/// JSON file, and that a checkpoint stores so a model can be rebuilt from the
/// file alone.
///
/// `layers` lists every width from input to output; between consecutive
/// `Linear` layers goes the activation (and dropout, if any), so
/// `[64, 128, 10]` builds `Sequential(Linear(64, 128), ReLU(), Linear(128, 10))`,
/// whose state_dict names (`0.weight`, `0.bias`, `2.weight`, `2.bias`) are
/// those of the same `nn.Sequential` in PyTorch.
///
/// ```swift
/// let spec = try ModelSpec(json: #"{"layers": [64, 128, 10], "activation": "relu"}"#)
/// let model = spec.makeModel(seed: 1)
/// ```
public struct ModelSpec: Equatable, Sendable {
    /// Widths from input to output; at least two.
    public var layers: [Int]
    /// The hidden activation: one of ``ModelSpec/activations``.
    public var activation: String
    /// Dropout probability after each hidden activation; 0 for none.
    public var dropout: Double
    /// The training loss: one of ``LossKind``.
    public var loss: LossKind

    /// Activation names accepted in specs and on the command line.
    public static let activations = ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu", "silu", "softplus"]

    /// A spec from its fields; call ``validate(source:)`` to check them.
    ///
    /// ```swift
    /// let spec = ModelSpec(layers: [2, 32, 32, 1], activation: "tanh", loss: .mse)
    /// let model = spec.makeModel(seed: 1)
    /// ```
    public init(layers: [Int], activation: String = "relu", dropout: Double = 0, loss: LossKind = .crossEntropy) {
        self.layers = layers
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
    }

    /// Checks the values; errors name `source` and the field.
    public func validate(source: String = "model spec") throws {
        guard layers.count >= 2 else {
            throw DataError(path: source, "layers \(layers): need at least an input and an output width")
        }
        if let i = layers.firstIndex(where: { $0 <= 0 }) {
            throw DataError(path: source, "layers[\(i)] is \(layers[i]); widths must be positive")
        }
        guard ModelSpec.activations.contains(activation) else {
            throw DataError(path: source, "activation \"\(activation)\" is not one of \(ModelSpec.activations.joined(separator: ", "))")
        }
        guard dropout >= 0 && dropout < 1 else { throw DataError(path: source, "dropout \(dropout) must be in [0, 1)") }
    }

    /// The spec as JSON: `{"layers":[64,128,10],"activation":"relu","dropout":0,"loss":"cross_entropy"}`.
    public var json: JSON {
        .object([
            ("layers", .array(layers.map { .number(Double($0)) })),
            ("activation", .string(activation)),
            ("dropout", .number(dropout)),
            ("loss", .string(loss.rawValue)),
        ])
    }

    /// Parses JSON text (a file's contents); `source` names it in errors.
    public init(json text: String, source: String = "model spec") throws {
        try self.init(jsonValue: JSON.parse(text, source: source), source: source)
    }

    /// Reads a spec from a parsed JSON object; unknown keys are errors (a typo
    /// should not be silently ignored).
    public init(jsonValue v: JSON, source: String = "model spec") throws {
        guard let members = v.objectValue else { throw DataError(path: source, "the spec is \(v.kindName), not a JSON object") }
        let known = ["layers", "activation", "dropout", "loss"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw DataError(path: source, "unknown key \"\(unknown.0)\" (known: \(known.joined(separator: ", ")))")
        }
        guard let items = v["layers"]?.arrayValue else { throw DataError(path: source, "\"layers\" must be an array of widths, e.g. [64, 128, 10]") }
        var layers: [Int] = []
        for (i, item) in items.enumerated() {
            guard let w = item.intValue else { throw DataError(path: source, "layers[\(i)] is \(item.kindName), not an integer") }
            layers.append(w)
        }
        var activation = "relu"
        if let a = v["activation"] {
            guard let s = a.stringValue else { throw DataError(path: source, "activation is \(a.kindName), not a string") }
            activation = s
        }
        var dropout = 0.0
        if let d = v["dropout"] {
            guard let x = d.numberValue else { throw DataError(path: source, "dropout is \(d.kindName), not a number") }
            dropout = x
        }
        var loss = LossKind.crossEntropy
        if let l = v["loss"] {
            guard let s = l.stringValue, let k = LossKind(rawValue: s) else {
                throw DataError(path: source, "loss must be one of \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            loss = k
        }
        self.init(layers: layers, activation: activation, dropout: dropout, loss: loss)
        try validate(source: source)
    }

    /// The network, initialised like PyTorch's `nn.Linear` from a seeded generator.
    public func makeModel(seed: UInt64) -> Sequential<Float> {
        var rng = SeededGenerator(seed: seed)
        var modules: [any Module<Float>] = []
        for i in 0..<(layers.count - 1) {
            modules.append(Linear<Float>(layers[i], layers[i + 1], generator: &rng))
            if i < layers.count - 2 {
                modules.append(ModelSpec.activationModule(activation))
                if dropout > 0 { modules.append(Dropout<Float>(probability: dropout, seed: seed &+ UInt64(i) &+ 1)) }
            }
        }
        return Sequential(modules)
    }

    static func activationModule(_ name: String) -> any Module<Float> {
        switch name {
        case "leaky_relu": return LeakyReLU<Float>()
        case "tanh": return Tanh<Float>()
        case "sigmoid": return Sigmoid<Float>()
        case "gelu": return GELU<Float>()
        case "elu": return ELU<Float>()
        case "silu": return SiLU<Float>()
        case "softplus": return Softplus<Float>()
        default: return ReLU<Float>()
        }
    }

    /// The PyTorch code that builds the same network, e.g.
    /// `nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))`.
    public var pytorchCode: String {
        let names = ["relu": "ReLU()", "leaky_relu": "LeakyReLU()", "tanh": "Tanh()", "sigmoid": "Sigmoid()",
                     "gelu": "GELU()", "elu": "ELU()", "silu": "SiLU()", "softplus": "Softplus()"]
        var parts: [String] = []
        for i in 0..<(layers.count - 1) {
            parts.append("nn.Linear(\(layers[i]), \(layers[i + 1]))")
            if i < layers.count - 2 {
                parts.append("nn." + names[activation]!)
                if dropout > 0 { parts.append("nn.Dropout(\(dropout))") }
            }
        }
        return "nn.Sequential(" + parts.joined(separator: ", ") + ")"
    }
}

/// The losses `backprop train` can minimise.
public enum LossKind: String, Sendable, CaseIterable {
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

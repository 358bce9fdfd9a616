import BackpropCore

// The one description of a layer of a `Sequential` network. The module it
// builds, its coded form (JSON files, checkpoint metadata), the shape it
// produces, its PyTorch code and its summary in tables all derive from here.
// To add a layer: add a case, and a branch in each switch below (the compiler
// lists them); its activation, if any, goes in Activation.swift.

/// One layer of a `Sequential` network, described by its hyperparameters (not its weights).
///
/// ```swift
/// let layers: [LayerSpec] = [.linear(inFeatures: 64, outFeatures: 128), .activation(.relu()),
///                            .dropout(p: 0.1), .linear(inFeatures: 128, outFeatures: 10)]
/// layers.map(\.pytorchCode)   // ["nn.Linear(64, 128)", "nn.ReLU()", "nn.Dropout(p=0.1)", "nn.Linear(128, 10)"]
/// ```
public enum LayerSpec: Hashable, Sendable {
    /// `y = x Wᵀ + b`, weight [out, in], as `nn.Linear(in_features, out_features, bias)`.
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool = true)
    /// An activation function (no parameters).
    case activation(Activation)
    /// Zeroes each element with probability `p` in training and scales the rest by 1/(1-p), as `nn.Dropout`.
    case dropout(p: Double)

    /// The `type` names, as JSON files spell them: `linear`, `dropout` and every activation's name.
    public static var typeNames: [String] { ["linear", "dropout"] + Activation.names }

    /// The `type` name: `linear`, `dropout`, or the activation's name (`relu`, `softplus`, ...).
    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .dropout: return "dropout"
        case let .activation(a): return a.name
        }
    }

    /// The activation, for an activation layer.
    public var activationFunction: Activation? { if case let .activation(a) = self { return a } else { return nil } }

    /// `true` for layers with parameters.
    public var hasParameters: Bool { !parameterShapes.isEmpty }

    /// The names and shapes of its parameters, as in PyTorch's `state_dict` (without the layer's index).
    ///
    /// ```swift
    /// LayerSpec.linear(inFeatures: 3, outFeatures: 2).parameterShapes   // [("weight", [2, 3]), ("bias", [2])]
    /// ```
    public var parameterShapes: [(name: String, shape: [Int])] {
        switch self {
        case let .linear(i, o, bias): return [("weight", [o, i])] + (bias ? [("bias", [o])] : [])
        case .activation, .dropout: return []
        }
    }

    /// The number of scalars in its parameters.
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Checks the hyperparameters; errors name `path` (`layers[2]`) and the key.
    public func validate(path: String = "") throws {
        func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch self {
        case let .linear(i, o, _):
            guard i > 0 else { throw SpecError(at("in_features"), "must be positive, got \(i)") }
            guard o > 0 else { throw SpecError(at("out_features"), "must be positive, got \(o)") }
        case let .dropout(p):
            guard p >= 0 && p < 1 else { throw SpecError(at("p"), "dropout probability must be in [0, 1), got \(p)") }
        case .activation:
            break   // checked when it was made
        }
    }

    /// The shape of one example's output given one example's input shape (no batch axis);
    /// throws a ``SpecError`` naming `path` when the input does not fit.
    ///
    /// ```swift
    /// try LayerSpec.linear(inFeatures: 64, outFeatures: 10).outputShape(for: [64])   // [10]
    /// ```
    public func outputShape(for input: [Int], path: String = "") throws -> [Int] {
        switch self {
        case let .linear(i, o, _):
            guard input.last == i else {
                throw SpecError(path, "linear takes \(i) input features, but its input has shape \(input)")
            }
            return input.dropLast() + [o]
        case .activation, .dropout:
            return input
        }
    }

    /// The module, initialised as PyTorch initialises it, from `generator`; `dropoutSeed` seeds a
    /// dropout layer's masks.
    ///
    /// ```swift
    /// var rng = SeededGenerator(seed: 0)
    /// let layer: any Module<Float> = LayerSpec.linear(inFeatures: 4, outFeatures: 2).makeModule(generator: &rng)
    /// ```
    public func makeModule<S: TensorScalar>(_: S.Type = S.self, generator: inout SeededGenerator,
                                            dropoutSeed: UInt64 = 0) -> any Module<S> {
        switch self {
        case let .linear(i, o, bias): return Linear<S>(i, o, bias: bias, generator: &generator)
        case let .activation(a): return a.module(S.self)
        case let .dropout(p): return Dropout<S>(probability: p, seed: dropoutSeed)
        }
    }

    /// The PyTorch code for the same layer: `nn.Linear(64, 128)`, `nn.ReLU()`, `nn.Dropout(p=0.1)`.
    public var pytorchCode: String {
        switch self {
        case let .linear(i, o, bias): return "nn.Linear(\(i), \(o)\(bias ? "" : ", bias=False"))"
        case let .activation(a): return a.pytorchCode
        case let .dropout(p): return "nn.Dropout(p=\(Activation.format(p)))"
        }
    }

    /// A short description for tables: `linear 2 -> 3`, `relu (scale 3)`, `dropout (p 0.1)`.
    public var summary: String {
        switch self {
        case let .linear(i, o, bias): return "linear \(i) -> \(o)\(bias ? "" : ", no bias")"
        case let .activation(a): return a.summary
        case let .dropout(p): return "dropout (p \(Activation.format(p)))"
        }
    }
}

/// Layers code as flat objects with a `type`: `{"type": "linear", "in_features": 64, "out_features": 10}`,
/// `{"type": "dropout", "p": 0.1}`, and each activation as ``Activation`` codes it (`{"type": "relu"}`).
extension LayerSpec: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let type = try container.decode(String.self, forKey: AnyKey("type"))
        let path = SpecError.path(decoder.codingPath)
        func only(_ keys: [String]) throws {
            if let extra = container.allKeys.map(\.stringValue).sorted().first(where: { !keys.contains($0) }) {
                throw SpecError(path, "unknown key '\(SpecError.clip(extra))' for a \(type) layer (expected \(keys.joined(separator: ", ")))")
            }
        }
        switch type {
        case "linear":
            try only(["type", "in_features", "out_features", "bias"])
            self = .linear(inFeatures: try container.decode(Int.self, forKey: AnyKey("in_features")),
                           outFeatures: try container.decode(Int.self, forKey: AnyKey("out_features")),
                           bias: try container.decodeIfPresent(Bool.self, forKey: AnyKey("bias")) ?? true)
        case "dropout":
            try only(["type", "p"])
            self = .dropout(p: try container.decodeIfPresent(Double.self, forKey: AnyKey("p")) ?? 0.5)
        default:
            guard Activation.names.contains(type) else {
                throw SpecError(path.isEmpty ? "type" : "\(path).type",
                                "unknown layer type '\(SpecError.clip(type))' (expected one of \(LayerSpec.typeNames.joined(separator: ", ")))")
            }
            self = .activation(try Activation(from: decoder))
        }
        try validate(path: path)
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case let .linear(i, o, bias):
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode("linear", forKey: AnyKey("type"))
            try container.encode(i, forKey: AnyKey("in_features"))
            try container.encode(o, forKey: AnyKey("out_features"))
            if !bias { try container.encode(false, forKey: AnyKey("bias")) }
        case let .dropout(p):
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode("dropout", forKey: AnyKey("type"))
            try container.encode(p, forKey: AnyKey("p"))
        case let .activation(a):
            try a.encode(to: encoder)
        }
    }
}

extension Sequential {
    /// A network built from layer descriptions, each module initialised as PyTorch initialises it from one
    /// generator seeded with `seed` (dropout layer `k` gets masks seeded with `seed + k + 1`).
    ///
    /// ```swift
    /// let model = Sequential<Float>(describedBy: [.linear(inFeatures: 2, outFeatures: 8), .activation(.tanh),
    ///                                             .linear(inFeatures: 8, outFeatures: 1)], seed: 1)
    /// ```
    public convenience init(describedBy layers: [LayerSpec], seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var modules: [any Module<Scalar>] = []
        var linearIndex = -1
        for layer in layers {
            if case .linear = layer { linearIndex += 1 }
            modules.append(layer.makeModule(Scalar.self, generator: &rng, dropoutSeed: seed &+ UInt64(max(linearIndex, 0)) &+ 1))
        }
        self.init(modules)
    }
}

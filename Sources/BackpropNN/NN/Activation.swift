import BackpropCore

// The one description of an activation function. Every form of an activation
// derives from this file: the Tensor function it applies, the module it
// builds, its command-line form (`softplus:2`), its coded form (JSON through
// `Codable`: `{"type": "softplus", "beta": 2}`), its PyTorch code
// (`nn.Softplus(beta=2)`) and its formula and derivative for explain tables.
// A new activation is a new case here and a row in `catalog`; nothing else.

/// An activation function with its parameters, as PyTorch names them.
///
/// ```swift
/// let a = try Activation(parsing: "softplus:2")      // .softplus(beta: 2, threshold: 20)
/// a.description                                      // "softplus:2"
/// a.pytorchCode                                      // "nn.Softplus(beta=2)"
/// let y = a(Tensor<Double>([-1, 0, 1]))              // the library's softplus op
/// let layer: any Module<Float> = a.module()          // Softplus<Float>(beta: 2)
/// ```
public enum Activation: Hashable, Sendable {
    /// `scale · max(x, 0)`; PyTorch's `nn.ReLU` is scale 1 (the homework's "3 ReLU" has scale 3).
    case relu(scale: Double = 1)
    /// `max(x, 0) + negativeSlope · min(x, 0)`, as `nn.LeakyReLU`.
    case leakyReLU(negativeSlope: Double = 0.01)
    /// The hyperbolic tangent.
    case tanh
    /// `1 / (1 + e^-x)`.
    case sigmoid
    /// `(1/β) log(1 + e^(βx))`, linear where `βx > threshold`, as `nn.Softplus`.
    case softplus(beta: Double = 1, threshold: Double = 20)
    /// `x Φ(x)`, exact or with the tanh approximation, as `nn.GELU`.
    case gelu(approximate: GELUApproximation = .none)
    /// `x` for `x > 0`, `α (e^x - 1)` otherwise, as `nn.ELU`.
    case elu(alpha: Double = 1)
    /// `x · sigmoid(x)`, as `nn.SiLU`.
    case silu
    /// The input unchanged, as `nn.Identity`.
    case identity
    /// Softmax over the last axis, as `nn.Softmax(dim=-1)`.
    case softmax
    /// Log-softmax over the last axis, as `nn.LogSoftmax(dim=-1)`.
    case logSoftmax

    /// One activation of each kind, with default parameters, in the order help texts list them.
    ///
    /// ```swift
    /// Activation.allKinds.map(\.name)   // ["relu", "leaky_relu", "tanh", ...]
    /// ```
    public static let allKinds: [Activation] = catalog.map { $0.make($0.parameters.map(\.defaultValue)) }

    /// The names, as commands and JSON files spell them.
    public static var names: [String] { catalog.map(\.name) }

    /// Every accepted command-line form, for help texts: `relu[:SCALE]`, `softplus[:BETA[:THRESHOLD]]`, ...
    public static var forms: [String] {
        catalog.map { e in
            e.name + e.parameters.map { "[:\($0.placeholder)" }.joined() + String(repeating: "]", count: e.parameters.count)
        }
    }

    // MARK: The catalog: one row per kind

    /// A parameter's value: a number, or one of a few words (gelu's `approximate`).
    public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
        /// A real number.
        case number(Double)
        /// A word from a fixed set.
        case word(String)

        /// The number, or `nil` for a word.
        public var number: Double? { if case let .number(v) = self { return v } else { return nil } }
        /// The value as the command line writes it (`2`, `0.1`, `tanh`).
        public var description: String {
            switch self {
            case let .number(v): return Activation.format(v)
            case let .word(w): return w
            }
        }
    }

    /// What a parameter is called and what it defaults to.
    public struct Parameter: Sendable {
        /// The key in JSON and in PyTorch's constructor (`negative_slope`, `beta`).
        public let key: String
        /// The value when none is given.
        public let defaultValue: ParameterValue
        /// The words accepted, for a word parameter.
        public let words: [String]
        /// What help texts write for it: `SLOPE`, `BETA`.
        public let placeholder: String
    }

    struct Entry: Sendable {
        let name: String
        let parameters: [Parameter]
        /// PyTorch's class name, without `nn.`.
        let pytorchName: String
        let make: @Sendable ([ParameterValue]) -> Activation
    }

    private static func number(_ key: String, _ value: Double, _ placeholder: String) -> Parameter {
        Parameter(key: key, defaultValue: .number(value), words: [], placeholder: placeholder)
    }

    static let catalog: [Entry] = [
        Entry(name: "relu", parameters: [number("scale", 1, "SCALE")], pytorchName: "ReLU") { .relu(scale: $0[0].number!) },
        Entry(name: "leaky_relu", parameters: [number("negative_slope", 0.01, "SLOPE")], pytorchName: "LeakyReLU") {
            .leakyReLU(negativeSlope: $0[0].number!)
        },
        Entry(name: "tanh", parameters: [], pytorchName: "Tanh") { _ in .tanh },
        Entry(name: "sigmoid", parameters: [], pytorchName: "Sigmoid") { _ in .sigmoid },
        Entry(name: "softplus", parameters: [number("beta", 1, "BETA"), number("threshold", 20, "THRESHOLD")],
              pytorchName: "Softplus") { .softplus(beta: $0[0].number!, threshold: $0[1].number!) },
        Entry(name: "gelu",
              parameters: [Parameter(key: "approximate", defaultValue: .word("none"), words: GELUApproximation.allCases.map(\.rawValue),
                                     placeholder: "none|tanh")],
              pytorchName: "GELU") {
            if case let .word(w) = $0[0], let mode = GELUApproximation(rawValue: w) { return .gelu(approximate: mode) }
            return .gelu()
        },
        Entry(name: "elu", parameters: [number("alpha", 1, "ALPHA")], pytorchName: "ELU") { .elu(alpha: $0[0].number!) },
        Entry(name: "silu", parameters: [], pytorchName: "SiLU") { _ in .silu },
        Entry(name: "identity", parameters: [], pytorchName: "Identity") { _ in .identity },
        Entry(name: "softmax", parameters: [], pytorchName: "Softmax") { _ in .softmax },
        Entry(name: "log_softmax", parameters: [], pytorchName: "LogSoftmax") { _ in .logSoftmax },
    ]

    /// This activation's parameter values, in the catalog's order.
    public var parameterValues: [ParameterValue] {
        switch self {
        case let .relu(scale): return [.number(scale)]
        case let .leakyReLU(slope): return [.number(slope)]
        case let .softplus(beta, threshold): return [.number(beta), .number(threshold)]
        case let .gelu(mode): return [.word(mode.rawValue)]
        case let .elu(alpha): return [.number(alpha)]
        case .tanh, .sigmoid, .silu, .identity, .softmax, .logSoftmax: return []
        }
    }

    var entry: Entry {
        switch self {
        case .relu: return Self.catalog[0]
        case .leakyReLU: return Self.catalog[1]
        case .tanh: return Self.catalog[2]
        case .sigmoid: return Self.catalog[3]
        case .softplus: return Self.catalog[4]
        case .gelu: return Self.catalog[5]
        case .elu: return Self.catalog[6]
        case .silu: return Self.catalog[7]
        case .identity: return Self.catalog[8]
        case .softmax: return Self.catalog[9]
        case .logSoftmax: return Self.catalog[10]
        }
    }

    /// The name commands and files use: `relu`, `leaky_relu`, `softplus`, ...
    public var name: String { entry.name }

    /// The parameters with their values, in order: `[("beta", 2), ("threshold", 20)]`.
    public var parameters: [(key: String, value: ParameterValue)] {
        zip(entry.parameters, parameterValues).map { ($0.key, $1) }
    }

    // MARK: Building from a name and values (every form's parser ends here)

    /// An activation from its name and values by key; missing keys take their defaults.
    /// Throws a ``SpecError`` naming the parameter for a bad or unknown key or an invalid value.
    ///
    /// ```swift
    /// let a = try Activation(name: "leaky_relu", values: ["negative_slope": .number(0.2)])
    /// ```
    public init(name: String, values: [String: ParameterValue], path: String = "") throws {
        guard let entry = Self.catalog.first(where: { $0.name == name }) else {
            throw SpecError(path, "unknown activation '\(SpecError.clip(name))' (expected one of \(Self.names.joined(separator: ", ")))")
        }
        let keys = entry.parameters.map(\.key)
        if let extra = values.keys.sorted().first(where: { !keys.contains($0) }) {
            let takes = keys.isEmpty ? "takes no parameters" : "takes \(keys.joined(separator: ", "))"
            throw SpecError(path, "unknown parameter '\(SpecError.clip(extra))': \(name) \(takes)")
        }
        let ordered = entry.parameters.map { values[$0.key] ?? $0.defaultValue }
        for (parameter, value) in zip(entry.parameters, ordered) {
            try Self.check(value, for: parameter, in: name, path: path)
        }
        self = entry.make(ordered)
    }

    private static func check(_ value: ParameterValue, for parameter: Parameter, in name: String, path: String) throws {
        let place = path.isEmpty ? parameter.key : "\(path).\(parameter.key)"
        switch (value, parameter.defaultValue) {
        case let (.number(v), .number):
            guard v.isFinite else { throw SpecError(place, "\(name)'s \(parameter.key) must be a finite number, got \(v)") }
            if name == "softplus" && parameter.key == "beta" && v <= 0 {
                throw SpecError(place, "softplus's beta must be positive, got \(format(v))")
            }
        case let (.word(w), .word):
            guard parameter.words.contains(w) else {
                throw SpecError(place, "\(name)'s \(parameter.key) must be \(parameter.words.map { "'\($0)'" }.joined(separator: " or ")), got '\(SpecError.clip(w))'")
            }
        case (.word(let w), .number):
            throw SpecError(place, "\(name)'s \(parameter.key) must be a number, got '\(SpecError.clip(w))'")
        case (.number(let v), .word):
            throw SpecError(place, "\(name)'s \(parameter.key) must be \(parameter.words.map { "'\($0)'" }.joined(separator: " or ")), got \(format(v))")
        }
    }

    // MARK: The command-line form

    /// Parses the command-line form `NAME[:VALUE[:VALUE]]`, values in the order of ``parameters``:
    /// `relu`, `relu:3`, `leaky_relu:0.1`, `softplus:2`, `softplus:2:10`, `gelu:tanh`, `elu:0.5`.
    ///
    /// ```swift
    /// try Activation(parsing: "leaky_relu:0.1")   // .leakyReLU(negativeSlope: 0.1)
    /// ```
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard let entry = Self.catalog.first(where: { $0.name == name }) else {
            throw SpecError("", "unknown activation '\(SpecError.clip(text))' (expected one of \(Self.forms.joined(separator: ", ")))")
        }
        let given = parts.dropFirst()
        guard given.count <= entry.parameters.count else {
            let takes = entry.parameters.isEmpty ? "takes no parameters"
                : "takes at most \(entry.parameters.count): \(entry.parameters.map(\.key).joined(separator: ", "))"
            throw SpecError("", "activation '\(SpecError.clip(text))': \(name) \(takes)")
        }
        var values: [String: ParameterValue] = [:]
        for (parameter, item) in zip(entry.parameters, given) {
            if case .word = parameter.defaultValue {
                values[parameter.key] = .word(item)
            } else {
                // Double(_:) accepts hexadecimal and "nan"; a parameter is a plain decimal number.
                guard let v = Double(item), item.allSatisfy({ "0123456789+-.eE".contains($0) }) else {
                    throw SpecError("", "activation '\(SpecError.clip(text))': \(parameter.key) '\(SpecError.clip(item))' is not a number")
                }
                values[parameter.key] = .number(v)
            }
        }
        do {
            try self.init(name: name, values: values)
        } catch let error as SpecError {
            throw SpecError("", "activation '\(SpecError.clip(text))': \(error.message)")
        }
    }

    // MARK: Derived forms

    /// The command-line form, leaving out trailing default values: `relu`, `relu:3`, `softplus:2`, `gelu:tanh`.
    public var description: String {
        let values = parameterValues, defaults = entry.parameters.map(\.defaultValue)
        var count = values.count
        while count > 0 && values[count - 1] == defaults[count - 1] { count -= 1 }
        return ([name] + values.prefix(count).map(\.description)).joined(separator: ":")
    }

    /// A readable summary for tables: `relu`, `relu (scale 3)`, `softplus (beta 2)`, `gelu (approximate tanh)`.
    public var summary: String {
        let changed = zip(entry.parameters, parameterValues).filter { $0.0.defaultValue != $0.1 }
        guard !changed.isEmpty else { return name }
        return name + " (" + changed.map { "\($0.0.key) \($0.1)" }.joined(separator: ", ") + ")"
    }

    /// The PyTorch module that computes the same function: `nn.ReLU()`, `nn.Softplus(beta=2)`,
    /// `nn.GELU(approximate='tanh')`, `nn.Softmax(dim=-1)`. PyTorch has no module for a scaled ReLU:
    /// it is written `ScaledReLU(3)` with a comment saying so.
    public var pytorchCode: String {
        let changed = zip(entry.parameters, parameterValues).filter { $0.0.defaultValue != $0.1 }
        let arguments = changed.map { parameter, value -> String in
            if case let .word(w) = value { return "\(parameter.key)='\(w)'" }
            return "\(parameter.key)=\(value)"
        }
        switch self {
        case .softmax, .logSoftmax: return "nn.\(entry.pytorchName)(dim=-1)"
        case let .relu(scale) where scale != 1: return "ScaledReLU(\(Self.format(scale)))  # scale * relu(x): no nn module"
        default: return "nn.\(entry.pytorchName)(\(arguments.joined(separator: ", ")))"
        }
    }

    /// The function of `x`, as explain tables write it: `max(x, 0)`, `(1/β) log(1 + e^(βx))` with β's value.
    public var formula: String {
        switch self {
        case let .relu(scale): return scale == 1 ? "max(x, 0)" : "\(Self.format(scale)) max(x, 0)"
        case let .leakyReLU(slope): return "max(x, 0) + \(Self.format(slope)) min(x, 0)"
        case .tanh: return "tanh(x)"
        case .sigmoid: return "1 / (1 + e^-x)"
        case let .softplus(beta, _): return beta == 1 ? "log(1 + e^x)" : "(1/\(Self.format(beta))) log(1 + e^(\(Self.format(beta))x))"
        case let .gelu(mode): return mode == .none ? "x Φ(x)" : "x Φ(x), tanh approximation"
        case let .elu(alpha): return "x if x > 0, else \(Self.format(alpha)) (e^x - 1)"
        case .silu: return "x sigmoid(x)"
        case .identity: return "x"
        case .softmax: return "e^x_i / Σ_j e^x_j"
        case .logSoftmax: return "x_i - log Σ_j e^x_j"
        }
    }

    /// Its derivative with respect to `x`, as explain tables write it (the numbers themselves always
    /// come from backpropagating through the op, never from this text).
    public var derivative: String {
        switch self {
        case let .relu(scale): return scale == 1 ? "1 if x > 0, else 0" : "\(Self.format(scale)) if x > 0, else 0"
        case let .leakyReLU(slope): return "1 if x > 0, else \(Self.format(slope))"
        case .tanh: return "1 - tanh(x)²"
        case .sigmoid: return "sigmoid(x) (1 - sigmoid(x))"
        case let .softplus(beta, _): return beta == 1 ? "sigmoid(x)" : "sigmoid(\(Self.format(beta))x)"
        case let .gelu(mode): return mode == .none ? "Φ(x) + x φ(x)" : "d/dx of the tanh approximation"
        case let .elu(alpha): return "1 if x > 0, else \(Self.format(alpha)) e^x"
        case .silu: return "sigmoid(x) (1 + x (1 - sigmoid(x)))"
        case .identity: return "1"
        case .softmax: return "diag(p) - p pᵀ (a full Jacobian: outputs share the sum)"
        case .logSoftmax: return "I - 1 pᵀ (a full Jacobian)"
        }
    }

    /// `true` for functions applied to each element alone (not softmax and log-softmax, whose
    /// Jacobian is full).
    public var isElementwise: Bool { self != .softmax && self != .logSoftmax }

    // MARK: What it computes

    /// Applies the function with the library's op.
    ///
    /// ```swift
    /// Activation.leakyReLU(negativeSlope: 0.1)(Tensor<Double>([-2, 3]))   // [-0.2, 3]
    /// ```
    @inlinable
    public func callAsFunction<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
        switch self {
        case let .relu(scale): return scale == 1 ? BackpropCore.relu(x) : BackpropCore.relu(x, scale: S(scale))
        case let .leakyReLU(slope): return BackpropCore.leakyReLU(x, negativeSlope: S(slope))
        case .tanh: return BackpropCore.tanh(x)
        case .sigmoid: return BackpropCore.sigmoid(x)
        case let .softplus(beta, threshold): return BackpropCore.softplus(x, beta: S(beta), threshold: S(threshold))
        case let .gelu(mode): return BackpropCore.gelu(x, approximate: mode)
        case let .elu(alpha): return BackpropCore.elu(x, alpha: S(alpha))
        case .silu: return BackpropCore.silu(x)
        case .identity: return x
        case .softmax: return BackpropCore.softmax(x, axis: -1)
        case .logSoftmax: return BackpropCore.logSoftmax(x, axis: -1)
        }
    }

    /// The module for this activation: `ReLU`, `Softplus(beta:threshold:)`, ...
    ///
    /// ```swift
    /// let m: any Module<Float> = Activation.gelu(approximate: .tanh).module()
    /// ```
    public func module<S: TensorScalar>(_: S.Type = S.self) -> any Module<S> {
        switch self {
        case let .relu(scale): return ReLU<S>(scale: S(scale))
        case let .leakyReLU(slope): return LeakyReLU<S>(negativeSlope: S(slope))
        case .tanh: return Tanh<S>()
        case .sigmoid: return Sigmoid<S>()
        case let .softplus(beta, threshold): return Softplus<S>(beta: S(beta), threshold: S(threshold))
        case let .gelu(mode): return GELU<S>(approximate: mode)
        case let .elu(alpha): return ELU<S>(alpha: S(alpha))
        case .silu: return SiLU<S>()
        case .identity: return Identity<S>()
        case .softmax: return Softmax<S>(axis: -1)
        case .logSoftmax: return LogSoftmax<S>(axis: -1)
        }
    }

    /// Shortest decimal that reads back as the same Double (`2`, `0.1`, `1e-05`).
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

extension Activation: CustomStringConvertible {}

/// Activations code as `{"type": "softplus", "beta": 2}`: the name under `type`, then each parameter
/// that differs from its default under PyTorch's keyword. Decoding takes missing parameters from their
/// defaults and refuses unknown keys, naming the coding path.
extension Activation: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let name = try container.decode(String.self, forKey: AnyKey("type"))
        var values: [String: ParameterValue] = [:]
        let entry = Self.catalog.first { $0.name == name }
        for key in container.allKeys where key.stringValue != "type" {
            guard let parameter = entry?.parameters.first(where: { $0.key == key.stringValue }) else { continue }
            if case .word = parameter.defaultValue {
                values[key.stringValue] = .word(try container.decode(String.self, forKey: key))
            } else {
                values[key.stringValue] = .number(try container.decode(Double.self, forKey: key))
            }
        }
        let unknown = container.allKeys.map(\.stringValue).filter { k in k != "type" && !(entry?.parameters.contains { $0.key == k } ?? false) }
        let path = SpecError.path(decoder.codingPath)
        if entry != nil, let extra = unknown.sorted().first {
            throw SpecError(path, "unknown key '\(SpecError.clip(extra))' for a \(name) layer (expected \((["type"] + entry!.parameters.map(\.key)).joined(separator: ", ")))")
        }
        try self.init(name: name, values: values, path: path)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(name, forKey: AnyKey("type"))
        for (parameter, value) in zip(entry.parameters, parameterValues) where value != parameter.defaultValue {
            switch value {
            case let .number(v): try container.encode(v, forKey: AnyKey(parameter.key))
            case let .word(w): try container.encode(w, forKey: AnyKey(parameter.key))
            }
        }
    }
}

/// A coding key made from any string, for descriptions whose keys depend on a `type` field.
public struct AnyKey: CodingKey, Hashable, Sendable {
    /// The key.
    public let stringValue: String
    /// Array positions, when a key stands for one.
    public let intValue: Int?
    /// A key from its text: `AnyKey("beta")`.
    public init(_ string: String) { stringValue = string; intValue = nil }
    /// A key from its text.
    public init?(stringValue: String) { self.init(stringValue) }
    /// A key for an array position.
    public init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

/// A mistake in a description of a layer or a network (a file's contents or a command-line value),
/// with the path where it is: `layers[2].beta: softplus's beta must be positive, got -1`.
///
/// ```swift
/// do { _ = try Activation(parsing: "softplus:-1") } catch let e as SpecError { print(e) }
/// ```
public struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where: a path such as `layers[2].beta`, or empty.
    public let path: String
    /// What is wrong there.
    public let message: String

    /// An error at `path`.
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, or the message alone when the path is empty.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// A coding path as `layers[2].beta`.
    public static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let i = key.intValue { text += "[\(i)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text
    }

    /// A value from outside, cut to a readable length for an error message, with control characters escaped.
    public static func clip(_ text: String, limit: Int = 60) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            out += scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return text.unicodeScalars.count > limit ? out + "…" : out
    }
}

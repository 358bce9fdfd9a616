import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

// `backprop explain`'s input: a whole network problem in JSON, parsed into a
// validated description. Everything here comes from outside the library, so
// every mistake is a thrown ``ExplainError`` naming the JSON path where it
// is, never a trap. Shapes are checked here, before anything is computed, by
// carrying the feature size through the layers.

/// A mistake in an explain problem, with the JSON path where it is.
///
/// ```swift
/// // layers[2].weight: expected 2 x 3, got 3 x 2
/// ```
public struct ExplainError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where: a JSON path such as `layers[2].weight`, or a file name.
    public let path: String
    /// What is wrong there.
    public let message: String

    /// An error at `path` (a JSON path or a file name; empty for none).
    ///
    /// ```swift
    /// let e = ExplainError("layers[2].weight", "expected 2 x 3, got 3 x 2")
    /// print(e)   // layers[2].weight: expected 2 x 3, got 3 x 2
    /// ```
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, one line.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// One layer of an explain problem.
public enum ExplainLayer: Equatable, Sendable {
    /// s = W x + b; `weight` is out x in, as in PyTorch.
    case linear(weight: [[Double]], bias: [Double]?)
    /// scale · max(x, 0) (the seeds' 3 ReLU has scale 3).
    case relu(scale: Double)
    /// max(x, 0) + negativeSlope · min(x, 0).
    case leakyReLU(negativeSlope: Double)
    /// Hyperbolic tangent.
    case tanh
    /// 1 / (1 + e^-x).
    case sigmoid
    /// (1/β) log(1 + e^(βx)), linear where βx > threshold (as PyTorch).
    case softplus(beta: Double, threshold: Double)
    /// x Φ(x), exact or with the tanh approximation.
    case gelu(approximate: GELUApproximation)
    /// x for x > 0, α (e^x - 1) otherwise.
    case elu(alpha: Double)
    /// x · sigmoid(x).
    case silu
    /// The input unchanged.
    case identity
    /// softmax over the features of each point.
    case softmax

    /// The JSON `type` names, in the order the messages list them.
    public static let typeNames = ["linear", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "gelu",
                                   "elu", "silu", "identity", "softmax"]

    /// The JSON name of the layer type.
    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .leakyReLU: return "leaky_relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .softplus: return "softplus"
        case .gelu: return "gelu"
        case .elu: return "elu"
        case .silu: return "silu"
        case .identity: return "identity"
        case .softmax: return "softmax"
        }
    }

    /// `true` for layers with parameters.
    public var isLinear: Bool { if case .linear = self { return true } else { return false } }

    /// A short description: `linear 2 -> 3`, `relu (scale 3)`, `gelu (approximate tanh)`.
    public var summary: String {
        func n(_ v: Double) -> String { formatNumber(v) }
        switch self {
        case let .linear(w, b): return "linear \(w.first?.count ?? 0) -> \(w.count)\(b == nil ? ", no bias" : "")"
        case let .relu(scale): return scale == 1 ? "relu" : "relu (scale \(n(scale)))"
        case let .leakyReLU(slope): return "leaky_relu (negative_slope \(n(slope)))"
        case let .softplus(beta, threshold):
            return "softplus (beta \(n(beta))\(threshold == 20 ? "" : ", threshold \(n(threshold))"))"
        case let .gelu(mode): return mode == .none ? "gelu" : "gelu (approximate \(mode.rawValue))"
        case let .elu(alpha): return alpha == 1 ? "elu" : "elu (alpha \(n(alpha)))"
        default: return typeName
        }
    }
}

/// The cost of an explain problem.
public struct ExplainLoss: Equatable, Sendable {
    /// The cost function; the raw values are the JSON `loss` names.
    public enum Kind: String, Sendable, CaseIterable {
        /// ||y~ - y||² per element (`.sum` for one point is the seeds' cost).
        case mse
        /// ½ ||y~ - y||², the lab's L2 loss.
        case l2
        /// Binary cross-entropy on probabilities (end the network with a sigmoid).
        case bce
        /// Cross-entropy: from logits, or from probabilities when the last layer is a softmax.
        case crossEntropy = "cross_entropy"
    }
    /// Which cost.
    public var kind: Kind
    /// `.mean` or `.sum`.
    public var reduction: LossReduction
}

/// What the network output is compared with.
public enum ExplainTarget: Equatable, Sendable {
    /// Values in the output's shape (regression, BCE, class distributions).
    case values(shape: [Int], scalars: [Double])
    /// One class index per point (cross-entropy); `shape` is [] for one point, [N] for a batch.
    case classIndices(shape: [Int], indices: [Int])
}

/// A validated explain problem: the layers, the loss, the input and the target.
///
/// ```swift
/// let problem = try ExplainProblem(json: Data(contentsOf: url), source: "lab.json")
/// let report = try problem.explain()
/// ```
public struct ExplainProblem: Equatable, Sendable {
    /// The layers, in order, as in `nn.Sequential`.
    public var layers: [ExplainLayer]
    /// The cost compared against ``target``.
    public var loss: ExplainLoss
    /// [n] for one point or [N, n] for a batch.
    public var inputShape: [Int]
    /// x, row-major in ``inputShape``.
    public var input: [Double]
    /// y, the value or class indices the output is compared with.
    public var target: ExplainTarget

    /// `true` when x is a batch of points ([N, n]).
    public var isBatch: Bool { inputShape.count == 2 }
    /// The feature size of each layer's output.
    public var outputSizes: [Int] {
        var size = inputShape.last ?? 0
        return layers.map { layer in
            if case let .linear(w, _) = layer { size = w.count }
            return size
        }
    }
    /// The shape of the network output.
    public var outputShape: [Int] { (isBatch ? [inputShape[0]] : []) + [outputSizes.last ?? inputShape.last ?? 0] }

    /// Reads a problem from JSON text; `source` names it in errors (the file).
    public init(json data: Data, source: String = "") throws {
        let root: JSON
        do {
            root = try JSON.parse(bytes: data, source: source)
        } catch let error as DataError {
            throw ExplainError(source, error.message)
        }
        guard case let .object(top) = root else {
            throw ExplainError(source, "expected a JSON object with keys layers, loss, x, y; got \(root.kindName)")
        }
        try Self.checkKeys(top, allowed: ["layers", "loss", "x", "y"], path: "", what: "a problem")
        let reader = Reader()

        // x first: its size is where the shape checks start.
        let (xShape, x) = try reader.numbers(try Self.require(top, "x", path: ""), path: "x")
        guard (xShape.count == 1 || xShape.count == 2), xShape.last! > 0, xShape.first! > 0 else {
            throw ExplainError("x", "expected one point [n] or a batch [[...], ...] of shape [N, n], got shape \(xShape)")
        }
        inputShape = xShape
        input = x

        guard case let .array(layerValues) = try Self.require(top, "layers", path: "") else {
            throw ExplainError("layers", "expected an array of layers, got \(root["layers"]!.kindName)")
        }
        guard !layerValues.isEmpty else { throw ExplainError("layers", "expected at least one layer, got none") }
        var size = xShape.last!
        var layers: [ExplainLayer] = []
        for (i, value) in layerValues.enumerated() {
            let layer = try reader.layer(value, path: "layers[\(i)]", inputSize: size)
            if case let .linear(w, _) = layer { size = w.count }
            layers.append(layer)
        }
        self.layers = layers

        let lossObject = try Self.require(top, "loss", path: "")
        guard case .object = lossObject else {
            throw ExplainError("loss", "expected an object such as {\"type\": \"mse\", \"reduction\": \"sum\"}, got \(lossObject.kindName)")
        }
        loss = try reader.loss(lossObject)

        let outputShape = (xShape.count == 2 ? [xShape[0]] : []) + [size]
        target = try reader.target(try Self.require(top, "y", path: ""), loss: loss, outputShape: outputShape,
                                   endsWithSoftmax: layers.last == .softmax)
    }

    static func require(_ object: [(String, JSON)], _ key: String, path: String) throws -> JSON {
        guard let value = object.first(where: { $0.0 == key })?.1 else {
            throw ExplainError(path.isEmpty ? "top level" : path, "missing key '\(key)'")
        }
        return value
    }

    static func checkKeys(_ object: [(String, JSON)], allowed: [String], path: String, what: String) throws {
        if let extra = object.map(\.0).sorted().first(where: { !allowed.contains($0) }) {
            throw ExplainError(path.isEmpty ? "top level" : path,
                               "unknown key '\(extra)' for \(what) (expected \(allowed.joined(separator: ", ")))")
        }
    }
}

/// The parsing helpers, each naming the path it reads.
private struct Reader {
    /// A number or a (nested) array of numbers: its shape and row-major values.
    func numbers(_ value: JSON, path: String) throws -> ([Int], [Double]) {
        switch value {
        case .number(let v):
            guard v.isFinite else { throw ExplainError(path, "expected a finite number, got \(v)") }
            return ([], [v])
        case .array(let items):
            guard !items.isEmpty else { throw ExplainError(path, "expected numbers, got an empty array") }
            var shape: [Int]? = nil
            var flat: [Double] = []
            for (i, item) in items.enumerated() {
                let (s, v) = try numbers(item, path: "\(path)[\(i)]")
                if let shape, shape != s {
                    throw ExplainError(path, "ragged array: element [\(i)] has shape \(s), element [0] has shape \(shape)")
                }
                shape = s
                flat += v
            }
            return ([items.count] + shape!, flat)
        default:
            throw ExplainError(path, "expected a number or an array of numbers, got \(value.kindName)")
        }
    }

    func number(_ object: JSON, _ key: String, path: String, default fallback: Double) throws -> Double {
        guard let value = object[key] else { return fallback }
        guard case let .number(v) = value, v.isFinite else {
            throw ExplainError("\(path).\(key)", "expected a number, got \(value.kindName)")
        }
        return v
    }

    func string(_ object: JSON, _ key: String, path: String) throws -> String? {
        guard let value = object[key] else { return nil }
        guard case let .string(s) = value else { throw ExplainError("\(path).\(key)", "expected a string, got \(value.kindName)") }
        return s
    }

    func layer(_ o: JSON, path: String, inputSize: Int) throws -> ExplainLayer {
        guard case let .object(members) = o else {
            throw ExplainError(path, "expected a layer object such as {\"type\": \"relu\"}, got \(o.kindName)")
        }
        guard let type = try string(o, "type", path: path) else { throw ExplainError(path, "missing key 'type'") }
        let keys: [String]
        let layer: ExplainLayer
        switch type {
        case "linear":
            keys = ["type", "weight", "bias"]
            layer = try linear(o, path: path, inputSize: inputSize)
        case "relu":
            keys = ["type", "scale"]
            layer = .relu(scale: try number(o, "scale", path: path, default: 1))
        case "leaky_relu":
            keys = ["type", "negative_slope"]
            layer = .leakyReLU(negativeSlope: try number(o, "negative_slope", path: path, default: 0.01))
        case "tanh": keys = ["type"]; layer = .tanh
        case "sigmoid": keys = ["type"]; layer = .sigmoid
        case "softplus":
            keys = ["type", "beta", "threshold"]
            let beta = try number(o, "beta", path: path, default: 1)
            guard beta > 0 else { throw ExplainError("\(path).beta", "expected a positive number, got \(formatNumber(beta))") }
            layer = .softplus(beta: beta, threshold: try number(o, "threshold", path: path, default: 20))
        case "gelu":
            keys = ["type", "approximate"]
            let name = try string(o, "approximate", path: path) ?? "none"
            guard let mode = GELUApproximation(rawValue: name) else {
                throw ExplainError("\(path).approximate", "expected 'none' or 'tanh', got '\(name)'")
            }
            layer = .gelu(approximate: mode)
        case "elu":
            keys = ["type", "alpha"]
            layer = .elu(alpha: try number(o, "alpha", path: path, default: 1))
        case "silu": keys = ["type"]; layer = .silu
        case "identity": keys = ["type"]; layer = .identity
        case "softmax": keys = ["type"]; layer = .softmax
        default:
            throw ExplainError("\(path).type", "unknown layer type '\(type)' (expected one of \(ExplainLayer.typeNames.joined(separator: ", ")))")
        }
        try ExplainProblem.checkKeys(members, allowed: keys, path: path, what: "a \(type) layer")
        return layer
    }

    func linear(_ o: JSON, path: String, inputSize: Int) throws -> ExplainLayer {
        guard let weightValue = o["weight"] else { throw ExplainError(path, "missing key 'weight'") }
        let (wShape, w) = try numbers(weightValue, path: "\(path).weight")
        guard wShape.count == 2 else {
            throw ExplainError("\(path).weight", "expected a matrix (out x in, rows of numbers), got shape \(wShape)")
        }
        var bias: [Double]? = nil
        if let biasValue = o["bias"], biasValue != .null {
            let (bShape, b) = try numbers(biasValue, path: "\(path).bias")
            guard bShape.count == 1 else { throw ExplainError("\(path).bias", "expected a vector, got shape \(bShape)") }
            bias = b
        }
        let (rows, columns) = (wShape[0], wShape[1])
        let out = bias?.count ?? rows
        if columns != inputSize || rows != out {
            if columns == inputSize, let bias {
                throw ExplainError("\(path).bias", "expected \(rows) values (weight is \(rows) x \(columns)), got \(bias.count)")
            }
            let expected = bias == nil ? "K x \(inputSize) (the layer's input has size \(inputSize))" : "\(out) x \(inputSize)"
            throw ExplainError("\(path).weight", "expected \(expected), got \(rows) x \(columns)")
        }
        return .linear(weight: (0..<rows).map { Array(w[$0 * columns..<($0 + 1) * columns]) }, bias: bias)
    }

    func loss(_ o: JSON) throws -> ExplainLoss {
        guard let type = try string(o, "type", path: "loss") else { throw ExplainError("loss", "missing key 'type'") }
        guard let kind = ExplainLoss.Kind(rawValue: type) else {
            throw ExplainError("loss.type", "unknown loss type '\(type)' (expected one of \(ExplainLoss.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try ExplainProblem.checkKeys(o.objectValue!, allowed: ["type", "reduction"], path: "loss", what: "a loss")
        // The half L2 loss is a sum by definition (the lab's ½||o - y||²); the others default to PyTorch's mean.
        let name = try string(o, "reduction", path: "loss") ?? (kind == .l2 ? "sum" : "mean")
        guard let reduction = LossReduction(rawValue: name), reduction != .none else {
            throw ExplainError("loss.reduction", "expected 'mean' or 'sum', got '\(name)'")
        }
        return ExplainLoss(kind: kind, reduction: reduction)
    }

    func target(_ value: JSON, loss: ExplainLoss, outputShape: [Int], endsWithSoftmax: Bool) throws -> ExplainTarget {
        let (shape, values) = try numbers(value, path: "y")
        let classes = outputShape.last!
        if loss.kind == .crossEntropy && shape == Array(outputShape.dropLast()) {
            // One class index per point: a number for one point, a list for a batch.
            let indices = try values.enumerated().map { (k, v) -> Int in
                let where_ = shape.isEmpty ? "y" : "y[\(k)]"
                guard v == v.rounded() else { throw ExplainError(where_, "class index \(formatNumber(v)) is not a whole number") }
                guard v >= 0 && v < Double(classes) else {
                    throw ExplainError(where_, "class index \(formatNumber(v)) out of range 0..<\(classes) (the network has \(classes) outputs)")
                }
                return Int(v)
            }
            return .classIndices(shape: shape, indices: indices)
        }
        guard shape == outputShape else {
            let indexForm = loss.kind == .crossEntropy
                ? (outputShape.count == 1 ? " or a class index" : " or \(outputShape[0]) class indices") : ""
            throw ExplainError("y", "expected shape \(outputShape) (the network's output)\(indexForm), got \(shape)")
        }
        if loss.kind == .bce || loss.kind == .crossEntropy {
            if let k = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw ExplainError("y", "\(loss.kind.rawValue) needs targets in [0, 1]; element \(k) is \(formatNumber(values[k]))")
            }
        }
        return .values(shape: shape, scalars: values)
    }
}


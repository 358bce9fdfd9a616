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

/// A mistake in an explain problem, with the JSON path where it is: the same type as a mistake in
/// a layer or model description (``SpecError``), so the layers' own errors pass through unchanged.
///
/// ```swift
/// let e = ExplainError("layers[2].weight", "expected 2 x 3, got 3 x 2")
/// print(e)   // layers[2].weight: expected 2 x 3, got 3 x 2
/// ```
public typealias ExplainError = SpecError

/// The cost of an explain problem.
public struct ExplainLoss: Equatable, Sendable {
    /// The cost function; the raw values are the JSON `loss` names.
    public enum Kind: String, Sendable, CaseIterable {
        /// ||y~ - y||² per element (`.sum` for one point is the homework's cost).
        case mse
        /// ½ ||y~ - y||², the lab's L2 loss.
        case l2
        /// |y~ - y| per element, as `nn.L1Loss`.
        case l1
        /// Huber loss with delta 1 per element, as `nn.HuberLoss`.
        case huber
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

/// A validated explain problem: the layers and their parameters, the loss, the input and the target.
///
/// ```swift
/// let problem = try ExplainProblem(json: Data(contentsOf: url), source: "lab.json")
/// let report = try problem.explain()
/// ```
public struct ExplainProblem: Sendable {
    /// The layers, in order, as in `nn.Sequential`.
    public var layers: [LayerSpec]
    /// The parameters by `state_dict` name (`0.weight`, `0.bias`), in the layers' order.
    public var parameters: [(name: String, value: ExplainValue)]
    /// The buffers given by `state_dict` name (`1.running_mean`, `1.running_var`); a buffer not
    /// listed keeps the layer's initial value (running mean 0, running variance 1).
    public var buffers: [(name: String, value: ExplainValue)]
    /// The indices of the layers run in training mode (batch norm with `"training": true`:
    /// batch statistics, and the running statistics updated); every other layer runs in evaluation mode.
    public var trainingLayers: Set<Int>
    /// The cost compared against ``target``.
    public var loss: ExplainLoss
    /// One example (`[n]`, `[C, L]`, `[C, H, W]`) or a batch of them (`[N, n]`, `[N, C, L]`, `[N, C, H, W]`).
    public var inputShape: [Int]
    /// x, row-major in ``inputShape``.
    public var input: [Double]
    /// y, the value or class indices the output is compared with.
    public var target: ExplainTarget
    /// `true` when x is a batch of examples, with the batch axis first.
    public var isBatch: Bool

    /// The shape of one example of x (``inputShape`` without the batch axis).
    public var exampleShape: [Int] { isBatch ? Array(inputShape.dropFirst()) : inputShape }
    /// The shape of one example of each layer's output.
    public var exampleShapes: [[Int]] {
        var shape = exampleShape
        return layers.map { layer in
            shape = (try? layer.outputShape(for: shape)) ?? shape
            return shape
        }
    }
    /// The feature size (last axis) of each layer's output.
    public var outputSizes: [Int] { exampleShapes.map { $0.last ?? 0 } }
    /// The shape of the network output.
    public var outputShape: [Int] { (isBatch ? [inputShape[0]] : []) + (exampleShapes.last ?? exampleShape) }

    /// The rank of one example that a layer type fixes, if it fixes one: 1 for `linear`, 2 for `conv1d`,
    /// 3 for `conv2d`, the 2-D pools and `batch_norm2d`.
    static func exampleRank(ofType type: String) -> Int? {
        switch type {
        case "linear": return 1
        case "conv1d": return 2
        case "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm2d": return 3
        default: return nil
        }
    }

    /// Whether x of shape `shape` is a batch, by the first layer that fixes the rank of an example:
    /// x of that rank is one example, one more is a batch. The layers before it keep an example's shape
    /// (activations, dropout, `layer_norm`, `batch_norm1d`); when there is no such layer, or a `flatten`
    /// comes first, x of rank 1 is one point and higher ranks are batches.
    static func inputIsBatch(_ shape: [Int], layerTypes: [String]) throws -> Bool {
        guard !shape.isEmpty else {
            throw ExplainError("x", "expected an array: one example (such as [n] or [C, H, W]) or a batch of them, got a single number")
        }
        let fixing = layerTypes.firstIndex { exampleRank(ofType: $0) != nil }
        let reshaped = layerTypes.prefix(fixing ?? 0).contains("flatten")
        guard let k = fixing, !reshaped, let rank = exampleRank(ofType: layerTypes[k]) else { return shape.count >= 2 }
        if shape.count == rank { return false }
        if shape.count == rank + 1 { return true }
        switch rank {
        case 1: throw ExplainError("x", "expected one point [n] or a batch [[...], ...] of shape [N, n], got shape \(shape)")
        case 2: throw ExplainError("x", "expected one example [C, L] or a batch [N, C, L] (layers[\(k)] is a \(layerTypes[k])), got shape \(shape)")
        default: throw ExplainError("x", "expected one example [C, H, W] or a batch [N, C, H, W] (layers[\(k)] is a \(layerTypes[k])), got shape \(shape)")
        }
    }

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

        guard case let .array(layerValues) = try Self.require(top, "layers", path: "") else {
            throw ExplainError("layers", "expected an array of layers, got \(root["layers"]!.kindName)")
        }
        guard !layerValues.isEmpty else { throw ExplainError("layers", "expected at least one layer, got none") }

        // x first: its shape is where the shape checks start; the layers' types say whether it is a batch.
        let (xShape, x) = try reader.numbers(try Self.require(top, "x", path: ""), path: "x")
        let batch = try Self.inputIsBatch(xShape, layerTypes: layerValues.map { $0["type"]?.stringValue ?? "" })

        var shape = batch ? Array(xShape.dropFirst()) : xShape
        var layers: [LayerSpec] = []
        var parameters: [(name: String, value: ExplainValue)] = []
        var buffers: [(name: String, value: ExplainValue)] = []
        var training: Set<Int> = []
        for (i, value) in layerValues.enumerated() {
            let read = try reader.layer(value, path: "layers[\(i)]", inputShape: shape, batch: batch ? xShape[0] : 1)
            shape = try read.layer.outputShape(for: shape, path: "layers[\(i)]")
            layers.append(read.layer)
            parameters += read.parameters.map { ("\(i).\($0.0)", $0.1) }
            buffers += read.buffers.map { ("\(i).\($0.0)", $0.1) }
            if read.training { training.insert(i) }
        }
        let lossObject = try Self.require(top, "loss", path: "")
        guard case .object = lossObject else {
            throw ExplainError("loss", "expected an object such as {\"type\": \"mse\", \"reduction\": \"sum\"}, got \(lossObject.kindName)")
        }
        let loss = try reader.loss(lossObject)
        let outputShape = (batch ? [xShape[0]] : []) + shape
        let target = try reader.target(try Self.require(top, "y", path: ""), loss: loss, outputShape: outputShape,
                                       endsWithSoftmax: layers.last == .activation(.softmax))
        self.layers = layers
        self.parameters = parameters
        self.buffers = buffers
        self.trainingLayers = training
        self.isBatch = batch
        self.inputShape = xShape
        self.input = x
        self.loss = loss
        self.target = target
    }

    /// A problem from its parts, checked as a file is: the parameters (and buffers, if given) must fit
    /// the layers and the layers the input. `training` lists the layers run in training mode (batch norm).
    /// For a trained checkpoint, see ``init(checkpoint:features:target:)``.
    ///
    /// ```swift
    /// let p = try ExplainProblem(layers: [.linear(inFeatures: 2, outFeatures: 1)],
    ///                            parameters: [("0.weight", ExplainValue(shape: [1, 2], scalars: [1, 2])),
    ///                                         ("0.bias", ExplainValue(shape: [1], scalars: [0]))],
    ///                            loss: ExplainLoss(kind: .mse, reduction: .sum),
    ///                            input: ExplainValue(shape: [2], scalars: [3, 4]), target: .values(shape: [1], scalars: [10]))
    /// ```
    public init(layers: [LayerSpec], parameters: [(name: String, value: ExplainValue)],
                buffers: [(name: String, value: ExplainValue)] = [], training: Set<Int> = [], loss: ExplainLoss,
                input: ExplainValue, target: ExplainTarget) throws {
        let batch = try Self.inputIsBatch(input.shape, layerTypes: layers.map(\.typeName))
        var shape = batch ? Array(input.shape.dropFirst()) : input.shape
        for (i, layer) in layers.enumerated() {
            shape = try layer.outputShape(for: shape, path: "layers[\(i)]")
            for p in layer.parameterShapes {
                guard let given = parameters.first(where: { $0.name == "\(i).\(p.name)" }) else {
                    throw ExplainError("\(i).\(p.name)", "missing: the layer \(layer.summary) needs a \(p.name) of shape \(p.shape)")
                }
                guard given.value.shape == p.shape else {
                    throw ExplainError("\(i).\(p.name)", "expected shape \(p.shape), got \(given.value.shape)")
                }
            }
        }
        for b in buffers {
            let parts = b.name.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let i = Int(parts[0]), layers.indices.contains(i),
                  let c = Self.batchNormFeatures(layers[i]), ["running_mean", "running_var", "num_batches_tracked"].contains(String(parts[1])) else {
                throw ExplainError(b.name, "no such buffer: only batch norm layers have running_mean, running_var and num_batches_tracked")
            }
            let expected = parts[1] == "num_batches_tracked" ? [] : [c]
            guard b.value.shape == expected else { throw ExplainError(b.name, "expected shape \(expected), got \(b.value.shape)") }
        }
        for i in training.sorted() where Self.batchNormFeatures(layers.indices.contains(i) ? layers[i] : .flatten()) == nil {
            throw ExplainError("layers[\(i)]", "only batch norm layers have a training mode here")
        }
        self.layers = layers
        self.parameters = parameters
        self.buffers = buffers
        self.trainingLayers = training
        self.loss = loss
        self.inputShape = input.shape
        self.input = input.scalars
        self.target = target
        self.isBatch = batch
    }

    /// The number of channels of a batch norm layer; `nil` for any other layer.
    static func batchNormFeatures(_ layer: LayerSpec) -> Int? {
        switch layer {
        case let .batchNorm1d(c, _, _), let .batchNorm2d(c, _, _): return c
        default: return nil
        }
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
struct Reader {
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

    /// One layer read: its description, its parameters and buffers (names without the layer's index),
    /// and whether it runs in training mode.
    struct ReadLayer {
        var layer: LayerSpec
        var parameters: [(String, ExplainValue)] = []
        var buffers: [(String, ExplainValue)] = []
        var training = false
    }

    /// A layer object; `inputShape` is the shape of one example of its input, `batch` the number of examples.
    func layer(_ o: JSON, path: String, inputShape: [Int], batch: Int) throws -> ReadLayer {
        // An activation may be written in its command-line form, as train --activation and plot take it:
        // "softplus:2" means {"type": "softplus", "beta": 2}.
        if case let .string(form) = o {
            do { return ReadLayer(layer: .activation(try Activation(parsing: form))) }
            catch let e as SpecError { throw ExplainError(path, e.message) }
        }
        guard case let .object(members) = o else {
            throw ExplainError(path, "expected a layer object such as {\"type\": \"relu\"} or an activation such as \"softplus:2\", got \(o.kindName)")
        }
        guard let type = try string(o, "type", path: path) else { throw ExplainError(path, "missing key 'type'") }
        switch type {
        case "linear":
            try ExplainProblem.checkKeys(members, allowed: ["type", "weight", "bias"], path: path, what: "a linear layer")
            let (layer, values) = try linear(o, path: path, inputSize: inputShape.last ?? 0)
            return ReadLayer(layer: layer, parameters: values)
        case "conv1d", "conv2d":
            return try convolution(o, type: type, path: path, inputShape: inputShape)
        case "batch_norm1d", "batch_norm2d":
            return try batchNorm(o, type: type, path: path, inputShape: inputShape, batch: batch)
        case "layer_norm":
            return try layerNorm(o, path: path, inputShape: inputShape)
        default:
            // Every other layer is read by its one description (LayerSpec's Codable form).
            return ReadLayer(layer: try spec(o, path: path))
        }
    }

    /// A layer description decoded from `o` (LayerSpec's Codable form), its errors naming `path`.
    func spec(_ o: JSON, path: String) throws -> LayerSpec {
        do {
            return try o.decode(LayerSpec.self, path: path)
        } catch let e as DataError {
            let (where_, what) = e.message.split(separator: ": ", maxSplits: 1).map(String.init).pair
            throw ExplainError(where_, what)
        }
    }

    func linear(_ o: JSON, path: String, inputSize: Int) throws -> (LayerSpec, [(String, ExplainValue)]) {
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
        var values = [("weight", ExplainValue(shape: wShape, scalars: w))]
        if let bias { values.append(("bias", ExplainValue(shape: [bias.count], scalars: bias))) }
        return (.linear(inFeatures: columns, outFeatures: rows, bias: bias != nil), values)
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


private extension Array where Element == String {
    /// `["where", "what"]` as a pair; a message without a path is `("", message)`.
    var pair: (String, String) { count == 2 ? (self[0], self[1]) : ("", first ?? "") }
}

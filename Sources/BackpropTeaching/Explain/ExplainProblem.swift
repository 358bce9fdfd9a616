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
        var shape = [inputShape.last ?? 0]
        return layers.map { layer in
            shape = (try? layer.outputShape(for: shape)) ?? shape
            return shape.last ?? 0
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
        var layers: [LayerSpec] = []
        var parameters: [(name: String, value: ExplainValue)] = []
        for (i, value) in layerValues.enumerated() {
            let (layer, values) = try reader.layer(value, path: "layers[\(i)]", inputSize: size)
            size = try layer.outputShape(for: [size], path: "layers[\(i)]").last!
            layers.append(layer)
            parameters += values.map { ("\(i).\($0.0)", $0.1) }
        }
        self.layers = layers
        self.parameters = parameters

        let lossObject = try Self.require(top, "loss", path: "")
        guard case .object = lossObject else {
            throw ExplainError("loss", "expected an object such as {\"type\": \"mse\", \"reduction\": \"sum\"}, got \(lossObject.kindName)")
        }
        loss = try reader.loss(lossObject)

        let outputShape = (xShape.count == 2 ? [xShape[0]] : []) + [size]
        target = try reader.target(try Self.require(top, "y", path: ""), loss: loss, outputShape: outputShape,
                                   endsWithSoftmax: layers.last == .activation(.softmax))
    }

    /// A problem from its parts, checked as a file is: the parameters must fit the layers and the
    /// layers the input. For a trained checkpoint, see ``init(checkpoint:input:target:)``.
    ///
    /// ```swift
    /// let p = try ExplainProblem(layers: [.linear(inFeatures: 2, outFeatures: 1)],
    ///                            parameters: [("0.weight", ExplainValue(shape: [1, 2], scalars: [1, 2])),
    ///                                         ("0.bias", ExplainValue(shape: [1], scalars: [0]))],
    ///                            loss: ExplainLoss(kind: .mse, reduction: .sum),
    ///                            input: ExplainValue(shape: [2], scalars: [3, 4]), target: .values(shape: [1], scalars: [10]))
    /// ```
    public init(layers: [LayerSpec], parameters: [(name: String, value: ExplainValue)], loss: ExplainLoss,
                input: ExplainValue, target: ExplainTarget) throws {
        guard input.shape.count == 1 || input.shape.count == 2, input.shape.allSatisfy({ $0 > 0 }) else {
            throw ExplainError("x", "expected one point [n] or a batch [N, n], got shape \(input.shape)")
        }
        var shape = [input.shape.last!]
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
        self.layers = layers
        self.parameters = parameters
        self.loss = loss
        self.inputShape = input.shape
        self.input = input.scalars
        self.target = target
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

    func layer(_ o: JSON, path: String, inputSize: Int) throws -> (LayerSpec, [(String, ExplainValue)]) {
        guard case let .object(members) = o else {
            throw ExplainError(path, "expected a layer object such as {\"type\": \"relu\"}, got \(o.kindName)")
        }
        guard let type = try string(o, "type", path: path) else { throw ExplainError(path, "missing key 'type'") }
        if type == "linear" {
            try ExplainProblem.checkKeys(members, allowed: ["type", "weight", "bias"], path: path, what: "a linear layer")
            return try linear(o, path: path, inputSize: inputSize)
        }
        // Every other layer is read by its one description (LayerSpec's Codable form).
        do {
            return (try o.decode(LayerSpec.self, path: path), [])
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

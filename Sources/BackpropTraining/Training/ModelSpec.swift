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
///
/// A model whose first layers do not fix the input's shape (a convolution fixes the channels, not the
/// height and width) names it with `input_shape`, one example's shape without the batch axis:
///
/// ```swift
/// let cnn = try ModelSpec(json: #"{"input_shape": [1, 28, 28], "layers": [
///     {"type": "conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3}, {"type": "relu"},
///     {"type": "max_pool2d", "kernel_size": 2}, {"type": "flatten"},
///     {"type": "linear", "in_features": 1352, "out_features": 10}]}"#)
/// try cnn.shapes()   // [[1, 28, 28], [8, 26, 26], [8, 26, 26], [8, 13, 13], [1352], [10]]
/// ```
public struct ModelSpec: Equatable, Sendable {
    /// The layers, in order, as in `nn.Sequential`.
    public var layers: [LayerSpec]
    /// The training loss.
    public var loss: LossKind
    /// The shape of one example's input (no batch axis), as the model file gives it (`input_shape`);
    /// `nil` when the first layer fixes it (a dense model: `[in_features]` of its first linear layer).
    /// See ``resolvedInputShape``.
    public var inputShape: [Int]?
    /// How the model file says to train it (its `"training"` object), or `nil`. ``TrainingSession`` does
    /// not apply it by itself: ``TrainingRecipe/apply(to:)`` does, before the caller's own settings
    /// (`backprop train` applies it, then its flags). ``json`` leaves it out: a checkpoint records the
    /// options a run used, recipe included, in its `training.options`.
    public var training: TrainingRecipe?

    /// A network from its layers.
    ///
    /// ```swift
    /// let spec = ModelSpec(layers: [.linear(inFeatures: 2, outFeatures: 1), .activation(.sigmoid)], loss: .mse)
    /// ```
    public init(layers: [LayerSpec], loss: LossKind = .crossEntropy, inputShape: [Int]? = nil) {
        self.layers = layers
        self.loss = loss
        self.inputShape = inputShape
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

    /// One example's input shape: ``inputShape`` when given, else `[in_features]` of a first linear layer
    /// (after any activations or dropout, which keep shapes), else `[num_features]` of a first
    /// `batch_norm1d`; `nil` when the layers do not fix it (a convolution first, with no `input_shape`).
    ///
    /// ```swift
    /// ModelSpec(widths: [64, 128, 10]).resolvedInputShape   // [64]
    /// ```
    public var resolvedInputShape: [Int]? {
        if let inputShape { return inputShape }
        for layer in layers {
            switch layer {
            case let .linear(i, _, _): return [i]
            case let .batchNorm1d(c, _, _): return [c]
            case .activation, .dropout: continue
            default: return nil
            }
        }
        return nil
    }

    /// The number of scalars in one example's input (the product of ``resolvedInputShape``).
    public var inputFeatures: Int? {
        resolvedInputShape.flatMap { MemoryBudget.bytes($0, elementSize: 1) }
    }

    /// The shape of one example's output, or `nil` when the layers do not fit together.
    public var resolvedOutputShape: [Int]? {
        guard let input = resolvedInputShape else { return nil }
        return try? outputShape(for: input)
    }

    /// The number of outputs for one example, or `nil` when the layers do not fit together.
    public var outputFeatures: Int? {
        resolvedOutputShape.map { $0.reduce(1, *) }
    }

    /// `true` when the model takes each example as an image or a sequence (an input shape of rank > 1,
    /// such as `[1, 28, 28]`), not as a row of features.
    public var takesImages: Bool { (resolvedInputShape?.count ?? 1) > 1 }

    /// The shape of one example's output for one example's input shape; errors name the layer (`layers[2]`).
    public func outputShape(for input: [Int]) throws -> [Int] {
        try shapes(for: input).last!
    }

    /// The shape of one example (no batch axis) before the first layer and after each one, from
    /// ``resolvedInputShape``: `count + 1` shapes. Errors are ``SpecError``s naming the layer
    /// (`layers[6]`) and the shapes that led there.
    ///
    /// ```swift
    /// try ModelSpec(widths: [4, 8, 3]).shapes()   // [[4], [8], [8], [3]]
    /// ```
    public func shapes() throws -> [[Int]] {
        guard let input = resolvedInputShape else {
            throw SpecError("input_shape", "the first layer (\(layers.first?.summary ?? "none")) does not fix the input's shape: "
                            + "give one example's shape, e.g. \"input_shape\": [1, 28, 28] for 28 x 28 grey images")
        }
        return try shapes(for: input)
    }

    /// The shape of one example before the first layer (`input`) and after each one.
    public func shapes(for input: [Int]) throws -> [[Int]] {
        var result = [input]
        for (i, layer) in layers.enumerated() {
            do {
                let shape = try layer.outputShape(for: result.last!, path: "layers[\(i)]")
                // Checked before the next layer multiplies the sizes (flatten), and before anything is allocated.
                if let problem = MemoryBudget.refusal(bytes: MemoryBudget.bytes(shape, elementSize: MemoryLayout<Float>.stride)) {
                    throw SpecError("layers[\(i)]", "one example's output of shape \(shape) \(problem)")
                }
                result.append(shape)
            } catch let e as SpecError {
                // Say where the shape came from: the input shape and what each layer before made of it.
                let trace = zip(result.indices, result).map { k, shape in k == 0 ? "input \(shape)" : "layers[\(k - 1)] \(shape)" }
                throw SpecError(e.path, e.message + " (shapes: " + trace.suffix(4).joined(separator: " -> ") + ")")
            }
        }
        return result
    }

    /// The number of parameters of the model it builds.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Checks the layers and that each one's output fits the next one's input; errors are ``DataError``s
    /// naming `source` and the layer: `model.json: layers[2]: linear takes 128 input features, ...`.
    public func validate(source: String = "model spec") throws {
        do {
            guard !layers.isEmpty else { throw SpecError("layers", "expected at least one layer") }
            for (i, layer) in layers.enumerated() { try layer.validate(path: "layers[\(i)]") }
            if let shape = inputShape {
                guard !shape.isEmpty, shape.count <= 4, shape.allSatisfy({ $0 > 0 }) else {
                    throw SpecError("input_shape", "expected 1 to 4 positive sizes (one example, no batch axis), got \(shape)")
                }
                guard let n = MemoryBudget.bytes(shape, elementSize: MemoryLayout<Float>.stride), MemoryBudget.refusal(bytes: n) == nil else {
                    throw SpecError("input_shape", "one example of shape \(shape) would not fit in memory")
                }
            }
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
            _ = try shapes()
        } catch let error as SpecError {
            throw DataError(path: source, error.description)
        }
        // Below that bound, the bytes must also fit in this machine's memory.
        try checkFitsInMemory(source: source)
    }

    /// The most parameters a spec may describe: 2³¹ (8 GiB of float32), far above what trains here.
    public static let maximumParameterCount = 1 << 31

    /// The spec as JSON, layers as PyTorch names them:
    /// `{"layers":[{"type":"linear","in_features":64,"out_features":128},{"type":"relu"},...],"loss":"cross_entropy"}`.
    public var json: JSON {
        .object((inputShape.map { [("input_shape", JSON.array($0.map { .number(Double($0)) }))] } ?? [])
                + [("layers", .array(layers.map { try! JSON(encoding: $0) })), ("loss", .string(loss.rawValue))])
    }

    /// Parses JSON text (a file's contents); `source` names it in errors.
    public init(json text: String, source: String = "model spec") throws {
        try self.init(jsonValue: JSON.parse(text, source: source), source: source)
    }

    /// Reads a spec from a parsed JSON object: `layers` as layer objects, or as widths with `activation`
    /// (a command-line form such as `softplus:2`) and `dropout`; `loss` defaults to cross-entropy; an
    /// optional `training` object is read as a ``TrainingRecipe`` (errors name `training.KEY`).
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
        let known = isShorthand ? ["layers", "activation", "dropout", "loss", "input_shape", "training"]
                                : ["input_shape", "layers", "loss", "training"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            // A training option at the top level belongs in the recipe.
            let hint = TrainingRecipe.keys.contains(unknown.0) ? "; training options go in \"training\": {\"\(unknown.0)\": ...}" : ""
            throw fail("", "unknown key \"\(SpecError.clip(unknown.0))\" (known: \(known.joined(separator: ", "))\(hint))")
        }
        var loss = LossKind.crossEntropy
        if let l = v["loss"] {
            guard let s = l.stringValue, let k = LossKind(rawValue: s) else {
                throw fail("loss", "expected one of \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            loss = k
        }
        var inputShape: [Int]?
        if let shape = v["input_shape"] {
            guard let items = shape.arrayValue else {
                throw fail("input_shape", "expected one example's shape as an array of sizes, such as [1, 28, 28], got \(shape.kindName)")
            }
            inputShape = []
            for (i, item) in items.enumerated() {
                guard let n = item.intValue, n > 0 else { throw fail("input_shape[\(i)]", "expected a positive integer size") }
                inputShape!.append(n)
            }
        }
        var training: TrainingRecipe?
        if let t = v["training"] {
            do { training = try TrainingRecipe(jsonValue: t) } catch let e as SpecError { throw fail(e.path, e.message) }
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
                do { activation = try Activation(parsing: text) } catch let e as SpecError { throw fail("activation", e.message) }
            }
            var dropout = 0.0
            if let d = v["dropout"] {
                guard let x = d.numberValue else { throw fail("dropout", "expected a number, got \(d.kindName)") }
                guard x >= 0 && x < 1 else { throw fail("dropout", "must be in [0, 1), got \(x)") }
                dropout = x
            }
            self.init(widths: widths, activation: activation, dropout: dropout, loss: loss)
            self.inputShape = inputShape
            self.training = training
        } else {
            var layers: [LayerSpec] = []
            for (i, item) in items.enumerated() {
                do {
                    layers.append(try item.decode(LayerSpec.self, source: source, path: "layers[\(i)]"))
                } catch let e as SpecError {
                    throw fail(e.path, e.message)
                }
            }
            self.init(layers: layers, loss: loss, inputShape: inputShape)
            self.training = training
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

import BackpropCore
import BackpropNN
import BackpropData
/// A trained model in one safetensors file that PyTorch reads with
/// `safetensors.torch.load_file` and `nn.Sequential.load_state_dict`.
///
/// Tensors: the model's state_dict (`0.weight`, `0.bias`, ...), F32, with
/// buffers (`1.running_mean`, ...; `num_batches_tracked` as I64).
/// `__metadata__` (a string map, as the format requires):
/// - `format`: `pt`, as PyTorch's own files;
/// - `architecture`: the ``ModelSpec`` as JSON, so `backprop eval` and
///   `backprop predict` rebuild the model from the file alone;
/// - `preprocessing`: JSON with the standardisation fitted on the training
///   data, class names and feature names, applied again at prediction time;
/// - `training`: JSON about the run (dataset, epochs, seed, final scores, the
///   options and the position reached), for people and for resuming.
///
/// A checkpoint written during training also holds the optimizer's state, as
/// tensors named `optimizer.` + PyTorch's state names (`optimizer.state.0.exp_avg`,
/// ...; see ``OptimizerStateDict``). They are not part of the model: ``load(path:)``
/// and ``loadWeights(into:from:)`` skip them, and PyTorch code filters them out
/// before `load_state_dict(..., strict=True)`.
///
/// ```swift
/// try Checkpoint(spec: spec, model: model).save(to: "digits.safetensors")
/// let restored = try Checkpoint.load(path: "digits.safetensors")
/// let logits = restored.model(x)
/// ```
public struct Checkpoint {
    /// The architecture, stored as the `architecture` metadata.
    public var spec: ModelSpec
    /// The model whose parameters are the file's tensors.
    public var model: Sequential<Float>
    /// Input preprocessing and names, stored as the `preprocessing` metadata.
    public var preprocessing: Preprocessing
    /// Free-form information about the run.
    public var training: JSON?
    /// The optimizer's state by PyTorch's names without the `optimizer.` prefix (`state.0.exp_avg`, ...);
    /// empty for a checkpoint that cannot be resumed.
    public var optimizerState: [(name: String, tensor: Tensor<Float>)] = []

    /// The prefix of the optimizer's tensors in the file.
    public static let optimizerPrefix = "optimizer."

    /// A checkpoint of `model`, which must have been built from `spec`.
    ///
    /// ```swift
    /// let spec = ModelSpec(layers: [4, 8, 3])
    /// let checkpoint = Checkpoint(spec: spec, model: spec.makeModel(seed: 1))
    /// try checkpoint.save(to: "iris.safetensors")
    /// ```
    public init(spec: ModelSpec, model: Sequential<Float>, preprocessing: Preprocessing = Preprocessing(),
                training: JSON? = nil) {
        self.spec = spec
        self.model = model
        self.preprocessing = preprocessing
        self.training = training
    }

    /// The model's input for rows of stored values (or values already divided by `featureScale`):
    /// ``preprocessing`` applied, then each example shaped as the model takes it (``ModelSpec/resolvedInputShape``).
    ///
    /// ```swift
    /// let checkpoint = try Checkpoint.load(path: "fashion-cnn.safetensors")
    /// let logits = checkpoint.model(checkpoint.input(Tensor<Float>(shape: [1, 784], scalars: pixels)))   // pixels 0...255
    /// ```
    public func input(_ features: Tensor<Float>, featureScale: Double? = nil) -> Tensor<Float> {
        let x = preprocessing.apply(features, featureScale: featureScale)
        guard let shape = spec.resolvedInputShape, Array(x.shape.dropFirst()) != shape else { return x }
        return x.reshaped(to: [x.shape[0]] + shape)
    }

    /// The metadata map written under `__metadata__`.
    public var metadata: [String: String] {
        var m = ["format": "pt", "architecture": spec.json.compactText, "preprocessing": preprocessing.json.compactText]
        if let training { m["training"] = training.compactText }
        return m
    }

    /// The file's bytes (deterministic: same model, same bytes).
    public func encoded() -> [UInt8] {
        Checkpoint.encodeState(of: model, metadata: metadata,
                               extra: optimizerState.map { (Checkpoint.optimizerPrefix + $0.name, $0.tensor) })
    }

    /// A module's parameters (F32) and buffers (F32, or I64 for whole-number
    /// buffers such as `num_batches_tracked`, as PyTorch stores them) as
    /// safetensors bytes, in state_dict order: parameters, then buffers, then `extra`
    /// (a checkpoint's optimizer state).
    ///
    /// ```swift
    /// let bytes = Checkpoint.encodeState(of: Sequential<Float>(Conv2d(1, 4, kernelSize: 3), BatchNorm2d(4)))
    /// ```
    public static func encodeState<M: Module>(of model: M, metadata: [String: String] = [:],
                                              extra: [(name: String, tensor: Tensor<M.Scalar>)] = []) -> [UInt8] where M.Scalar: StorableScalar {
        let buffers = model.namedBuffers()
        let tensors = model.namedParameters().map { ($0.name, $0.tensor.detached()) } + buffers.map { ($0.name, $0.buffer.value) } + extra
        var dtypes: [String: SafetensorsDType] = [:]
        for (name, b) in buffers where b.isInteger { dtypes[name] = .i64 }
        return Safetensors.encode(tensors, dtypes: dtypes, metadata: metadata)
    }

    /// Writes the file atomically: an existing checkpoint at `path` is
    /// replaced only by a complete new one, and survives a failed write.
    public func save(to path: String) throws {
        try FileIO.writeAtomically(encoded(), to: path)
    }

    /// Reads a checkpoint and rebuilds its model from the `architecture`
    /// metadata. A file without it, or whose tensors do not fit it, is an error.
    public static func load(path: String) throws -> Checkpoint {
        try load(file: SafetensorsFile(path: path), path: path)
    }

    /// ``load(path:)`` of a checkpoint file's bytes, read elsewhere (a distributed
    /// run's rank 0 reads the file and sends its bytes to the other ranks); `path`
    /// names the file in errors.
    ///
    /// ```swift
    /// let c = try Checkpoint.load(bytes: FileIO.readBytes(path: "ck.safetensors"), path: "ck.safetensors")
    /// ```
    public static func load(bytes: [UInt8], path: String) throws -> Checkpoint {
        try load(file: SafetensorsFile(bytes: bytes, path: path), path: path)
    }

    /// ``load(path:)`` of a file already read (`path` names it in errors).
    static func load(file: SafetensorsFile, path: String) throws -> Checkpoint {
        guard let architecture = file.metadata["architecture"] else {
            throw DataError(path: path, "no \"architecture\" in __metadata__: not a backprop checkpoint (load its tensors with Checkpoint.loadWeights(into:from:) and a model you build)")
        }
        let spec = try ModelSpec(jsonValue: JSON.parse(architecture, source: path + " __metadata__.architecture"),
                                 source: path + " __metadata__.architecture")
        let preprocessing = try file.metadata["preprocessing"].map {
            try Preprocessing(jsonValue: JSON.parse($0, source: path + " __metadata__.preprocessing"),
                              source: path + " __metadata__.preprocessing")
        } ?? Preprocessing()
        let training = try file.metadata["training"].map { try JSON.parse($0, source: path + " __metadata__.training") }
        try spec.checkTensors(of: file)
        try preprocessing.check(against: spec, source: path + " __metadata__.preprocessing")
        let model = spec.makeModel(seed: 0)
        let tensors: [String: Tensor<Float>] = try file.tensors()
        try loadWeights(into: model, from: tensors, path: path)
        model.eval()
        var checkpoint = Checkpoint(spec: spec, model: model, preprocessing: preprocessing, training: training)
        checkpoint.optimizerState = tensors.keys.filter { $0.hasPrefix(optimizerPrefix) }.sorted().map {
            (String($0.dropFirst(optimizerPrefix.count)), tensors[$0]!)
        }
        return checkpoint
    }

    /// Copies a safetensors file's tensors into `model` by state_dict name
    /// (F16, BF16, F32 and F64 convert). Missing, extra or misshapen tensors
    /// are an error that names each one, and leave the model unchanged.
    /// Tensors named `optimizer.*` (an optimizer's state) are not the model's and are skipped.
    ///
    /// ```swift
    /// let model = Sequential<Float>(Linear(4, 8), ReLU(), Linear(8, 3))
    /// try Checkpoint.loadWeights(into: model, from: "torch_mlp_f32.safetensors")
    /// ```
    public static func loadWeights<M: Module>(into model: M, from path: String) throws where M.Scalar == Float {
        try loadWeights(into: model, from: SafetensorsFile(path: path))
    }

    static func loadWeights<M: Module>(into model: M, from file: SafetensorsFile) throws where M.Scalar == Float {
        try loadWeights(into: model, from: file.tensors(), path: file.path)
    }

    static func loadWeights<M: Module>(into model: M, from tensors: [String: Tensor<Float>], path: String) throws where M.Scalar == Float {
        // A diverged run's weights (NaN, inf) are refused, not loaded silently.
        for name in tensors.keys.sorted() {
            let scalars = tensors[name]!.scalars
            if let i = scalars.firstIndex(where: { !$0.isFinite }) {
                throw DataError(path: path, "tensor \(DataError.quote(name)) holds \(scalars[i]) at element \(i); a checkpoint's parameters must be finite")
            }
        }
        do {
            try model.loadStateDict(tensors.filter { !$0.key.hasPrefix(optimizerPrefix) })
        } catch let e as StateDictError {
            throw DataError(path: path, "the tensors do not fit the model: " + e.problems.joined(separator: "; "))
        }
    }
}

/// What was done to the inputs before training, stored in a checkpoint so
/// that `eval`, `predict` and PyTorch code do the same. From the stored values
/// (an image's bytes, a CSV row) to the model's input, in this order:
///
///     x = stored / scale                  (scale: 255 for MNIST bytes, 16 for the digits)
///     x = (x - mean) / std                (standardize, per feature of the flat row)
///     x = x.reshape(N, *input_shape)      (input_shape: [1, 28, 28] for a conv model)
///
/// Each step only when its key is in the JSON.
public struct Preprocessing: Equatable, Sendable {
    /// What the stored values are divided by first; `nil` for none.
    public var scale: Double?
    /// Standardisation fitted on the training split, if any.
    public var standardizer: Standardizer?
    /// The shape each example's flat row is reshaped to last (no batch axis), for a model that takes
    /// images; `nil` keeps rows.
    public var inputShape: [Int]?
    /// Class names, in class-index order (classification).
    public var classNames: [String]?
    /// Feature (CSV column) names, in input order.
    public var featureNames: [String]?

    /// Preprocessing from its parts; the default does nothing.
    ///
    /// ```swift
    /// let p = Preprocessing(standardizer: Standardizer(mean: [5.8], std: [0.8]), featureNames: ["sepal_length"])
    /// let x = p.apply(Tensor<Float>([[6.6]]))   // ≈ [[1.0]]
    /// let images = Preprocessing(scale: 255, inputShape: [1, 2, 2])
    /// images.apply(Tensor<Float>([[0, 51, 255, 102]]))   // [[[[0.0, 0.2], [1.0, 0.4]]]], shape [1, 1, 2, 2]
    /// ```
    public init(scale: Double? = nil, standardizer: Standardizer? = nil, inputShape: [Int]? = nil,
                classNames: [String]? = nil, featureNames: [String]? = nil) {
        self.scale = scale
        self.standardizer = standardizer
        self.inputShape = inputShape
        self.classNames = classNames
        self.featureNames = featureNames
    }

    /// The model's input for `features`, rows `[N, F]` (or any `[N, ...]` of F values each) of stored
    /// values, or of values already divided by `featureScale` (a dataset's ``TensorDataset/featureScale``:
    /// the digits loader has divided by 16, so a digits checkpoint, whose scale is 16, does not divide again).
    public func apply(_ features: Tensor<Float>, featureScale: Double? = nil) -> Tensor<Float> {
        let n = features.shape.first ?? 0
        var x = features.reshaped(to: [n, features.count / max(n, 1)])
        // Without a recorded scale (a checkpoint from before it was recorded), features are taken as given.
        if let scale, featureScale == nil {
            x = x / Float(scale)   // as PyTorch code divides: x / 255
        } else if let scale, let featureScale, featureScale != scale {
            x = x * Float(featureScale / scale)
        }
        if let standardizer { x = standardizer.apply(x) }
        if let inputShape { x = x.reshaped(to: [n] + inputShape) }
        else if features.rank > 2 { x = x.reshaped(to: features.shape) }
        return x
    }

    /// The JSON stored in a checkpoint:
    /// `{"scale":255,"standardize":{"mean":[...],"std":[...]},"input_shape":[1,28,28],"classes":[...],"features":[...]}`,
    /// each key only when set.
    public var json: JSON {
        var members: [(String, JSON)] = []
        if let scale { members.append(("scale", .number(scale))) }
        if let s = standardizer {
            members.append(("standardize", .object([("mean", .array(s.mean.map { .number($0) })),
                                                     ("std", .array(s.std.map { .number($0) }))])))
        }
        if let inputShape { members.append(("input_shape", .array(inputShape.map { .number(Double($0)) }))) }
        if let c = classNames { members.append(("classes", .array(c.map { .string($0) }))) }
        if let f = featureNames { members.append(("features", .array(f.map { .string($0) }))) }
        return .object(members)
    }

    /// Throws unless the steps fit `spec`: as many standardisation statistics as the model's input
    /// features, and an input shape that is the model's.
    func check(against spec: ModelSpec, source: String) throws {
        let features = spec.inputFeatures ?? 0
        if let s = standardizer, s.mean.count != features {
            throw DataError(path: source, "standardize has \(s.mean.count) features, but the model takes \(features)")
        }
        if let inputShape, inputShape != spec.resolvedInputShape {
            throw DataError(path: source, "input_shape \(inputShape) is not the model's input shape \(spec.resolvedInputShape ?? [])")
        }
    }

    /// Reads the form written by ``json``; errors name `source` and the key that is wrong.
    public init(jsonValue v: JSON, source: String) throws {
        func numbers(_ key: String) throws -> [Double] {
            guard let items = v["standardize"]?[key]?.arrayValue, items.allSatisfy({ $0.numberValue != nil }) else {
                throw DataError(path: source, "standardize.\(key) must be an array of numbers")
            }
            return items.map { $0.numberValue! }
        }
        func strings(_ key: String) throws -> [String]? {
            guard let value = v[key] else { return nil }
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw DataError(path: source, "\(key) must be an array of strings")
            }
            return items.map { $0.stringValue! }
        }
        if v["standardize"] != nil {
            let mean = try numbers("mean"), std = try numbers("std")
            guard mean.count == std.count else { throw DataError(path: source, "standardize: \(mean.count) means but \(std.count) deviations") }
            // (x - mean) / std: a zero, negative or non-finite statistic would make every input NaN or inf.
            // The model computes in Float: the mean and 1 / std must be finite Floats too.
            if let i = mean.firstIndex(where: { !Float($0).isFinite }) {
                throw DataError(path: source, "standardize.mean[\(i)] must be a finite Float, got \(mean[i])")
            }
            if let i = std.firstIndex(where: { !($0 > 0 && $0.isFinite && Float(1 / $0).isFinite) }) {
                throw DataError(path: source, "standardize.std[\(i)] must be a positive number (at least 3e-39), got \(std[i])")
            }
            standardizer = Standardizer(mean: mean, std: std)
        }
        if let value = v["scale"] {
            guard let x = value.numberValue, x.isFinite, x > 0, Float(x) > 0, Float(x).isFinite else {
                throw DataError(path: source, "scale must be a positive number, got \(value.numberValue.map { "\($0)" } ?? value.kindName)")
            }
            scale = x
        }
        if let value = v["input_shape"] {
            guard let items = value.arrayValue, !items.isEmpty, items.count <= 4,
                  items.allSatisfy({ ($0.intValue ?? 0) > 0 }) else {
                throw DataError(path: source, "input_shape must be an array of 1 to 4 positive integers")
            }
            inputShape = items.map { $0.intValue! }
        }
        classNames = try strings("classes")
        featureNames = try strings("features")
    }
}

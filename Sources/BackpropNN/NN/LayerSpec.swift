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
    /// A 1-D convolution over [C, L], as `nn.Conv1d`.
    case conv1d(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvolutionPadding = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true)
    /// A 2-D convolution over [C, H, W], as `nn.Conv2d`.
    case conv2d(inChannels: Int, outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: ConvolutionPadding = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true)
    /// Max pooling, as `nn.MaxPool2d` (stride `nil`: the kernel size).
    case maxPool2d(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0)
    /// Average pooling, as `nn.AvgPool2d` (stride `nil`: the kernel size).
    case avgPool2d(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0)
    /// Average pooling to a fixed size, as `nn.AdaptiveAvgPool2d`.
    case adaptiveAvgPool2d(outputSize: Size2)
    /// Joins axes `startDim...endDim` of the batch tensor, as `nn.Flatten` (defaults 1 and -1).
    case flatten(startDim: Int = 1, endDim: Int = -1)
    /// Batch normalization of [C] or [C, L] examples, as `nn.BatchNorm1d`.
    case batchNorm1d(numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1)
    /// Batch normalization of [C, H, W] examples, as `nn.BatchNorm2d`.
    case batchNorm2d(numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1)
    /// Layer normalization over the trailing `normalizedShape`, as `nn.LayerNorm`.
    case layerNorm(normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true)

    /// The `type` names, as JSON files spell them: `linear`, `dropout` and every activation's name.
    public static var typeNames: [String] {
        ["linear", "dropout", "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "flatten",
         "batch_norm1d", "batch_norm2d", "layer_norm"] + Activation.names
    }

    /// The `type` name: `linear`, `dropout`, or the activation's name (`relu`, `softplus`, ...).
    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .dropout: return "dropout"
        case let .activation(a): return a.name
        case .conv1d: return "conv1d"
        case .conv2d: return "conv2d"
        case .maxPool2d: return "max_pool2d"
        case .avgPool2d: return "avg_pool2d"
        case .adaptiveAvgPool2d: return "adaptive_avg_pool2d"
        case .flatten: return "flatten"
        case .batchNorm1d: return "batch_norm1d"
        case .batchNorm2d: return "batch_norm2d"
        case .layerNorm: return "layer_norm"
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
        case let .conv1d(i, o, k, _, _, _, g, bias): return [("weight", [o, i / g, k])] + (bias ? [("bias", [o])] : [])
        case let .conv2d(i, o, k, _, _, _, g, bias):
            return [("weight", [o, i / g, k.height, k.width])] + (bias ? [("bias", [o])] : [])
        case let .batchNorm1d(c, _, _), let .batchNorm2d(c, _, _): return [("weight", [c]), ("bias", [c])]
        case let .layerNorm(shape, _, affine): return affine ? [("weight", shape), ("bias", shape)] : []
        case .activation, .dropout, .maxPool2d, .avgPool2d, .adaptiveAvgPool2d, .flatten: return []
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
        case let .conv1d(i, o, k, s, p, d, g, _):
            try Self.validateConvolution(at, i, o, [k], [s], p, [d], g)
        case let .conv2d(i, o, k, s, p, d, g, _):
            try Self.validateConvolution(at, i, o, [k.height, k.width], [s.height, s.width], p, [d.height, d.width], g)
        case let .maxPool2d(k, s, p), let .avgPool2d(k, s, p):
            guard k.height > 0 && k.width > 0 else { throw SpecError(at("kernel_size"), "must be positive, got \(k)") }
            if let s { guard s.height > 0 && s.width > 0 else { throw SpecError(at("stride"), "must be positive, got \(s)") } }
            guard p.height >= 0 && p.width >= 0 && 2 * p.height <= k.height && 2 * p.width <= k.width else {
                throw SpecError(at("padding"), "must be between 0 and half the kernel size \(k), got \(p)")
            }
        case let .adaptiveAvgPool2d(o):
            guard o.height > 0 && o.width > 0 else { throw SpecError(at("output_size"), "must be positive, got \(o)") }
        case .flatten:
            break
        case let .batchNorm1d(c, eps, m), let .batchNorm2d(c, eps, m):
            guard c > 0 else { throw SpecError(at("num_features"), "must be positive, got \(c)") }
            guard eps > 0 else { throw SpecError(at("eps"), "must be positive, got \(eps)") }
            guard m >= 0 && m <= 1 else { throw SpecError(at("momentum"), "must be in [0, 1], got \(m)") }
        case let .layerNorm(shape, eps, _):
            guard !shape.isEmpty && shape.allSatisfy({ $0 > 0 }) else {
                throw SpecError(at("normalized_shape"), "must be a non-empty list of positive sizes, got \(shape)")
            }
            guard eps > 0 else { throw SpecError(at("eps"), "must be positive, got \(eps)") }
        }
    }

    private static func validateConvolution(_ at: (String) -> String, _ i: Int, _ o: Int, _ k: [Int], _ s: [Int],
                                            _ p: ConvolutionPadding, _ d: [Int], _ g: Int) throws {
        guard i > 0 else { throw SpecError(at("in_channels"), "must be positive, got \(i)") }
        guard o > 0 else { throw SpecError(at("out_channels"), "must be positive, got \(o)") }
        guard k.allSatisfy({ $0 > 0 }) else { throw SpecError(at("kernel_size"), "must be positive, got \(k)") }
        guard s.allSatisfy({ $0 > 0 }) else { throw SpecError(at("stride"), "must be positive, got \(s)") }
        guard d.allSatisfy({ $0 > 0 }) else { throw SpecError(at("dilation"), "must be positive, got \(d)") }
        guard g > 0, i % g == 0, o % g == 0 else {
            throw SpecError(at("groups"), "in_channels \(i) and out_channels \(o) must be divisible by groups \(g)")
        }
        if case let .explicit(q) = p, q.height < 0 || q.width < 0 { throw SpecError(at("padding"), "must not be negative") }
        if p == .same, !s.allSatisfy({ $0 == 1 }) { throw SpecError(at("padding"), "\"same\" needs stride 1, got \(s)") }
    }

    /// Output size of a window sweep along one axis, or nil when the window does not fit.
    private static func sweep(_ size: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int, dilation: Int) -> Int? {
        let span = size + padBefore + padAfter - dilation * (kernel - 1) - 1
        return span < 0 ? nil : span / stride + 1
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
        case let .conv1d(i, o, k, s, p, d, _, _):
            guard input.count == 2, input[0] == i else {
                throw SpecError(path, "conv1d takes [\(i), length] examples, but its input has shape \(input)")
            }
            let (a, b) = p.amounts(axis: 1, kernel: k, dilation: d)
            guard let l = Self.sweep(input[1], kernel: k, stride: s, padBefore: a, padAfter: b, dilation: d) else {
                throw SpecError(path, "conv1d kernel \(k) (dilation \(d)) is longer than the padded input \(input)")
            }
            return [o, l]
        case let .conv2d(i, o, k, s, p, d, _, _):
            guard input.count == 3, input[0] == i else {
                throw SpecError(path, "conv2d takes [\(i), height, width] examples, but its input has shape \(input)")
            }
            let (t, bo) = p.amounts(axis: 0, kernel: k.height, dilation: d.height)
            let (l, r) = p.amounts(axis: 1, kernel: k.width, dilation: d.width)
            guard let h = Self.sweep(input[1], kernel: k.height, stride: s.height, padBefore: t, padAfter: bo, dilation: d.height),
                  let w = Self.sweep(input[2], kernel: k.width, stride: s.width, padBefore: l, padAfter: r, dilation: d.width) else {
                throw SpecError(path, "conv2d kernel \(k) (dilation \(d)) is larger than the padded input \(input)")
            }
            return [o, h, w]
        case let .maxPool2d(k, s, p), let .avgPool2d(k, s, p):
            let s = s ?? k
            guard input.count == 3,
                  let h = Self.sweep(input[1], kernel: k.height, stride: s.height, padBefore: p.height, padAfter: p.height, dilation: 1),
                  let w = Self.sweep(input[2], kernel: k.width, stride: s.width, padBefore: p.width, padAfter: p.width, dilation: 1) else {
                throw SpecError(path, "\(typeName) with kernel \(k) takes [channels, height, width] examples at least that large, but its input has shape \(input)")
            }
            return [input[0], h, w]
        case let .adaptiveAvgPool2d(o):
            guard input.count == 3 else {
                throw SpecError(path, "adaptive_avg_pool2d takes [channels, height, width] examples, but its input has shape \(input)")
            }
            return [input[0], o.height, o.width]
        case let .flatten(start, end):
            // The batch axis is axis 0 of the batch tensor: an example's axes are 1 ... rank.
            let rank = input.count + 1
            let a = start < 0 ? start + rank : start, b = end < 0 ? end + rank : end
            guard a >= 1, b < rank, a <= b else {
                throw SpecError(path, "flatten start_dim \(start) and end_dim \(end) do not fit examples of shape \(input) (the batch axis must stay)")
            }
            return Array(input[..<(a - 1)]) + [input[(a - 1)...(b - 1)].reduce(1, *)] + Array(input[b...])
        case let .batchNorm1d(c, _, _):
            guard (input.count == 1 || input.count == 2), input[0] == c else {
                throw SpecError(path, "batch_norm1d takes [\(c)] or [\(c), length] examples, but its input has shape \(input)")
            }
            return input
        case let .batchNorm2d(c, _, _):
            guard input.count == 3, input[0] == c else {
                throw SpecError(path, "batch_norm2d takes [\(c), height, width] examples, but its input has shape \(input)")
            }
            return input
        case let .layerNorm(shape, _, _):
            guard input.count >= shape.count, Array(input.suffix(shape.count)) == shape else {
                throw SpecError(path, "layer_norm over \(shape) needs examples ending in that shape, but its input has shape \(input)")
            }
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
        case let .conv1d(i, o, k, s, p, d, g, bias):
            return Conv1d<S>(i, o, kernelSize: k, stride: s, padding: p, dilation: d, groups: g, bias: bias, generator: &generator)
        case let .conv2d(i, o, k, s, p, d, g, bias):
            return Conv2d<S>(i, o, kernelSize: k, stride: s, padding: p, dilation: d, groups: g, bias: bias, generator: &generator)
        case let .maxPool2d(k, s, p): return MaxPool2d<S>(kernelSize: k, stride: s, padding: p)
        case let .avgPool2d(k, s, p): return AvgPool2d<S>(kernelSize: k, stride: s, padding: p)
        case let .adaptiveAvgPool2d(o): return AdaptiveAvgPool2d<S>(outputSize: o)
        case let .flatten(a, b): return Flatten<S>(startAxis: a, endAxis: b)
        case let .batchNorm1d(c, eps, m): return BatchNorm1d<S>(c, eps: eps, momentum: m)
        case let .batchNorm2d(c, eps, m): return BatchNorm2d<S>(c, eps: eps, momentum: m)
        case let .layerNorm(shape, eps, affine): return LayerNorm<S>(shape, eps: eps, elementwiseAffine: affine)
        }
    }

    /// The PyTorch code for the same layer: `nn.Linear(64, 128)`, `nn.ReLU()`, `nn.Dropout(p=0.1)`.
    public var pytorchCode: String {
        switch self {
        case let .linear(i, o, bias): return "nn.Linear(\(i), \(o)\(bias ? "" : ", bias=False"))"
        case let .activation(a): return a.pytorchCode
        case let .dropout(p): return "nn.Dropout(p=\(Activation.format(p)))"
        case let .conv1d(i, o, k, s, p, d, g, bias):
            return "nn.Conv1d(\(i), \(o), kernel_size=\(k)" + Self.convOptions(s == 1 ? nil : "\(s)", p, d == 1 ? nil : "\(d)", g, bias) + ")"
        case let .conv2d(i, o, k, s, p, d, g, bias):
            return "nn.Conv2d(\(i), \(o), kernel_size=\(Self.py(k))"
                + Self.convOptions(s == 1 ? nil : Self.py(s), p, d == 1 ? nil : Self.py(d), g, bias) + ")"
        case let .maxPool2d(k, s, p), let .avgPool2d(k, s, p):
            let name = typeName == "max_pool2d" ? "MaxPool2d" : "AvgPool2d"
            return "nn.\(name)(kernel_size=\(Self.py(k))" + (s.map { ", stride=\(Self.py($0))" } ?? "")
                + (p == 0 ? "" : ", padding=\(Self.py(p))") + ")"
        case let .adaptiveAvgPool2d(o): return "nn.AdaptiveAvgPool2d(\(Self.py(o)))"
        case let .flatten(a, b): return a == 1 && b == -1 ? "nn.Flatten()" : "nn.Flatten(\(a), \(b))"
        case let .batchNorm1d(c, eps, m), let .batchNorm2d(c, eps, m):
            return "nn.BatchNorm\(typeName.suffix(2))(\(c)" + (eps == 1e-5 ? "" : ", eps=\(Activation.format(eps))")
                + (m == 0.1 ? "" : ", momentum=\(Activation.format(m))") + ")"
        case let .layerNorm(shape, eps, affine):
            return "nn.LayerNorm(\(shape)" + (eps == 1e-5 ? "" : ", eps=\(Activation.format(eps))")
                + (affine ? "" : ", elementwise_affine=False") + ")"
        }
    }

    /// A short description for tables: `linear 2 -> 3`, `relu (scale 3)`, `dropout (p 0.1)`.
    public var summary: String {
        switch self {
        case let .linear(i, o, bias): return "linear \(i) -> \(o)\(bias ? "" : ", no bias")"
        case let .activation(a): return a.summary
        case let .dropout(p): return "dropout (p \(Activation.format(p)))"
        case let .conv1d(i, o, k, s, _, _, _, _): return "conv1d \(i) -> \(o), kernel \(k)" + (s == 1 ? "" : ", stride \(s)")
        case let .conv2d(i, o, k, s, _, _, _, _):
            return "conv2d \(i) -> \(o), kernel \(k.height)x\(k.width)" + (s == 1 ? "" : ", stride \(s.height)x\(s.width)")
        case let .maxPool2d(k, _, _), let .avgPool2d(k, _, _): return "\(typeName) \(k.height)x\(k.width)"
        case let .adaptiveAvgPool2d(o): return "adaptive_avg_pool2d to \(o.height)x\(o.width)"
        case .flatten: return "flatten"
        case let .batchNorm1d(c, _, _), let .batchNorm2d(c, _, _): return "\(typeName) \(c)"
        case let .layerNorm(shape, _, _): return "layer_norm \(shape)"
        }
    }

    /// A PyTorch int or tuple: `3` or `(3, 5)`.
    static func py(_ s: Size2) -> String { s.height == s.width ? "\(s.height)" : "(\(s.height), \(s.width))" }

    /// `, stride=2, padding='same', ...`: the options that differ from PyTorch's defaults.
    static func convOptions(_ stride: String?, _ padding: ConvolutionPadding, _ dilation: String?, _ groups: Int, _ bias: Bool) -> String {
        var out = ""
        if let stride { out += ", stride=\(stride)" }
        switch padding {
        case .valid: out += ", padding='valid'"
        case .same: out += ", padding='same'"
        case let .explicit(p) where p != 0: out += ", padding=\(py(p))"
        default: break
        }
        if let dilation { out += ", dilation=\(dilation)" }
        if groups != 1 { out += ", groups=\(groups)" }
        if !bias { out += ", bias=False" }
        return out
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
        case "conv1d", "conv2d":
            try only(["type", "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"])
            func size(_ key: String, _ fallback: Size2?) throws -> Size2 {
                if let n = try? container.decode(Int.self, forKey: AnyKey(key)) { return Size2(n) }
                if let a = try? container.decode([Int].self, forKey: AnyKey(key)), a.count == (type == "conv1d" ? 1 : 2) {
                    return Size2(a[0], a[a.count - 1])
                }
                if !container.contains(AnyKey(key)), let fallback { return fallback }
                throw SpecError(path.isEmpty ? key : "\(path).\(key)", type == "conv1d" ? "expected an integer" : "expected an integer or [height, width]")
            }
            let padding: ConvolutionPadding
            if let text = try? container.decode(String.self, forKey: AnyKey("padding")) {
                guard text == "same" || text == "valid" else {
                    throw SpecError(path.isEmpty ? "padding" : "\(path).padding", "expected \"same\", \"valid\" or sizes, got \"\(SpecError.clip(text))\"")
                }
                padding = text == "same" ? .same : .valid
            } else {
                padding = .explicit(try size("padding", 0))
            }
            let i = try container.decode(Int.self, forKey: AnyKey("in_channels"))
            let o = try container.decode(Int.self, forKey: AnyKey("out_channels"))
            let k = try size("kernel_size", nil), s = try size("stride", 1), d = try size("dilation", 1)
            let g = try container.decodeIfPresent(Int.self, forKey: AnyKey("groups")) ?? 1
            let bias = try container.decodeIfPresent(Bool.self, forKey: AnyKey("bias")) ?? true
            if type == "conv1d" {
                // One padding amount, as the integer literal `padding: 1` writes it (only its width is used).
                let p1: ConvolutionPadding = { if case let .explicit(q) = padding { return .explicit(Size2(q.width)) }; return padding }()
                self = .conv1d(inChannels: i, outChannels: o, kernelSize: k.width, stride: s.width, padding: p1,
                               dilation: d.width, groups: g, bias: bias)
            } else {
                self = .conv2d(inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: padding, dilation: d, groups: g, bias: bias)
            }
        case "max_pool2d", "avg_pool2d":
            try only(["type", "kernel_size", "stride", "padding"])
            func size(_ key: String) throws -> Size2? {
                guard container.contains(AnyKey(key)), (try? container.decodeNil(forKey: AnyKey(key))) != true else { return nil }
                if let n = try? container.decode(Int.self, forKey: AnyKey(key)) { return Size2(n) }
                if let a = try? container.decode([Int].self, forKey: AnyKey(key)), a.count == 2 { return Size2(a[0], a[1]) }
                throw SpecError(path.isEmpty ? key : "\(path).\(key)", "expected an integer or [height, width]")
            }
            guard let k = try size("kernel_size") else {
                throw SpecError(path.isEmpty ? "kernel_size" : "\(path).kernel_size", "missing")
            }
            let s = try size("stride"), p = try size("padding") ?? 0
            self = type == "max_pool2d" ? .maxPool2d(kernelSize: k, stride: s, padding: p) : .avgPool2d(kernelSize: k, stride: s, padding: p)
        case "adaptive_avg_pool2d":
            try only(["type", "output_size"])
            if let n = try? container.decode(Int.self, forKey: AnyKey("output_size")) {
                self = .adaptiveAvgPool2d(outputSize: Size2(n))
            } else {
                let a = try container.decode([Int].self, forKey: AnyKey("output_size"))
                guard a.count == 2 else { throw SpecError(path.isEmpty ? "output_size" : "\(path).output_size", "expected an integer or [height, width]") }
                self = .adaptiveAvgPool2d(outputSize: Size2(a[0], a[1]))
            }
        case "flatten":
            try only(["type", "start_dim", "end_dim"])
            self = .flatten(startDim: try container.decodeIfPresent(Int.self, forKey: AnyKey("start_dim")) ?? 1,
                            endDim: try container.decodeIfPresent(Int.self, forKey: AnyKey("end_dim")) ?? -1)
        case "batch_norm1d", "batch_norm2d":
            try only(["type", "num_features", "eps", "momentum"])
            let c = try container.decode(Int.self, forKey: AnyKey("num_features"))
            let eps = try container.decodeIfPresent(Double.self, forKey: AnyKey("eps")) ?? 1e-5
            let m = try container.decodeIfPresent(Double.self, forKey: AnyKey("momentum")) ?? 0.1
            self = type == "batch_norm1d" ? .batchNorm1d(numFeatures: c, eps: eps, momentum: m) : .batchNorm2d(numFeatures: c, eps: eps, momentum: m)
        case "layer_norm":
            try only(["type", "normalized_shape", "eps", "elementwise_affine"])
            let shape: [Int]
            if let n = try? container.decode(Int.self, forKey: AnyKey("normalized_shape")) { shape = [n] }
            else { shape = try container.decode([Int].self, forKey: AnyKey("normalized_shape")) }
            self = .layerNorm(normalizedShape: shape, eps: try container.decodeIfPresent(Double.self, forKey: AnyKey("eps")) ?? 1e-5,
                              elementwiseAffine: try container.decodeIfPresent(Bool.self, forKey: AnyKey("elementwise_affine")) ?? true)
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
        default:
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode(typeName, forKey: AnyKey("type"))
            func size(_ s: Size2, _ key: String) throws {
                if s.height == s.width { try container.encode(s.height, forKey: AnyKey(key)) }
                else { try container.encode([s.height, s.width], forKey: AnyKey(key)) }
            }
            func padding(_ p: ConvolutionPadding, oneD: Bool) throws {
                switch p {
                case .same: try container.encode("same", forKey: AnyKey("padding"))
                case .valid: try container.encode("valid", forKey: AnyKey("padding"))
                case let .explicit(q): try oneD ? container.encode(q.width, forKey: AnyKey("padding")) : size(q, "padding")
                }
            }
            switch self {
            case let .conv1d(i, o, k, s, p, d, g, bias):
                try container.encode(i, forKey: AnyKey("in_channels")); try container.encode(o, forKey: AnyKey("out_channels"))
                try container.encode(k, forKey: AnyKey("kernel_size")); try container.encode(s, forKey: AnyKey("stride"))
                try padding(p, oneD: true); try container.encode(d, forKey: AnyKey("dilation"))
                try container.encode(g, forKey: AnyKey("groups")); try container.encode(bias, forKey: AnyKey("bias"))
            case let .conv2d(i, o, k, s, p, d, g, bias):
                try container.encode(i, forKey: AnyKey("in_channels")); try container.encode(o, forKey: AnyKey("out_channels"))
                try size(k, "kernel_size"); try size(s, "stride"); try padding(p, oneD: false); try size(d, "dilation")
                try container.encode(g, forKey: AnyKey("groups")); try container.encode(bias, forKey: AnyKey("bias"))
            case let .maxPool2d(k, s, p), let .avgPool2d(k, s, p):
                try size(k, "kernel_size"); if let s { try size(s, "stride") }; try size(p, "padding")
            case let .adaptiveAvgPool2d(o): try size(o, "output_size")
            case let .flatten(a, b): try container.encode(a, forKey: AnyKey("start_dim")); try container.encode(b, forKey: AnyKey("end_dim"))
            case let .batchNorm1d(c, eps, m), let .batchNorm2d(c, eps, m):
                try container.encode(c, forKey: AnyKey("num_features")); try container.encode(eps, forKey: AnyKey("eps"))
                try container.encode(m, forKey: AnyKey("momentum"))
            case let .layerNorm(shape, eps, affine):
                try container.encode(shape, forKey: AnyKey("normalized_shape")); try container.encode(eps, forKey: AnyKey("eps"))
                try container.encode(affine, forKey: AnyKey("elementwise_affine"))
            default: break
            }
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

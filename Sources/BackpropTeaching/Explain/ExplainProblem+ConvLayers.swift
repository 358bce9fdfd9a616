import BackpropCore
import BackpropNN
import BackpropData

// Reading the layers of a small CNN in an explain problem, with the keys of
// torch.nn.functional: conv1d/conv2d (weight, bias, stride, padding,
// dilation, groups), batch_norm1d/batch_norm2d (weight, bias, running_mean,
// running_var, eps, momentum, training) and layer_norm (normalized_shape,
// weight, bias, eps). The sizes a module needs (channels, kernel) come from
// the weight's shape; the rest is handed to LayerSpec's own decoder, so the
// hyperparameters are checked in one place and errors name `layers[i].key`.

extension Reader {
    /// A parameter given as nested numbers, with its shape.
    private func tensor(_ o: JSON, _ key: String, path: String) throws -> ExplainValue? {
        guard let value = o[key], value != .null else { return nil }
        let (shape, scalars) = try numbers(value, path: "\(path).\(key)")
        return ExplainValue(shape: shape, scalars: scalars)
    }

    /// `conv1d` / `conv2d`: weight [out, in/groups, k] or [out, in/groups, kH, kW], bias [out] or null.
    func convolution(_ o: JSON, type: String, path: String, inputShape: [Int]) throws -> ReadLayer {
        try ExplainProblem.checkKeys(o.objectValue!, allowed: ["type", "weight", "bias", "stride", "padding", "dilation", "groups"],
                                     path: path, what: "a \(type) layer")
        let rank = type == "conv1d" ? 3 : 4
        let form = type == "conv1d" ? "[out_channels, in_channels/groups, kernel]" : "[out_channels, in_channels/groups, kH, kW]"
        guard let weight = try tensor(o, "weight", path: path) else { throw ExplainError(path, "missing key 'weight'") }
        guard weight.shape.count == rank else {
            throw ExplainError("\(path).weight", "expected a kernel of shape \(form), got shape \(weight.shape)")
        }
        var groups = 1
        if let g = o["groups"], case let .number(v) = g, v == v.rounded(), v >= 1, v <= 1e6 { groups = Int(v) }
        let out = weight.shape[0]
        let inChannels = weight.shape[1] * groups
        if inputShape.count == rank - 1, inputShape[0] != inChannels {
            let perGroup = inputShape[0] % groups == 0 ? "\(inputShape[0] / groups)" : "in_channels/groups"
            throw ExplainError("\(path).weight", "expected shape [\(out), \(perGroup)\(rank == 3 ? ", kernel" : ", kH, kW")] (the input has \(inputShape[0]) channels"
                               + (groups == 1 ? ")" : ", groups \(groups))") + ", got \(weight.shape)")
        }
        let bias = try tensor(o, "bias", path: path)
        if let bias, bias.shape != [out] {
            throw ExplainError("\(path).bias", "expected \(out) values (one per output channel of the weight \(weight.shape)), got shape \(bias.shape)")
        }
        // The description LayerSpec decodes: sizes from the weight, the options as given.
        var description: [(String, JSON)] = [("type", .string(type)), ("in_channels", .number(Double(inChannels))),
                                             ("out_channels", .number(Double(out)))]
        description.append(("kernel_size", rank == 3 ? .number(Double(weight.shape[2]))
                                                     : .array([.number(Double(weight.shape[2])), .number(Double(weight.shape[3]))])))
        for key in ["stride", "padding", "dilation", "groups"] { if let v = o[key] { description.append((key, v)) } }
        description.append(("bias", .bool(bias != nil)))
        let layer = try spec(.object(description), path: path)
        return ReadLayer(layer: layer, parameters: [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []))
    }

    /// `batch_norm1d` / `batch_norm2d`: per-channel weight (default ones), bias (zeros), running_mean
    /// (zeros), running_var (ones); eps, momentum; `training` (default false, as `F.batch_norm`).
    func batchNorm(_ o: JSON, type: String, path: String, inputShape: [Int], batch: Int) throws -> ReadLayer {
        try ExplainProblem.checkKeys(o.objectValue!, allowed: ["type", "weight", "bias", "running_mean", "running_var",
                                                               "eps", "momentum", "training", "num_features"],
                                     path: path, what: "a \(type) layer")
        let channels = inputShape.first ?? 0
        var description: [(String, JSON)] = [("type", .string(type)), ("num_features", .number(Double(channels)))]
        for key in ["eps", "momentum"] { if let v = o[key] { description.append((key, v)) } }
        if let n = o["num_features"], n != .number(Double(channels)) {
            throw ExplainError("\(path).num_features", "expected \(channels) (the input has \(channels) channels), got \(n.text(.compact))")
        }
        let layer = try spec(.object(description), path: path)
        _ = try layer.outputShape(for: inputShape, path: path)
        func vector(_ key: String, _ fallback: Double) throws -> ExplainValue {
            guard let v = try tensor(o, key, path: path) else { return ExplainValue(shape: [channels], scalars: Array(repeating: fallback, count: channels)) }
            guard v.shape == [channels] else {
                throw ExplainError("\(path).\(key)", "expected \(channels) values (one per channel of the input \(inputShape)), got shape \(v.shape)")
            }
            return v
        }
        var training = false
        if let t = o["training"] {
            guard case let .bool(b) = t else { throw ExplainError("\(path).training", "expected true or false, got \(t.kindName)") }
            training = b
        }
        let perChannel = batch * inputShape.dropFirst().reduce(1, *)
        if training && perChannel < 2 {
            throw ExplainError("\(path).training", "training mode needs more than one value per channel to take a variance; the input has \(perChannel) (a batch of \(batch) of shape \(inputShape))")
        }
        let runningVar = try vector("running_var", 1)
        if let k = runningVar.scalars.firstIndex(where: { $0 < 0 }) {
            throw ExplainError("\(path).running_var", "a variance cannot be negative; element \(k) is \(formatNumber(runningVar.scalars[k]))")
        }
        return ReadLayer(layer: layer,
                         parameters: [("weight", try vector("weight", 1)), ("bias", try vector("bias", 0))],
                         buffers: [("running_mean", try vector("running_mean", 0)), ("running_var", runningVar),
                                   ("num_batches_tracked", ExplainValue(shape: [], scalars: [0]))],
                         training: training)
    }

    /// `layer_norm`: normalized_shape (or the weight's shape), weight and bias of that shape (both absent:
    /// no affine parameters; one absent: ones or zeros), eps.
    func layerNorm(_ o: JSON, path: String, inputShape: [Int]) throws -> ReadLayer {
        try ExplainProblem.checkKeys(o.objectValue!, allowed: ["type", "normalized_shape", "weight", "bias", "eps"],
                                     path: path, what: "a layer_norm layer")
        let weight = try tensor(o, "weight", path: path), bias = try tensor(o, "bias", path: path)
        var description: [(String, JSON)] = [("type", .string("layer_norm"))]
        if let shape = o["normalized_shape"] {
            description.append(("normalized_shape", shape))
        } else if let given = weight ?? bias {
            description.append(("normalized_shape", .array(given.shape.map { .number(Double($0)) })))
        } else {
            throw ExplainError(path, "missing key 'normalized_shape'")
        }
        if let eps = o["eps"] { description.append(("eps", eps)) }
        description.append(("elementwise_affine", .bool(weight != nil || bias != nil)))
        let layer = try spec(.object(description), path: path)
        guard case let .layerNorm(shape, _, affine) = layer else { return ReadLayer(layer: layer) }
        _ = try layer.outputShape(for: inputShape, path: path)
        guard affine else { return ReadLayer(layer: layer) }
        func value(_ v: ExplainValue?, _ key: String, _ fallback: Double) throws -> ExplainValue {
            guard let v else { return ExplainValue(shape: shape, scalars: Array(repeating: fallback, count: shape.reduce(1, *))) }
            guard v.shape == shape else { throw ExplainError("\(path).\(key)", "expected shape \(shape) (normalized_shape), got \(v.shape)") }
            return v
        }
        return ReadLayer(layer: layer, parameters: [("weight", try value(weight, "weight", 1)), ("bias", try value(bias, "bias", 0))])
    }
}

import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// Runs an explain problem: forward, loss, backward, the local Jacobians of
// the homework and the Jacobian of the output with respect to x, and optionally
// one SGD step. All numbers come from the library's autograd; nothing here
// differentiates by hand.

/// A tensor's values in a report: its shape and row-major values, as `Double`.
///
/// ```swift
/// ExplainValue(Tensor<Float>([1, 2])).scalars   // [1.0, 2.0]
/// ```
public struct ExplainValue: Equatable, Sendable {
    /// The tensor's shape.
    public var shape: [Int]
    /// The values in row-major order.
    public var scalars: [Double]

    /// A value from its shape and row-major scalars (not checked against each other).
    ///
    /// ```swift
    /// let w = ExplainValue(shape: [2, 2], scalars: [1, 0, 0, 1])
    /// ```
    public init(shape: [Int], scalars: [Double]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// The shape and values of `tensor`, converted to `Double`.
    ///
    /// ```swift
    /// let v = ExplainValue(Tensor<Float>([[1, 2], [3, 4]]))   // shape [2, 2]
    /// ```
    public init<S: TensorScalar>(_ tensor: Tensor<S>) {
        self.init(shape: tensor.shape, scalars: tensor.scalars.map(Double.init))
    }
}

/// The scalar type `explain` computes in.
public enum ExplainDType: String, Sendable, CaseIterable {
    /// `Double`, the default: matches PyTorch's float64 to about 1e-12.
    case float64
    /// `Float`, to see single-precision rounding.
    case float32
}

/// Everything `backprop explain` shows, computed from an ``ExplainProblem``.
///
/// ```swift
/// let report = try ExplainProblem(json: data).explain(learningRate: 0.1)
/// print(report.loss, report.gradients.map(\.name))   // 49.0 ["0.weight", "0.bias", "2.weight", "2.bias"]
/// ```
public struct ExplainReport: Sendable {
    /// A named tensor: a parameter (`0.weight`), a gradient, a Jacobian (`da1/ds1`).
    public struct Entry: Sendable, Equatable {
        /// The name: a state_dict name (`0.weight`) or a Jacobian's (`da1/ds1`).
        public var name: String
        /// The tensor's values.
        public var value: ExplainValue
    }

    /// One row of the forward table.
    public struct LayerRow: Sendable {
        /// The layer's position, as in `nn.Sequential` (and the state_dict names).
        public var index: Int
        /// The layer itself.
        public var layer: LayerSpec
        /// the homework's name of the output: s1, a1, s2, ..., and y~ for the last layer.
        public var outputName: String
        /// The name of the input: x, or the previous layer's output.
        public var inputName: String
        /// What the layer computes, as a formula: `s1 = W1 x + b1`, `a1 = relu(s1), relu(x) = max(x, 0)`.
        public var formula: String
        /// The value that went into the layer.
        public var input: ExplainValue
        /// The value that came out of the layer.
        public var output: ExplainValue
        /// dC/d(output), in the output's shape.
        public var outputGradient: ExplainValue
        /// `true` for a layer run in training mode (batch norm with batch statistics).
        public var isTraining = false
        /// The activation function's derivative with respect to its input, as text, from
        /// ``Activation/derivative`` (`sigmoid(2x)` for `softplus:2`); `nil` for a layer that is not
        /// an activation. The numbers always come from backpropagation, never from this text.
        ///
        /// ```swift
        /// report.rows[1].derivative   // "1 if x > 0, else 0" for a relu layer
        /// ```
        public var derivative: String? {
            if case let .activation(a) = layer { return a.derivative }
            return nil
        }
        /// What the layer did with these numbers, forward and backward, in sentences (filled for conv,
        /// pooling, flatten and normalization layers): the max each window routed its gradient to, the
        /// batch mean and variance, how a conv's gradients are formed.
        public var details: [String] = []
    }

    /// The parameters after one SGD step θ ← θ - η dC/dθ, and the loss they give.
    public struct Step: Sendable {
        /// The step size η.
        public var learningRate: Double
        /// The updated parameters θ - η dC/dθ, by state_dict name.
        public var parameters: [Entry]
        /// The cost recomputed with the updated parameters.
        public var loss: Double
    }

    /// The scalar type everything was computed in.
    public var dtype: ExplainDType
    /// `true` when x is a batch of points ([N, n]) rather than one point.
    public var isBatch: Bool
    /// x.
    public var input: ExplainValue
    /// y: values, or class indices (shape [] or [N]).
    public var target: ExplainValue
    /// `true` when ``target`` holds class indices rather than values.
    public var targetIsClassIndices: Bool
    /// The forward table: one row per layer, in order.
    public var rows: [LayerRow]
    /// The kind of cost.
    public var lossKind: ExplainLoss.Kind
    /// How the cost reduces over elements and points.
    public var reduction: LossReduction
    /// The formula of the cost, for people: `C = Σ (y~ - y)²`.
    public var lossFormula: String
    /// The cost C at the problem's parameters.
    public var loss: Double
    /// The parameters, keyed by state_dict names ("0.weight", "0.bias", ...), in order.
    public var parameters: [Entry]
    /// dC/dθ for each parameter, in the parameter's shape, in the same order.
    public var gradients: [Entry]
    /// dC/dx, in x's shape.
    public var inputGradient: ExplainValue
    /// The local Jacobians (da1/ds1, ..., dy~/ds2), dC/dy~ and dy~/dx.
    public var jacobians: [Entry]
    /// One SGD step, when a learning rate was given to ``ExplainProblem/explain(dtype:learningRate:)``; otherwise `nil`.
    public var step: Step?
    /// Conventions that apply to this problem (batch, reductions, softmax + cross-entropy).
    public var notes: [String]
    /// The buffers after the pass, by state_dict name (`1.running_mean`, ...): batch norm's running
    /// statistics, updated in training mode.
    public var buffers: [Entry] = []

    /// The output of each layer, in order.
    public var outputs: [ExplainValue] { rows.map(\.output) }

    /// The most entries (outputs x inputs of one example) a Jacobian may have to be computed and shown.
    public static let jacobianLimit = 65_536

    /// A Jacobian by name: `jacobian("da1/ds1")`.
    public func jacobian(_ name: String) -> ExplainValue? { jacobians.first { $0.name == name }?.value }

    /// A gradient by state_dict name: `gradient("0.weight")`.
    public func gradient(_ name: String) -> ExplainValue? { gradients.first { $0.name == name }?.value }
}

/// The problem's network as the library's own `Sequential`, built from the layer descriptions and
/// loaded with the problem's parameters and buffers (so explain's numbers are those of the model `train` builds).
extension ExplainProblem {
    /// `false` for a network of only linear, activation, dropout and layer norm layers, which take one
    /// point as well as a batch; the conv, pooling, batch norm and flatten modules take batches only, so one
    /// example runs through them as a batch of one.
    var needsBatchAxis: Bool {
        layers.contains { layer in
            switch layer {
            case .linear, .activation, .dropout, .layerNorm: return false
            default: return true
            }
        }
    }

    func makeModel<S: TensorScalar>(_: S.Type, parameters values: [(name: String, tensor: Tensor<S>)]? = nil) -> Sequential<S> {
        let model = Sequential<S>(describedBy: layers, seed: 0)
        var state = model.stateDict()
        for (name, value) in parameters + buffers { state[name] = Tensor<S>(shape: value.shape, scalars: value.scalars.map { S($0) }) }
        for (name, tensor) in values ?? [] { state[name] = tensor }
        // The shapes were checked when the problem was made.
        try! model.loadStateDict(state)
        model.eval()   // dropout is the identity here: explain shows one deterministic pass
        for i in trainingLayers { model.layers[i].train(true) }
        return model
    }
}

extension ExplainProblem {
    /// Runs the problem: forward, loss, backward, Jacobians, and one SGD step
    /// when `learningRate` is given.
    ///
    /// ```swift
    /// let report = try problem.explain()               // Double
    /// let single = try problem.explain(dtype: .float32)
    /// ```
    public func explain(dtype: ExplainDType = .float64, learningRate: Double? = nil) throws -> ExplainReport {
        switch dtype {
        case .float64: return try explain(Double.self, dtype: dtype, learningRate: learningRate)
        case .float32: return try explain(Float.self, dtype: dtype, learningRate: learningRate)
        }
    }

    /// the homework's names of the layer outputs: s_k after the k-th layer with parameters,
    /// a_k after a layer without (a_k' after a second one), y~ for the last.
    var outputNames: [String] {
        var names: [String] = []
        var k = 0
        for layer in layers {
            if layer.hasParameters {
                k += 1
                names.append("s\(k)")
            } else if let last = names.last, last.hasPrefix("a") {
                names.append(last + "'")
            } else {
                names.append("a\(k)")
            }
        }
        names[names.count - 1] = "y~"
        return names
    }

    /// What layer `i` computes, as a formula; `k` numbers its parameters (W1, b1, γ2, β2).
    func formula(_ i: Int, output: String, input: String, k: Int) -> String {
        switch layers[i] {
        case let .linear(_, _, bias):
            return isBatch ? "\(output) = \(input) W\(k)ᵀ\(bias ? " + b\(k)" : "")"
                           : "\(output) = W\(k) \(input)\(bias ? " + b\(k)" : "")"
        case let .activation(a):
            // The function's own text from the vocabulary: a1 = softplus(s1), softplus(x) = (1/2) log(1 + e^(2x)).
            return "\(output) = \(a.name)(\(input)), \(a.name)(x) = \(a.formula)"
        case let .conv1d(_, _, _, _, _, _, _, bias), let .conv2d(_, _, _, _, _, _, _, bias):
            return "\(output) = W\(k) ⋆ \(input)\(bias ? " + b\(k)" : "")"
        case .batchNorm1d, .batchNorm2d:
            let stats = trainingLayers.contains(i) ? "batch stats" : "running stats"
            return "\(output) = γ\(k) (\(input) - mean) / √(var + eps) + β\(k), \(stats)"
        case let .layerNorm(shape, _, affine):
            let core = "(\(input) - mean) / √(var + eps) over \(shape)"
            return affine ? "\(output) = γ\(k) \(core) + β\(k)" : "\(output) = \(core)"
        default:
            return "\(output) = \(layers[i].typeName)(\(input))"
        }
    }

    private func explain<S: TensorScalar>(_: S.Type, dtype: ExplainDType, learningRate: Double?) throws -> ExplainReport {
        let names = outputNames
        let network = makeModel(S.self)
        let x = Tensor<S>(shape: inputShape, scalars: input.map { S($0) }, requiresGrad: true)
        // One example goes through batch-only modules as a batch of one; the report shows it without that axis.
        let batchAxis = needsBatchAxis
        let addsAxis = batchAxis && !isBatch
        func toModel(_ t: Tensor<S>) -> Tensor<S> { addsAxis ? t.reshaped(to: [1] + t.shape) : t }
        func fromModel(_ t: Tensor<S>) -> Tensor<S> { addsAxis ? t.reshaped(to: Array(t.shape.dropFirst())) : t }
        func value(_ t: Tensor<S>?, like shape: [Int]) -> ExplainValue {
            noGrad { ExplainValue(t.map { fromModel($0.detached()) } ?? Tensor.zeros(addsAxis ? Array(shape.dropFirst()) : shape)) }
        }

        // Forward, keeping every layer's output and its gradient.
        var outputs: [Tensor<S>] = []
        let c: Tensor<S> = try enableGrad {
            var h = toModel(x)
            for i in layers.indices {
                h = network.layers[i](h)
                h.retainGrad()
                outputs.append(h)
            }
            return try cost(fromModel(h))
        }
        c.backward()

        var rows: [ExplainReport.LayerRow] = []
        var weightCount = 0
        for (i, layer) in layers.enumerated() {
            let inName = i == 0 ? "x" : names[i - 1]
            if layer.hasParameters { weightCount += 1 }
            let output = outputs[i]
            rows.append(.init(index: i, layer: layer, outputName: names[i], inputName: inName,
                              formula: formula(i, output: names[i], input: inName, k: weightCount),
                              input: i == 0 ? ExplainValue(x) : value(outputs[i - 1], like: outputs[i - 1].shape),
                              output: value(output, like: output.shape),
                              outputGradient: value(output.grad, like: output.shape),
                              isTraining: trainingLayers.contains(i)))
        }

        let parameters = network.namedParameters()
        let gradients = parameters.map { ExplainReport.Entry(name: $0.name, value: ExplainValue($0.tensor.grad ?? Tensor.zeros($0.tensor.shape))) }
        let inputGradient = ExplainValue(x.grad ?? Tensor.zeros(x.shape))

        // Jacobians, per point: points are independent, so the Jacobian over a
        // batch is block diagonal and its blocks are what the homework writes.
        // Each block is a matrix [output elements, input elements] of one example.
        // Batch norm in training mode couples the points (batch statistics), so
        // through it there are no per-point blocks to show.
        let frozen = makeModel(S.self, parameters: parameters.map { ($0.name, $0.tensor.detached()) })
        func perPoint(_ f: @escaping (Tensor<S>) -> Tensor<S>, at t: Tensor<S>) -> ExplainValue {
            let one: (Tensor<S>) -> Tensor<S> = batchAxis ? { p in
                let r = f(p.reshaped(to: [1] + p.shape))
                return r.reshaped(to: Array(r.shape.dropFirst()))
            } : f
            func block(_ p: Tensor<S>) -> Tensor<S> {
                let j = jacobian(of: one, at: p.detached())
                let inCount = p.count
                return j.reshaped(to: [j.count / inCount, inCount])
            }
            guard isBatch else { return ExplainValue(noGrad { block(t) }) }
            return ExplainValue(noGrad { Tensor.stacked((0..<t.shape[0]).map { block(t[$0]) }) })
        }
        let coupled = isBatch && !trainingLayers.isEmpty
        var jacobians: [ExplainReport.Entry] = []
        var omitted: [String] = []
        // A Jacobian costs one backward pass per output element and holds outputs x inputs numbers:
        // above ``ExplainReport/jacobianLimit`` entries per example (a large image) it is left out.
        let sizes = [exampleShape.reduce(1, *)] + exampleShapes.map { $0.reduce(1, *) }
        // (A network of one activation has only dy~/dx, shown below.)
        for (i, layer) in layers.enumerated() where !layer.hasParameters && !(i == 0 && layers.count == 1) {
            let inName = i == 0 ? "x" : names[i - 1]
            let name = "d\(names[i])/d\(inName)"
            guard sizes[i] * sizes[i + 1] <= ExplainReport.jacobianLimit else { omitted.append(name); continue }
            let at = i == 0 ? x : fromModel(outputs[i - 1].detached())
            jacobians.append(.init(name: name, value: perPoint({ frozen.layers[i]($0) }, at: at)))
        }
        let outputGradient = noGrad { fromModel(outputs.last!.grad ?? Tensor.zeros(outputs.last!.shape)) }
        jacobians.append(.init(name: "dC/dy~", value: ExplainValue(isBatch ? outputGradient : outputGradient.reshaped(to: [1, -1]))))
        if sizes[0] * sizes[layers.count] > ExplainReport.jacobianLimit {
            omitted.append("dy~/dx")
        } else if !coupled {
            jacobians.append(.init(name: "dy~/dx", value: perPoint({ frozen($0) }, at: x)))
        }
        var notes = self.notes
        if !omitted.isEmpty {
            notes.append("\(omitted.joined(separator: ", ")) \(omitted.count == 1 ? "is" : "are") left out: more than \(ExplainReport.jacobianLimit) entries per example; the gradients are computed in full.")
        }

        var step: ExplainReport.Step? = nil
        if let learningRate {
            let eta = S(learningRate)
            let updated = parameters.map { p in (p.name, noGrad { p.tensor.detached() - (p.tensor.grad ?? Tensor.zeros(p.tensor.shape)) * eta }) }
            let stepped = makeModel(S.self, parameters: updated)
            let newLoss = try noGrad { try cost(fromModel(stepped(toModel(x.detached())))) }
            step = .init(learningRate: learningRate, parameters: updated.map { .init(name: $0.0, value: ExplainValue($0.1)) },
                         loss: Double(newLoss.item))
        }

        var report = ExplainReport(
            dtype: dtype, isBatch: isBatch, input: ExplainValue(x), target: targetValue,
            targetIsClassIndices: { if case .classIndices = target { return true } else { return false } }(),
            rows: rows, lossKind: loss.kind, reduction: loss.reduction, lossFormula: lossFormula, loss: Double(c.item),
            parameters: parameters.map { .init(name: $0.name, value: ExplainValue($0.tensor.detached())) },
            gradients: gradients, inputGradient: inputGradient,
            jacobians: jacobians, step: step, notes: notes,
            buffers: network.namedBuffers().map { .init(name: $0.name, value: ExplainValue($0.buffer.value)) })
        report.describeLayers(buffersBefore: buffers)
        return report
    }

    private var targetValue: ExplainValue {
        switch target {
        case let .values(shape, scalars): return ExplainValue(shape: shape, scalars: scalars)
        case let .classIndices(shape, indices): return ExplainValue(shape: shape, scalars: indices.map(Double.init))
        }
    }

    /// The cost C(y, y~) of the network output.
    private func cost<S: TensorScalar>(_ output: Tensor<S>) throws -> Tensor<S> {
        let reduction = loss.reduction
        switch (loss.kind, target) {
        case let (.mse, .values(shape, y)):
            return mseLoss(output, Tensor(shape: shape, scalars: y.map { S($0) }), reduction: reduction)
        case let (.l2, .values(shape, y)):
            return halfL2Loss(output, Tensor(shape: shape, scalars: y.map { S($0) }), reduction: reduction)
        case let (.l1, .values(shape, y)):
            return l1Loss(output, Tensor(shape: shape, scalars: y.map { S($0) }), reduction: reduction)
        case let (.huber, .values(shape, y)):
            return huberLoss(output, Tensor(shape: shape, scalars: y.map { S($0) }), reduction: reduction)
        case let (.bce, .values(shape, y)):
            if let k = output.scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw ExplainError("loss", "bce needs the network's outputs in [0, 1] (end the network with a sigmoid); output element \(k) is \(formatNumber(Double(output.scalars[k])))")
            }
            return binaryCrossEntropy(output, Tensor(shape: shape, scalars: y.map { S($0) }), reduction: reduction)
        case let (.crossEntropy, .classIndices(_, indices)):
            // After a softmax layer the output is already probabilities: the lab's -log o_c.
            return layers.last == .activation(.softmax) ? nllLoss(log(output), classIndices: indices, reduction: reduction)
                                           : crossEntropy(output, classIndices: indices, reduction: reduction)
        case let (.crossEntropy, .values(shape, y)):
            let p = Tensor(shape: shape, scalars: y.map { S($0) })
            return layers.last == .activation(.softmax) ? (-(p * log(output)).sum(axis: -1)).lossReduced(reduction)
                                           : crossEntropy(output, probabilities: p, reduction: reduction)
        case (_, .classIndices):
            throw ExplainError("y", "class indices need the cross_entropy loss")
        }
    }

    private var lossFormula: String {
        let r = loss.reduction
        let points = isBatch ? inputShape[0] : 1
        let elements = outputShape.reduce(1, *)
        let elementwise = r == .sum ? "Σ" : "(1/\(elements)) Σ"
        switch loss.kind {
        case .mse: return "C = \(elementwise) (y~ - y)²"
        case .l2: return "C = \(r == .sum ? "½ Σ" : "(1/\(elements)) ½ Σ") (y~ - y)²"
        case .l1: return "C = \(elementwise) |y~ - y|"
        case .huber: return "C = \(elementwise) huber(y~ - y), huber(d) = ½ d² if |d| < 1, else |d| - ½"
        case .bce: return "C = \(elementwise) -[y log y~ + (1 - y) log(1 - y~)]"
        case .crossEntropy:
            let perPoint = r == .sum ? "Σ_n " : "(1/\(points)) Σ_n "
            let n = isBatch ? "_n" : ""
            let inner = layers.last == .activation(.softmax) ? "log y~\(n)" : "log softmax(y~\(n))"
            if case .classIndices = target { return "C = \(isBatch ? perPoint : "")-\(inner)[y\(n)]" }
            return "C = \(isBatch ? perPoint : "")-Σ_j y\(n)_j \(inner)_j"
        }
    }

    private var notes: [String] {
        var notes: [String] = []
        if isBatch && inputShape.count == 2 {
            notes.append("x is a batch of \(inputShape[0]) points (one per row); the gradients are of the whole batch's cost, and the Jacobians are per point: entry n is the Jacobian at point n (across points it is block diagonal).")
        } else if isBatch {
            notes.append("x is a batch of \(inputShape[0]) examples of shape \(exampleShape) (axis 0 is the batch); the gradients are of the whole batch's cost, and the Jacobians are per example, each a matrix [output elements, input elements] in row-major order.")
        } else if inputShape.count > 1 {
            notes.append("x is one example of shape \(inputShape); the conv, pooling and batch norm modules take batches, so it runs as a batch of one, shown here without that axis. Each Jacobian is a matrix [output elements, input elements], elements in row-major order.")
        }
        for (i, layer) in layers.enumerated() where ExplainProblem.batchNormFeatures(layer) != nil && !trainingLayers.contains(i)
            && !buffers.contains(where: { $0.name == "\(i).running_mean" || $0.name == "\(i).running_var" }) {
            notes.append("layers[\(i)] (\(layer.typeName)) runs in evaluation mode with running statistics that were not given: PyTorch's initial values, running_mean 0 and running_var 1.")
        }
        if isBatch && !trainingLayers.isEmpty {
            notes.append("batch norm in training mode normalises with the batch's statistics, so each example's output depends on every example: there are no per-example Jacobians through it, and dy~/dx is left out (the gradients above are exact, through the batch statistics).")
        }
        if loss.kind == .crossEntropy {
            notes.append(layers.last == .activation(.softmax)
                ? "cross_entropy after a softmax layer: y~ is already probabilities, so C uses log y~ directly (the lab's softmax + cross-entropy: dC/d(softmax input) = y~ - y)."
                : "cross_entropy from logits, as PyTorch's cross_entropy: y~ are logits and softmax is part of the cost.")
            if isBatch && loss.reduction == .mean {
                notes.append("mean reduction divides by the number of points N (PyTorch's convention), not by the number of classes.")
            }
        }
        return notes
    }
}

import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining

// Explaining a trained model: the problem's layers are the checkpoint's own
// description, its parameters the checkpoint's tensors (float32 values,
// widened exactly to float64), its input one example after the checkpoint's
// preprocessing, and its loss the training loss (mean over the one point).

extension ExplainLoss {
    /// The explain form of a training loss, with the mean reduction `train` uses.
    ///
    /// ```swift
    /// ExplainLoss(training: .crossEntropy)   // cross_entropy, mean
    /// ```
    public init(training loss: LossKind) {
        switch loss {
        case .crossEntropy: self.init(kind: .crossEntropy, reduction: .mean)
        case .mse: self.init(kind: .mse, reduction: .mean)
        case .l1: self.init(kind: .l1, reduction: .mean)
        case .huber: self.init(kind: .huber, reduction: .mean)
        }
    }
}

extension ExplainProblem {
    /// One forward and backward pass of a trained checkpoint on one input.
    ///
    /// `features` are one example's stored values (a CSV row, an image's pixels as in the file), or values
    /// a dataset loader already divided by `featureScale`; the checkpoint's preprocessing is applied here,
    /// as `predict` applies it, and the example is shaped as the model takes it (`[1, 28, 28]` for a CNN). `target` is the class index or the values the loss compares with;
    /// `nil` takes the model's own predicted class (for a classifier: the gradient that would reinforce
    /// its answer), and is an error for regression.
    ///
    /// ```swift
    /// let checkpoint = try Checkpoint.load(path: "digits.safetensors")
    /// let problem = try ExplainProblem(checkpoint: checkpoint, features: pixels, target: .classIndices(shape: [], indices: [3]))
    /// let report = try problem.explain()
    /// ```
    public init(checkpoint: Checkpoint, features: [Double], target: ExplainTarget? = nil, featureScale: Double? = nil) throws {
        let spec = checkpoint.spec
        guard let n = spec.inputFeatures, let inputShape = spec.resolvedInputShape, features.count == n else {
            throw ExplainError("input", "\(features.count) values, but the model takes \(spec.inputFeatures ?? 0) features"
                               + (spec.takesImages ? " (one example of shape \(spec.resolvedInputShape ?? []))" : ""))
        }
        if let k = features.firstIndex(where: { !$0.isFinite }) {
            throw ExplainError("input", "value \(k + 1) is \(features[k]), not a finite number")
        }
        let raw = Tensor<Float>(shape: [1, n], scalars: features.map { Float($0) })
        let modelInput = checkpoint.input(raw, featureScale: featureScale)
        let x = modelInput.scalars.map(Double.init)
        let parameters = checkpoint.model.namedParameters().map { p in
            (name: p.name, value: ExplainValue(shape: p.tensor.shape, scalars: p.tensor.scalars.map(Double.init)))
        }
        let loss = ExplainLoss(training: spec.loss)
        let outputs = spec.outputFeatures ?? 0
        let resolved: ExplainTarget
        if let target {
            switch target {
            case let .classIndices(_, indices):
                guard spec.loss.isClassification else {
                    throw ExplainError("target", "a class index needs a classifier; the model's loss is \(spec.loss.rawValue)")
                }
                guard indices.count == 1, (0..<outputs).contains(indices[0]) else {
                    throw ExplainError("target", "expected one class index in 0..<\(outputs), got \(indices)")
                }
            case let .values(shape, scalars):
                guard !spec.loss.isClassification || scalars.count == outputs else {
                    throw ExplainError("target", "expected a class index or \(outputs) probabilities, got \(scalars.count) values")
                }
                guard shape.reduce(1, *) == outputs, scalars.allSatisfy(\.isFinite) else {
                    throw ExplainError("target", "expected \(outputs) finite values, got shape \(shape)")
                }
            }
            resolved = target
        } else {
            guard spec.loss.isClassification else {
                throw ExplainError("target", "a regression model needs target values to compare with")
            }
            let logits = noGrad { checkpoint.model(modelInput) }
            resolved = .classIndices(shape: [], indices: [Trainer.predictedClasses(logits)[0]])
        }
        // A batch norm's running statistics are the checkpoint's (it is explained in evaluation mode, as `predict` runs it).
        let buffers = checkpoint.model.namedBuffers().filter { !$0.name.hasSuffix("num_batches_tracked") }.map { b in
            (name: b.name, value: ExplainValue(shape: b.buffer.value.shape, scalars: b.buffer.value.scalars.map(Double.init)))
        }
        try self.init(layers: spec.layers, parameters: parameters, buffers: buffers, loss: loss,
                      input: ExplainValue(shape: inputShape, scalars: x), target: resolved)
    }
}

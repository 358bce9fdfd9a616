import BackpropCore
import BackpropNN
import BackpropData
/// Scoring a checkpoint on a dataset and predicting with it, as library calls
/// that return text (what `backprop eval` and `backprop predict` print).
public enum Inference {
    /// Which part of a dataset `eval` scores.
    public enum Split: String, Sendable, CaseIterable {
        /// The validation split made in training (same seed and fraction,
        /// read from the checkpoint), when the dataset is the one trained on;
        /// otherwise everything.
        case auto
        /// The validation split made in training.
        case validation
        /// The training split: the examples not held out for validation.
        case train
        /// Every example of the dataset.
        case all
    }

    /// Loss, accuracy and a confusion matrix of a checkpoint on a dataset (`nil`: the one it was trained on).
    ///
    /// ```swift
    /// print(try Inference.evaluate(checkpoint: "digits.safetensors", dataset: .digits))
    /// ```
    ///
    /// Asking for the training or validation split of another dataset than
    /// the one trained on is a ``ValueError`` with the field ``ValueError/Field/split``.
    public static func evaluate(checkpoint path: String, dataset: DatasetSpec? = nil, target: String? = nil,
                                split: Split = .auto, batchSize: Int = 512) throws -> String {
        let checkpoint = try Checkpoint.load(path: path)
        let (part, spec, label) = try examples(for: checkpoint, path: path, dataset: dataset, target: target, split: split)
        guard part.count > 0 else { throw DataError(path: path, "nothing to evaluate: \(spec) gives \(label)") }
        let x = checkpoint.input(part.features, featureScale: part.featureScale)
        let e = Trainer.evaluate(model: checkpoint.model, loss: checkpoint.spec.loss, data: part.withFeatures(x), batchSize: batchSize)
        var lines = ["checkpoint \(path): \(checkpoint.spec.pytorchCode)",
                     "dataset \(spec): \(label)",
                     "\(checkpoint.spec.loss.rawValue) loss \(TrainingText.fixed(e.loss, 4))"]
        if let a = e.accuracy {
            lines.append("accuracy \(TrainingText.fixed(a * 100, 2))% (\(Int((a * Double(e.count)).rounded()))/\(e.count))")
        }
        if let c = e.confusion {
            lines.append(TrainingText.confusionMatrix(c, classNames: checkpoint.preprocessing.classNames ?? part.classNames))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The examples a checkpoint is evaluated on, with the checkpoint's dataset options (seed, samples,
    /// CSV target) and, by default, the validation split made in training when `dataset` is the one it
    /// was trained on. `dataset` `nil` uses the dataset recorded in the checkpoint. Features are raw:
    /// apply `checkpoint.preprocessing` before the model.
    ///
    /// ```swift
    /// let checkpoint = try Checkpoint.load(path: "digits.safetensors")
    /// let (data, _, label) = try Inference.examples(for: checkpoint, path: "digits.safetensors")
    /// ```
    public static func examples(for checkpoint: Checkpoint, path: String, dataset: DatasetSpec? = nil, target: String? = nil,
                                split: Split = .auto) throws -> (data: TensorDataset<Float>, dataset: DatasetSpec, label: String) {
        try examples(for: checkpoint, path: path, dataset: dataset, target: target, split: split, maximumSamples: nil)
    }

    /// ``examples(for:path:dataset:target:split:)`` refusing a recorded sample count above `maximumSamples`
    /// (the fuzz target's small cap; `nil`: what fits in memory).
    static func examples(for checkpoint: Checkpoint, path: String, dataset: DatasetSpec?, target: String?,
                         split: Split, maximumSamples: Int?) throws -> (data: TensorDataset<Float>, dataset: DatasetSpec, label: String) {
        let info = checkpoint.training
        let recorded = try RecordedTraining(info, path: path, maximumSamples: maximumSamples)
        let spec: DatasetSpec
        if let dataset {
            spec = dataset
        } else {
            guard let recorded = info?["dataset"]?.stringValue else {
                throw DataError(path: path, "the checkpoint records no dataset; name one")
            }
            spec = try DatasetSpec(parsing: recorded)
        }
        let trainedOn = info?["dataset"]?.stringValue
        var options = DatasetOptions(samples: recorded.samples, seed: recorded.seed)
        options.target = (target ?? info?["target"]?.stringValue).map { CSVColumn($0) }
        if case .csv = spec, let names = checkpoint.preprocessing.featureNames, options.target != nil {
            // Use the columns the model was trained on, when the file names them.
            options.features = names.map { .name($0) }
            if names.contains(where: { $0.hasPrefix("column ") }) { options.features = nil }
        }
        let data = try spec.load(.evaluation, options: options)
        var part = data
        var label = "all \(data.count) examples"
        let fraction = recorded.validationSplit
        let sameData = trainedOn == spec.description && !spec.isSynthetic && {
            if case .mnist = spec { return false }; return true }()
        let resolved: Split = split == .auto ? (sameData && fraction > 0 ? .validation : .all) : split
        if resolved == .validation || resolved == .train {
            guard sameData else {
                // Synthetic data and MNIST have no split to repeat: say what is evaluated instead.
                let instead: String? = {
                    if case .mnist = spec { return "\(spec) is evaluated on its test files (t10k), never on the training files" }
                    if spec.isSynthetic { return "\(spec) is evaluated on a fresh sample (another seed), not on the examples trained on" }
                    return nil
                }()
                if let instead {
                    throw ValueError(.split, "the \(resolved.rawValue) split applies only to digits and csv:FILE datasets; \(instead)")
                }
                throw ValueError(.split, "the \(resolved.rawValue) split needs the dataset the checkpoint \(path) was trained on (\(trainedOn ?? "unknown")), not \(spec)")
            }
            let (train, validation) = data.trainValidationSplit(validationFraction: fraction, seed: options.seed)
            part = resolved == .validation ? validation : train
            label = "the \(resolved == .validation ? "validation" : "training") split made in training: \(part.count) examples"
        }
        try checkFeatures(part.featureSize, checkpoint, path: path, dataset: spec.description)
        if checkpoint.spec.loss.isClassification != part.isClassification {
            throw DataError(path: path, "the model's loss \(checkpoint.spec.loss.rawValue) does not fit \(spec), a \(part.isClassification ? "classification" : "regression") task")
        }
        if part.isClassification, (part.classCount ?? 0) > checkpoint.spec.outputFeatures ?? 0 {
            throw DataError(path: path, "the model has \(checkpoint.spec.outputFeatures ?? 0) outputs but \(spec) has \(part.classCount!) classes")
        }
        return (part, spec, label)
    }

    static func checkFeatures(_ count: Int, _ checkpoint: Checkpoint, path: String, dataset: String) throws {
        guard count == checkpoint.spec.inputFeatures else {
            throw DataError(path: path, "the model takes \(checkpoint.spec.inputFeatures ?? 0) features"
                            + (checkpoint.spec.takesImages ? " (input_shape \(checkpoint.spec.resolvedInputShape ?? []))" : "")
                            + " but \(dataset) has \(count)")
        }
    }

    /// Predictions as CSV: a header `prediction,p_<class>...` (classification)
    /// or `prediction` / `prediction_<k>` (regression), then one row per input. `features` are stored
    /// values, or values a dataset loader already divided by `featureScale` (see ``Checkpoint/input(_:featureScale:)``).
    public static func predictionsCSV(_ checkpoint: Checkpoint, features: Tensor<Float>, featureScale: Double? = nil) -> String {
        let x = checkpoint.input(features, featureScale: featureScale)
        let y = noGrad { checkpoint.model(x) }
        let n = y.shape[0], k = y.shape[1]
        var lines: [String] = []
        if checkpoint.spec.loss.isClassification {
            let names = checkpoint.preprocessing.classNames ?? (0..<k).map(String.init)
            lines.append((["prediction"] + (0..<k).map { "p_" + (($0 < names.count) ? names[$0] : String($0)) }).joined(separator: ","))
            let p = softmax(y, axis: -1)
            let classes = Trainer.predictedClasses(y)
            for i in 0..<n {
                let name = classes[i] < names.count ? names[classes[i]] : String(classes[i])
                lines.append(([csvField(name)] + (0..<k).map { TrainingText.fixed(Double(p[element: i, $0]), 6) }).joined(separator: ","))
            }
        } else {
            lines.append(k == 1 ? "prediction" : (0..<k).map { "prediction_\($0)" }.joined(separator: ","))
            for i in 0..<n { lines.append((0..<k).map { "\(y[element: i, $0])" }.joined(separator: ",")) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Predictions for one input given as `1,2,3`. A value that is not a
    /// number, or the wrong number of values, is a ``ValueError`` with the
    /// field ``ValueError/Field/input``.
    ///
    /// ```swift
    /// print(try Inference.predict(checkpoint: "moons.safetensors", input: "0.5,-0.2"))
    /// ```
    public static func predict(checkpoint path: String, input: String) throws -> String {
        let checkpoint = try Checkpoint.load(path: path)
        var values: [Float] = []
        for (i, item) in input.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            guard let v = parseNumber(String(item)) else {
                throw ValueError(.input, "input \(input): value \(i + 1) '\(item)' is not a number")
            }
            values.append(Float(v))
        }
        guard values.count == checkpoint.spec.inputFeatures else {
            throw ValueError(.input, "input \(DataError.excerpt(input)): \(values.count) values, but the model in \(path) takes \(checkpoint.spec.inputFeatures ?? 0) features")
        }
        return predictionsCSV(checkpoint, features: Tensor(shape: [1, values.count], scalars: values))
    }

    /// Predictions for every row of a CSV file. Columns are chosen by the
    /// feature names stored in the checkpoint when the file has a header with
    /// them; otherwise the file must have exactly the model's number of
    /// columns (or one more: the training target, named in the checkpoint).
    public static func predict(checkpoint path: String, csv csvPath: String) throws -> String {
        let checkpoint = try Checkpoint.load(path: path)
        let table = try CSVTable(path: csvPath)
        let inputs = checkpoint.spec.inputFeatures ?? 0
        var columns: [Int]
        if let header = table.header, let names = checkpoint.preprocessing.featureNames,
           names.allSatisfy({ header.contains($0) }) {
            columns = names.map { header.firstIndex(of: $0)! }
        } else if table.columnCount == inputs {
            columns = Array(0..<inputs)
        } else if table.columnCount == inputs + 1, let t = checkpoint.training?["target"]?.stringValue,
                  let targetIndex = try? table.columnIndex(CSVColumn(t)) {
            columns = (0..<table.columnCount).filter { $0 != targetIndex }
        } else {
            throw DataError(path: csvPath, "has \(table.columnCount) columns; the model in \(path) takes \(inputs) features"
                            + (checkpoint.preprocessing.featureNames.map { " (\($0.joined(separator: ", ")))" } ?? ""))
        }
        let x = try table.numbers(columns: columns)
        return predictionsCSV(checkpoint, features: Tensor(shape: [table.rows.count, columns.count], scalars: x.map { Float($0) }))
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break (a class name may).
    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
    }
}

extension ValueError.Field {
    /// The input values of ``Inference/predict(checkpoint:input:)``.
    public static let input = ValueError.Field("input")
    /// The split of ``Inference/evaluate(checkpoint:dataset:target:split:batchSize:)``.
    public static let split = ValueError.Field("split")
}

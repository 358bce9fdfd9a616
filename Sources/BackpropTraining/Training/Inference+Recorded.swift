import BackpropCore
import BackpropNN
import BackpropData

extension Inference {
    /// Predictions (as ``predictionsCSV(_:features:featureScale:)``) for the examples ``evaluate(checkpoint:dataset:target:split:batchSize:)``
    /// would score: by default the validation split of the dataset recorded in the checkpoint, with its recorded
    /// target column, seed and sample count.
    ///
    /// ```swift
    /// print(try Inference.predictRecorded(checkpoint: "moons.safetensors"))   // prediction,p_0,p_1 ...
    /// ```
    public static func predictRecorded(checkpoint path: String, split: Split = .auto) throws -> String {
        let checkpoint = try Checkpoint.load(path: path)
        let (part, spec, label) = try examples(for: checkpoint, path: path, split: split)
        guard part.count > 0 else { throw DataError(path: path, "nothing to predict: \(spec) gives \(label)") }
        return predictionsCSV(checkpoint, features: part.features, featureScale: part.featureScale)
    }
}

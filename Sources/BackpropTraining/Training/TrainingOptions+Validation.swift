import BackpropCore
import BackpropNN
import BackpropData

extension ValueError.Field {
    /// ``TrainingOptions/learningRate``, and every other optimizer learning rate given from outside.
    public static let learningRate = ValueError.Field("learning rate")
    /// ``TrainingOptions/batchSize``.
    public static let batchSize = ValueError.Field("batch size")
    /// ``TrainingOptions/epochs``.
    public static let epochs = ValueError.Field("epochs")
    /// ``TrainingOptions/validationSplit``.
    public static let validationSplit = ValueError.Field("validation split")
    /// ``TrainingOptions/momentum``.
    public static let momentum = ValueError.Field("momentum")
    /// ``TrainingOptions/weightDecay``.
    public static let weightDecay = ValueError.Field("weight decay")
    /// ``TrainingOptions/samples``.
    public static let samples = ValueError.Field("samples")
    /// ``TrainingOptions/noise``.
    public static let noise = ValueError.Field("noise")
    /// ``TrainingOptions/layers``: the widths from input to output.
    public static let layers = ValueError.Field("layers")
    /// ``TrainingOptions/hidden``: the hidden widths.
    public static let hidden = ValueError.Field("hidden widths")
    /// ``TrainingOptions/dropout``.
    public static let dropout = ValueError.Field("dropout")
    /// ``TrainingOptions/loss``.
    public static let loss = ValueError.Field("loss")
    /// The target column of a CSV dataset (``TrainingOptions/target``, ``DatasetOptions/target``).
    public static let target = ValueError.Field("target column")
}

extension TrainingOptions {
    /// Checks every option that can be checked without loading the data;
    /// ``TrainingSession/run(_:output:shouldStop:)`` calls it first. Throws a
    /// ``ValueError`` whose field names the option and whose message names
    /// the value: `learning rate must be positive, got -1`.
    ///
    /// ```swift
    /// var options = TrainingOptions()
    /// options.batchSize = 0
    /// try options.validate()   // throws: batch size must be positive, got 0 (field .batchSize)
    /// ```
    public func validate() throws {
        guard batchSize > 0 else { throw ValueError(.batchSize, "batch size must be positive, got \(batchSize)") }
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw ValueError(.validationSplit, "validation split must be in [0, 1), got \(validationSplit)")
        }
        guard learningRate > 0 && learningRate.isFinite else {
            throw ValueError(.learningRate, "learning rate must be positive, got \(learningRate)")
        }
        guard momentum >= 0 && momentum.isFinite else { throw ValueError(.momentum, "momentum must be 0 or more, got \(momentum)") }
        if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) {
            throw ValueError(.weightDecay, "weight decay must be 0 or more, got \(weightDecay)")
        }
        if let epochs, epochs < 1 { throw ValueError(.epochs, "epochs must be at least 1, got \(epochs)") }
        guard samples > 0 else { throw ValueError(.samples, "the number of samples must be positive, got \(samples)") }
        if let problem = DatasetOptions.samplesRefusal(samples) {
            throw ValueError(.samples, "\(samples) samples \(problem)")
        }
        if let noise, !(noise >= 0 && noise.isFinite) { throw ValueError(.noise, "noise must be 0 or more, got \(noise)") }
        if let layers {
            guard layers.count >= 2 else {
                throw ValueError(.layers, "layers \(layers): need at least an input and an output width")
            }
            if let bad = layers.first(where: { $0 <= 0 }) {
                throw ValueError(.layers, "layers \(layers): width \(bad) is not positive")
            }
        }
        if let hidden, let bad = hidden.first(where: { $0 <= 0 }) {
            throw ValueError(.hidden, "hidden widths \(hidden): width \(bad) is not positive")
        }
        guard dropout >= 0 && dropout < 1 else { throw ValueError(.dropout, "dropout must be in [0, 1), got \(dropout)") }
        if target != nil, !{ if case .csv = dataset { return true }; return false }() {
            throw ValueError(.target, "a target column applies only to csv:FILE datasets, not \(dataset)")
        }
    }
}

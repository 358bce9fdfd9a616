import BackpropCore
import BackpropNN
import BackpropData

/// A learning-rate schedule for ``TrainingOptions/schedule``, stepped once per epoch.
///
/// ```swift
/// try ScheduleKind(parsing: "step:10:0.5")   // .step(epochs: 10, gamma: 0.5): StepLR
/// try ScheduleKind(parsing: "cosine")        // CosineAnnealingLR over all the epochs, down to 0
/// ```
public enum ScheduleKind: Sendable, Equatable, CustomStringConvertible {
    /// ``StepLR``: multiply the rate by `gamma` every `epochs` epochs.
    case step(epochs: Int, gamma: Double)
    /// ``CosineAnnealingLR`` from the initial rate down to 0 over the run's epochs.
    case cosine

    /// The forms ``init(parsing:)`` reads.
    public static let forms = ["step:EPOCHS:GAMMA", "cosine"]

    /// Reads `step:EPOCHS:GAMMA` (EPOCHS a positive whole number, GAMMA a positive finite number) or `cosine`.
    public init(parsing text: String) throws {
        if text == "cosine" { self = .cosine; return }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "step" else {
            throw ValueError(.schedule, "schedule '\(text)': use step:EPOCHS:GAMMA (e.g. step:10:0.5) or cosine")
        }
        guard let n = Int(parts[1]), n > 0 else {
            throw ValueError(.schedule, "schedule '\(text)': EPOCHS '\(parts[1])' is not a positive whole number")
        }
        guard let g = Double(parts[2]), g.isFinite, g > 0 else {
            throw ValueError(.schedule, "schedule '\(text)': GAMMA '\(parts[2])' is not a positive number")
        }
        self = .step(epochs: n, gamma: g)
    }

    /// `step:10:0.5` or `cosine`, the form ``init(parsing:)`` reads.
    public var description: String {
        switch self {
        case let .step(epochs, gamma): return "step:\(epochs):\(gamma)"
        case .cosine: return "cosine"
        }
    }

    /// The schedule over `optimizer` for a run of `epochs` epochs.
    public func make(optimizer: any Optimizer, epochs: Int) -> any LearningRateSchedule {
        switch self {
        case let .step(n, gamma): return StepLR(optimizer: optimizer, stepSize: n, gamma: gamma)
        case .cosine: return CosineAnnealingLR(optimizer: optimizer, tMax: max(epochs, 1))
        }
    }
}

extension ValueError.Field {
    /// ``TrainingOptions/threads``.
    public static let threads = ValueError.Field("thread count")
    /// ``TrainingOptions/maxGradNorm``.
    public static let maxGradNorm = ValueError.Field("gradient norm limit")
    /// ``TrainingOptions/earlyStoppingPatience``.
    public static let earlyStoppingPatience = ValueError.Field("early-stopping patience")
    /// ``TrainingOptions/schedule`` in its text form (``ScheduleKind/init(parsing:)``).
    public static let schedule = ValueError.Field("schedule")
}

extension TrainingOptions {
    /// Checks the options of long runs (threads, clipping, early stopping), as ``validate()`` checks the others.
    ///
    /// ```swift
    /// var options = TrainingOptions()
    /// options.threads = 0
    /// try options.validateLongRun()   // throws: thread count must be at least 1, got 0 (field .threads)
    /// ```
    public func validateLongRun() throws {
        if let threads, threads < 1 { throw ValueError(.threads, "thread count must be at least 1, got \(threads)") }
        if let n = maxGradNorm, !(n > 0 && n.isFinite) {
            throw ValueError(.maxGradNorm, "the gradient norm limit must be a positive number, got \(n)")
        }
        if let n = earlyStoppingPatience, n < 1 {
            throw ValueError(.earlyStoppingPatience, "early-stopping patience must be at least 1 epoch, got \(n)")
        }
    }

    /// The options that decide the numbers of a run, as stored in a checkpoint's `training.options`.
    /// (The architecture is stored apart, as `architecture`.)
    var recordJSON: JSON {
        var m: [(String, JSON)] = [
            ("dataset", .string("\(dataset)")), ("task", .string(task.rawValue)), ("samples", .number(Double(samples))),
            ("optimizer", .string(optimizer.rawValue)), ("lr", .number(learningRate)), ("momentum", .number(momentum)),
            ("batch_size", .number(Double(batchSize))),
            ("seed", .string(String(seed))), ("validation_split", .number(validationSplit)),
        ]
        if let weightDecay = Self.number(weightDecay) { m.append(("weight_decay", weightDecay)) }
        if let target { m.append(("target", .string(target))) }
        if let features { m.append(("features", .array(features.map { .string($0) }))) }
        if let noise { m.append(("noise", .number(noise))) }
        if let epochs { m.append(("epochs", .number(Double(epochs)))) }
        if let standardize { m.append(("standardize", .bool(standardize))) }
        if let schedule { m.append(("schedule", .string(schedule.description))) }
        if let maxGradNorm { m.append(("clip_grad_norm", .number(maxGradNorm))) }
        if let earlyStoppingPatience { m.append(("early_stopping", .number(Double(earlyStoppingPatience)))) }
        return .object(m)
    }

    /// These options with those recorded in a checkpoint (`json`, from ``recordJSON``), for resuming: the
    /// recorded ones decide the data, the optimizer and the schedule; `epochs` (the total), the output
    /// paths, the progress style and the thread count stay as given here.
    func resuming(_ json: JSON, source: String) throws -> TrainingOptions {
        func value<T>(_ key: String, _ read: (JSON) -> T?) throws -> T? {
            guard let v = json[key] else { return nil }
            guard let t = read(v) else { throw DataError(path: source, "options.\(key): unexpected \(v.kindName)") }
            return t
        }
        var o = self
        guard let dataset = try value("dataset", \.stringValue) else { throw DataError(path: source, "options.dataset is missing") }
        o.dataset = try Self.dataset(dataset)
        o.target = try value("target", \.stringValue)
        o.features = try value("features") { $0.arrayValue?.compactMap(\.stringValue) }
        o.task = try value("task") { $0.stringValue.flatMap(CSVTask.init(rawValue:)) } ?? .automatic
        o.samples = try value("samples", \.intValue) ?? samples
        o.noise = try value("noise", \.numberValue)
        guard let opt = try value("optimizer", { $0.stringValue.flatMap { OptimizerKind(rawValue: $0) } }) else {
            throw DataError(path: source, "options.optimizer is missing")
        }
        o.optimizer = opt
        o.learningRate = try value("lr", \.numberValue) ?? learningRate
        o.momentum = try value("momentum", \.numberValue) ?? momentum
        o.weightDecay = try value("weight_decay", \.numberValue) ?? weightDecay
        o.batchSize = try value("batch_size", \.intValue) ?? batchSize
        o.seed = try value("seed") { $0.stringValue.flatMap { UInt64($0) } } ?? seed
        o.validationSplit = try value("validation_split", \.numberValue) ?? validationSplit
        o.standardize = try value("standardize", \.boolValue)
        o.schedule = try value("schedule", \.stringValue).map { try ScheduleKind(parsing: $0) }
        o.maxGradNorm = try value("clip_grad_norm", \.numberValue)
        o.earlyStoppingPatience = try value("early_stopping", \.intValue)
        // Older checkpoints recorded the epochs only when given; the dataset's default was the total then.
        let recordedEpochs = try value("epochs", \.intValue) ?? TrainingSession.defaults(o.dataset).epochs
        // A cosine schedule anneals over the run's total (its T_max): a resumed run with another total would
        // follow a different curve from the epochs already done and equal no uninterrupted run.
        if o.schedule == .cosine, let total = epochs, total != recordedEpochs {
            throw ValueError(.epochs, "the run's cosine schedule anneals over its \(recordedEpochs) epochs; "
                             + "resume it with \(recordedEpochs) epochs (or none) to finish it, or start a new run of \(total) epochs")
        }
        o.epochs = epochs ?? recordedEpochs
        return o
    }
}

extension TrainingOptions {
    // `dataset` as the options hold it (text, or a parsed ``DatasetSpec``).
    static func dataset(_ text: String) throws -> String { text }
    static func dataset(_ text: String) throws -> DatasetSpec { try DatasetSpec(parsing: text) }
    // An option that may be unset.
    static func number(_ x: Double) -> JSON? { .number(x) }
    static func number(_ x: Double?) -> JSON? { x.map { .number($0) } }
}

extension TrainingSession {
    /// `digits.safetensors` -> `digits.best.safetensors`: where the best checkpoint by validation loss goes.
    ///
    /// ```swift
    /// TrainingSession.bestCheckpointPath(for: "runs/digits.safetensors")   // "runs/digits.best.safetensors"
    /// ```
    public static func bestCheckpointPath(for path: String) -> String {
        let suffix = ".safetensors"
        return path.hasSuffix(suffix) ? String(path.dropLast(suffix.count)) + ".best" + suffix : path + ".best"
    }

    /// The position, early-stopping state and options stored in a checkpoint's `training` metadata.
    static func resumeState(_ training: JSON?, path: String) throws -> (position: TrainingPosition, early: JSON?, options: JSON) {
        guard let training, let options = training["options"], let p = training["position"],
              let epoch = p["epoch"]?.intValue, let batch = p["batch"]?.intValue, let step = p["step"]?.intValue,
              epoch >= 0, batch >= 0, step >= 0 else {
            throw DataError(path: path, "no training position and options in __metadata__.training: this checkpoint cannot be resumed")
        }
        return (TrainingPosition(epoch: epoch, batch: batch, step: step), training["early_stopping"], options)
    }

    /// `true` when every parameter of `model` is finite.
    static func isFinite(_ model: any Module<Float>) -> Bool {
        model.parameters().allSatisfy { p in p.withUnsafeBufferPointer { !$0.contains { !$0.isFinite } } }
    }

    /// The `position` and `early_stopping` entries of the `training` metadata.
    static func stateJSON(_ trainer: Trainer) -> [(String, JSON)] {
        let p = trainer.position
        var m: [(String, JSON)] = [("position", .object([("epoch", .number(Double(p.epoch))), ("batch", .number(Double(p.batch))),
                                                         ("step", .number(Double(p.step)))]))]
        if let e = trainer.earlyStopping {
            var members: [(String, JSON)] = [("epochs_without_improvement", .number(Double(e.epochsWithoutImprovement)))]
            if let l = e.bestLoss, let b = e.bestEpoch {
                members += [("best_validation_loss", .string(String(l.bitPattern))), ("best_epoch", .number(Double(b)))]
            }
            m.append(("early_stopping", .object(members)))
        }
        return m
    }

    /// Restores early stopping from ``stateJSON(_:)``'s entry (the loss is stored bit for bit).
    static func restore(_ early: inout EarlyStopping, from json: JSON?) {
        guard let json else { return }
        early.epochsWithoutImprovement = json["epochs_without_improvement"]?.intValue ?? 0
        if let bits = json["best_validation_loss"]?.stringValue.flatMap({ UInt64($0) }), let epoch = json["best_epoch"]?.intValue {
            early.bestLoss = Double(bitPattern: bits)
            early.bestEpoch = epoch
        }
    }
}

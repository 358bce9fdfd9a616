import BackpropCore
import BackpropNN
import BackpropData
/// Everything `backprop train` does, as a library call: load the data,
/// split and standardise it, build the model (from flags or a spec), train
/// with progress, write the plot and the checkpoint, and summarise.
///
/// ```swift
/// var options = TrainingOptions()          // digits, defaults of `backprop train`
/// options.epochs = 5
/// let result = try TrainingSession.run(options) { print($0, terminator: "") }
/// result.final?.validationAccuracy         // e.g. 0.96
/// ```
public struct TrainingOptions: Sendable {
    /// The dataset to train on (``DatasetSpec/init(parsing:)`` reads the text forms `digits`, `spirals:4`, `csv:FILE`).
    public var dataset: DatasetSpec = .digits
    /// The target column of a `csv:FILE` dataset (a header name or a 0-based index); an error for other datasets.
    public var target: String?
    /// The feature columns of a `csv:FILE` dataset; `nil` uses every column but the target.
    public var features: [String]?
    /// Whether a CSV target is classes or regression values.
    public var task: CSVTask = .automatic
    /// Number of examples generated for a synthetic dataset (spirals, moons, sine, blobs).
    public var samples = 1000
    /// Noise level of a synthetic dataset; `nil` uses that dataset's default.
    public var noise: Double?
    /// Widths from input to output; `nil` uses ``hidden`` between the data's sizes.
    public var layers: [Int]?
    /// Hidden widths when `layers` is `nil`; `nil` picks per dataset.
    public var hidden: [Int]?
    /// The hidden activation.
    public var activation: Activation = .relu()
    /// Dropout probability after each hidden activation; 0 for none.
    public var dropout = 0.0
    /// `nil` picks cross_entropy for classes and mse for regression.
    public var loss: LossKind?
    /// A JSON ``ModelSpec`` file; overrides layers/activation/dropout/loss. Its `"training"` recipe is not
    /// applied here: apply ``ModelSpec/training`` to the options first (``TrainingRecipe/apply(to:)``), as
    /// `backprop train` does before its flags.
    public var modelPath: String?
    /// The optimizer to train with.
    public var optimizer: OptimizerKind = .adam
    /// The optimizer's learning rate; must be positive. Defaults to ``OptimizerKind/defaultLearningRate``.
    public var learningRate = OptimizerKind.defaultLearningRate
    /// Momentum for SGD and RMSprop (ignored by Adam and AdamW).
    public var momentum = 0.9
    /// Weight decay passed to the optimizer (L2 for SGD, Adam and RMSprop, decoupled for AdamW);
    /// `nil` for the optimizer's PyTorch default, ``OptimizerKind/defaultWeightDecay`` (0.01 for AdamW, else 0).
    public var weightDecay: Double?
    /// `nil` picks per dataset.
    public var epochs: Int?
    /// Examples per mini-batch; must be positive.
    public var batchSize = 64
    /// Seed for data generation, the validation split, shuffling and weight initialisation.
    public var seed: UInt64 = 1
    /// Fraction of the data held out for validation, in [0, 1).
    public var validationSplit = 0.2
    /// `nil`: standardise every dataset but MNIST.
    public var standardize: Bool?
    /// Where to write the trained model's checkpoint; `nil` for none.
    public var checkpointPath: String?
    /// How progress is shown.
    public var progress: ProgressStyle = .lines
    /// A learning-rate schedule stepped after each epoch; `nil` keeps the rate.
    public var schedule: ScheduleKind?
    /// Clip the gradients' global 2-norm to this before each step; `nil` for none.
    public var maxGradNorm: Double?
    /// Stop after this many epochs without a lower validation loss, and keep the best
    /// checkpoint beside the last one (``TrainingSession/bestCheckpointPath(for:)``); `nil` for none.
    public var earlyStoppingPatience: Int?
    /// Threads for the large kernels during the run (``Parallelism/threadCount``); `nil` keeps the current setting.
    public var threads: Int?
    /// A checkpoint written by a run with these options to continue from: its model, optimizer state,
    /// position and recorded options are used; `epochs` is the total, counting the epochs already done.
    public var resumePath: String?
    /// Seconds between two writes of the checkpoint during training (it is also written at the end, and
    /// when the loss stops being finite); 0 writes it after every epoch.
    public var checkpointInterval = 60.0
    /// The width of the terminal the progress bar is drawn on, in columns; the bar's line stays shorter.
    public var terminalColumns = 80

    /// Options with the defaults of `backprop train` (digits, Adam, lr 1e-3, batch 64).
    ///
    /// ```swift
    /// var options = TrainingOptions()
    /// options.dataset = .moons
    /// options.hidden = [16, 16]
    /// ```
    public init() {}

    /// How ``TrainingSession/run(_:output:shouldStop:)`` reports progress while it trains.
    public enum ProgressStyle: String, Sendable, CaseIterable {
        /// A bar redrawn with `\r`, for a terminal.
        case bar
        /// One line per epoch.
        case lines
        /// Only the summary.
        case none
    }
}

/// The outcome of a training run.
public struct TrainingResult {
    /// The per-epoch scores and timing of the run.
    public var history: TrainingHistory
    /// The architecture that was trained.
    public var spec: ModelSpec
    /// The trained model, in evaluation mode.
    public var model: Sequential<Float>
    /// The scores of the last epoch, or `nil` if no epoch ran.
    public var final: EpochRecord? { history.epochs.last }
    /// Number of training examples after the validation split.
    public var trainCount: Int
    /// Number of validation examples.
    public var validationCount: Int
    /// The dataset trained on.
    public var dataset: DatasetSpec
    /// The training and validation splits as loaded, before standardisation.
    public var rawTrain: TensorDataset<Float>
    /// See ``rawTrain``.
    public var rawValidation: TensorDataset<Float>
    /// The feature standardisation the model expects, if any.
    public var standardizer: Standardizer?
    /// The trained model's scores on the training and validation splits (confusion matrices included).
    public var trainEvaluation: Evaluation
    /// See ``trainEvaluation``; `nil` without validation data.
    public var validationEvaluation: Evaluation?
    /// The optimizer's learning rate at the end (after the schedule's steps).
    public var learningRate: Double = 0
    /// Where training stopped: epochs, batches and steps done, counting those before a resume.
    public var position = TrainingPosition()
}

/// The library side of `backprop train`: see ``run(_:output:shouldStop:)``.
///
/// ```swift
/// var options = TrainingOptions()
/// options.dataset = .spirals(classes: 3)
/// let result = try TrainingSession.run(options) { print($0, terminator: "") }
/// ```
public enum TrainingSession {
    /// Default hidden widths and epochs per dataset, chosen so that each task
    /// trains to a good score in seconds (digits: >= 95% validation accuracy).
    static func defaults(_ spec: DatasetSpec) -> (hidden: [Int], epochs: Int) {
        switch spec {
        case .digits: return ([256], 40)
        case .mnist: return ([256], 5)
        case .csv: return ([64], 50)
        case .spirals: return ([64, 64], 200)
        case .moons, .blobs: return ([32, 32], 100)
        case .sine: return ([64, 64], 300)
        }
    }

    /// Runs training; `output` receives text with its own line endings
    /// (`\r` redraws on a terminal). `shouldStop` is checked after every
    /// batch; when it returns `true` the run stops there and still saves.
    ///
    /// With a `group` of several processes (``ProcessGroup/world`` under
    /// `mpirun`), every rank trains one share of each batch (see
    /// ``Trainer/processGroup``); the ranks first check that their library
    /// version, options, model and data agree; only rank 0 calls `output` and
    /// writes the checkpoint, and only rank 0 reads `resumePath` (the other
    /// ranks receive its bytes, so they need no copy of the file).
    @discardableResult
    public static func run(_ options: TrainingOptions, output rankOutput: (String) -> Void,
                           shouldStop: () -> Bool = { false }, in group: ProcessGroup = .single) throws -> TrainingResult {
        func output(_ text: String) { if group.rank == 0 { rankOutput(text) } }
        var o = options
        var resumed: (checkpoint: Checkpoint, position: TrainingPosition, early: JSON?)?
        var resumedHash: UInt64?
        if let path = options.resumePath {
            // In a distributed run rank 0 reads the file and sends its bytes: only rank 0 needs it.
            let bytes = try resumeBytes(path: path, in: group)
            let checkpoint = try Checkpoint.load(bytes: bytes, path: path)
            resumedHash = bytes.withUnsafeBytes { ProcessGroup.stableHash(bytes: $0) }
            let state = try resumeState(checkpoint.training, path: path)
            o = try options.resuming(state.options, source: path + " __metadata__.training")
            o.checkpointPath = options.checkpointPath ?? path
            resumed = (checkpoint, state.position, state.early)
        }
        try o.validateLongRun()
        try o.validate()
        let dataSpec = o.dataset
        let defaults = defaults(dataSpec)
        let epochs = o.epochs ?? defaults.epochs
        o.epochs = epochs   // recorded in the checkpoint: a cosine schedule's T_max, kept when resuming

        let data = try dataSpec.load(.training, options: datasetOptions(o))
        let (trainRaw, validationRaw) = data.trainValidationSplit(validationFraction: o.validationSplit, seed: o.seed)
        guard trainRaw.count > 0 else {
            throw ValueError(.validationSplit, "no training examples in \(dataSpec) after a validation split of \(o.validationSplit)")
        }
        // Standardising helps every dataset here but MNIST, whose many all-zero border pixels gain nothing from it.
        let standardize = o.standardize ?? { if case .mnist = dataSpec { return false }; return true }()
        let standardizer = standardize ? Standardizer(fitting: trainRaw.features) : nil
        var train = standardizer.map { trainRaw.withFeatures($0.apply(trainRaw.features)) } ?? trainRaw
        var validation = standardizer.map { validationRaw.withFeatures($0.apply(validationRaw.features)) } ?? validationRaw

        let outputSize = data.classCount ?? data.targetSize
        var spec: ModelSpec
        if let resumed {
            spec = resumed.checkpoint.spec
        } else if let modelPath = o.modelPath {
            spec = try ModelSpec(json: FileIO.readText(path: modelPath), source: modelPath)
        } else {
            let widths = o.layers ?? ([data.featureSize] + (o.hidden ?? defaults.hidden) + [outputSize])
            let loss = o.loss ?? (data.isClassification ? .crossEntropy : .mse)
            spec = ModelSpec(widths: widths, activation: o.activation, dropout: o.dropout, loss: loss)
            try spec.validate(source: "model")
        }
        // A model file is named by its path; a model from the options by the option.
        func mismatch(_ field: ValueError.Field, _ message: String) -> any Error {
            o.modelPath.map { DataError(path: $0, message) } ?? ValueError(field, message)
        }
        let given = o.modelPath == nil ? o.layers.map { " of the layers \($0)" } ?? "" : ""
        // The model against the data, before anything is allocated: one example's values, then the outputs.
        let inputShape = try spec.resolvedInputShape ?? { throw mismatch(.layers, "the input shape is not known") }()
        guard spec.inputFeatures == data.featureSize else {
            throw mismatch(.layers, (spec.inputShape.map { "input_shape \($0) (\(spec.inputFeatures ?? 0) values)" }
                                     ?? "the first width \(spec.inputFeatures ?? 0)\(given)")
                           + " does not match the \(data.featureSize) input features of \(dataSpec)"
                           + (data.featureShape.count > 1 ? " (examples of shape \(data.featureShape))" : ""))
        }
        guard spec.outputFeatures == outputSize else {
            let output = spec.resolvedOutputShape ?? []
            throw mismatch(.layers, (spec.takesImages ? "the output shape \(output) (after layers[\(spec.layers.count - 1)])"
                                                      : "the last width \(spec.outputFeatures ?? 0)\(given)")
                           + " does not match the \(outputSize) \(data.isClassification ? "classes" : "target values") of \(dataSpec)")
        }
        guard spec.loss.isClassification == data.isClassification else {
            throw mismatch(.loss, "loss \(spec.loss.rawValue) does not fit \(dataSpec), a \(data.isClassification ? "classification" : "regression") task")
        }

        // A model that takes images gets each flat row (row-major pixels) as [C, H, W], after standardisation.
        let imageShape: [Int]? = spec.takesImages ? inputShape : nil
        if let imageShape {
            train = train.withFeatures(train.features.reshaped(to: [train.count] + imageShape))
            validation = validation.withFeatures(validation.features.reshaped(to: [validation.count] + imageShape))
        }

        if o.earlyStoppingPatience != nil && validation.count == 0 {
            throw DataError(path: "\(o.dataset)", "early stopping needs validation examples, but the validation split is empty")
        }
        // Fail now, not after training, when an output cannot be written.
        let bestPath = o.earlyStoppingPatience != nil ? o.checkpointPath.map(bestCheckpointPath(for:)) : nil
        if group.rank == 0 { for path in [o.checkpointPath, bestPath].compactMap({ $0 }) { try FileIO.checkWritable(path) } }

        let model = spec.makeModel(seed: o.seed)
        let optimizer = o.optimizer.make(parameters: model.parameters(), learningRate: o.learningRate,
                                         momentum: o.momentum, weightDecay: o.weightDecay)
        let trainer = Trainer(model: model, loss: spec.loss, optimizer: optimizer,
                              schedule: o.schedule?.make(optimizer: optimizer, epochs: epochs))
        trainer.maxGradNorm = o.maxGradNorm
        trainer.earlyStopping = o.earlyStoppingPatience.map { EarlyStopping(patience: $0) }
        if let resumed, let path = o.resumePath {
            try model.loadStateDict(resumed.checkpoint.model.stateDict())
            let state = Dictionary(resumed.checkpoint.optimizerState.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            do {
                try (optimizer as? any OptimizerStateDict<Float>)?.loadStateDict(state)
            } catch let e as StateDictError {
                throw DataError(path: path, "the optimizer state does not fit the \(o.optimizer.rawValue) optimizer: \(e)")
            }
            trainer.position = resumed.position
            // Replay the schedule's epochs: the same operations give the same rate, bit for bit.
            for _ in 0..<resumed.position.epoch { trainer.schedule?.step() }
            if trainer.earlyStopping != nil { restore(&trainer.earlyStopping!, from: resumed.early) }
        }
        let previousThreads = Parallelism.threadCount
        if let threads = o.threads { Parallelism.threadCount = threads }
        defer { if o.threads != nil { Parallelism.threadCount = previousThreads } }
        let preprocessing = Preprocessing(scale: data.featureScale, standardizer: standardizer, inputShape: imageShape,
                                          classNames: data.classNames, featureNames: data.featureNames)
        /// The checkpoint of the model as it stands, with everything needed to resume.
        func checkpoint(_ scores: [(String, JSON)]) -> Checkpoint {
            var info: [(String, JSON)] = [
                ("dataset", .string(dataSpec.description)), ("seed", .number(Double(o.seed))),
                ("validation_split", .number(o.validationSplit)), ("epochs", .number(Double(trainer.position.epoch))),
            ] + scores
            if case .csv = dataSpec { info.append(("target", .string(o.target ?? ""))) }
            if dataSpec.isSynthetic { info.append(("samples", .number(Double(o.samples)))) }
            info += stateJSON(trainer) + [("options", o.recordJSON)]
            var c = Checkpoint(spec: spec, model: model, preprocessing: preprocessing, training: .object(info))
            c.optimizerState = (optimizer as? any OptimizerStateDict<Float>)?.stateDict() ?? []
            return c
        }
        // After each epoch with finite parameters, a snapshot of the checkpoint (and of the best one), written
        // to disk every `checkpointInterval` seconds, when the run diverges and when it ends: a run that
        // diverges keeps the last good epoch, and short runs do not wait for a disk write per epoch.
        var lastGood: (epoch: Int, bytes: [UInt8])?, best: [UInt8]?
        var written: Int?, bestWritten = true   // the epoch on disk; whether `best` is
        var saveError: (any Error)?
        let clock = ContinuousClock()
        var lastWrite = clock.now
        func flush() throws {
            guard let path = o.checkpointPath, group.rank == 0 else { return }   // only rank 0 writes files
            if let g = lastGood, written != g.epoch {
                try FileIO.writeAtomically(g.bytes, to: path)
                written = g.epoch
            }
            if let bestPath, let b = best, !bestWritten {
                try FileIO.writeAtomically(b, to: bestPath)
                bestWritten = true
            }
            lastWrite = clock.now
        }
        trainer.processGroup = group
        if group.isDistributed {
            try group.checkAgreement(agreementText(o, spec: spec, train: train, validation: validation,
                                                   resumed: resumedHash.map { ($0, trainer.position) }),
                                     what: "the training options, model or data")
        }
        output("dataset \(dataSpec): \(train.count) training, \(validation.count) validation examples, "
               + plural(data.featureSize, "feature") + (imageShape.map { " as \($0) images" } ?? "") + ", "
               + (data.classCount.map { plural($0, "class", "classes") } ?? plural(data.targetSize, "target value"))
               + (standardizer != nil ? ", standardised" : "") + "\n")
        output("model \(spec.pytorchCode) (\(model.parameterCount) parameters), loss \(spec.loss.rawValue), "
               + "\(o.optimizer.rawValue) lr \(o.learningRate), batch \(o.batchSize), \(epochs) epochs, seed \(o.seed)\n")
        if group.isDistributed {
            output("distributed: \(group.size) processes (Open MPI), \(o.batchSize / group.size)"
                   + (o.batchSize % group.size == 0 ? "" : "-\(o.batchSize / group.size + 1)")
                   + " examples of each batch and " + plural(Parallelism.threadCount, "thread") + " per process\n")
        }

        var lastDraw = -1.0
        let history = trainer.fit(train: train, validation: validation.count > 0 ? validation : nil, epochs: epochs,
                                  batchSize: o.batchSize, seed: o.seed, onEvent: { event in
            switch (event, o.progress) {
            case (.batch(let p), .bar):
                // Redraw at most ~20 times a second, and always on the last batch.
                if p.totalSeconds - lastDraw >= 0.05 || p.batch == p.batchCount {
                    lastDraw = p.totalSeconds
                    output("\r" + TrainingText.progressBar(p, columns: o.terminalColumns) + "\u{1B}[K")
                }
            case (.epoch(let r, let n), .bar): output("\r" + TrainingText.epochLine(r, epochs: n) + "\u{1B}[K\n")
            case (.epoch(let r, let n), .lines): output(TrainingText.epochLine(r, epochs: n) + "\n")
            default: break
            }
            // Non-finite parameters never make a snapshot, so never overwrite a checkpoint.
            if case .epoch(let r, _) = event, o.checkpointPath != nil, saveError == nil, isFinite(model) {
                var scores: [(String, JSON)] = [("train_loss", .number(r.trainLoss))]
                if let l = r.validationLoss { scores.append(("validation_loss", .number(l))) }
                lastGood = (r.epoch, checkpoint(scores).encoded())
                if bestPath != nil, trainer.earlyStopping?.bestEpoch == r.epoch { (best, bestWritten) = (lastGood!.bytes, false) }
                if clock.now - lastWrite >= .seconds(o.checkpointInterval) {
                    do { try flush() } catch { saveError = error }
                }
            }
        }, shouldStop: { saveError != nil || shouldStop() })
        if let saveError { throw saveError }
        if let failure = history.failure { throw failure }
        if var failure = history.nonFiniteLoss {
            if o.progress == .bar { output("\n") }
            if let path = o.checkpointPath {
                try flush()
                failure.origin += written.map { "; \(path) keeps epoch \($0), the last with finite parameters" }
                    ?? (resumed != nil ? "; \(path) is left as it was" : "; no checkpoint written")
            }
            throw failure
        }
        if history.stoppedEarly, let e = trainer.earlyStopping {
            output("early stopping: the validation loss has not improved for \(e.epochsWithoutImprovement) epochs; "
                   + "best epoch \(e.bestEpoch ?? 0)" + (bestPath.map { " (\($0))" } ?? "") + "\n")
        }

        if history.interrupted {
            if o.progress == .bar { output("\r\u{1B}[K") }
            let p = trainer.position
            output("interrupted: stopped after " + (p.batch > 0 ? "batch \(p.batch) of epoch \(p.epoch + 1)" : "epoch \(p.epoch)") + "\n")
        }
        let finalTrain = trainer.evaluate(train)
        let finalValidation = validation.count > 0 ? trainer.evaluate(validation) : nil
        // A dataset with an official test split (MNIST, Fashion-MNIST) is also scored on it, preprocessed as in training.
        var finalTest: Evaluation?
        if case .mnist = dataSpec {
            let test = try dataSpec.load(.evaluation, options: datasetOptions(o))
            var x = standardizer.map { $0.apply(test.features) } ?? test.features
            if let imageShape { x = x.reshaped(to: [test.count] + imageShape) }
            if test.count > 0 { finalTest = trainer.evaluate(test.withFeatures(x)) }
        }
        output(summary(history: history, train: finalTrain, validation: finalValidation, test: finalTest))

        if let checkpointPath = o.checkpointPath, group.rank == 0 {
            guard isFinite(model) else {
                throw DataError(path: checkpointPath, "not written: the parameters are not finite after epoch \(trainer.position.epoch)"
                                + ((try? flush()).flatMap { written }.map { "; the file keeps epoch \($0)" } ?? ""))
            }
            var info: [(String, JSON)] = [("interrupted", .bool(history.interrupted)), ("train_loss", .number(finalTrain.loss))]
            if let a = finalTrain.accuracy { info.append(("train_accuracy", .number(a))) }
            if let v = finalValidation {
                info.append(("validation_loss", .number(v.loss)))
                if let a = v.accuracy { info.append(("validation_accuracy", .number(a))) }
            }
            if let t = finalTest {
                info.append(("test_loss", .number(t.loss)))
                if let a = t.accuracy { info.append(("test_accuracy", .number(a))) }
            }
            try checkpoint(info).save(to: checkpointPath)
            lastGood = nil
            try flush()   // the best epoch's snapshot, if not yet on disk
            output("checkpoint: \(checkpointPath)\n")
            if let bestPath, trainer.earlyStopping?.bestEpoch != nil { output("best checkpoint: \(bestPath)\n") }
        }
        return TrainingResult(history: history, spec: spec, model: model, trainCount: train.count, validationCount: validation.count,
                              dataset: dataSpec, rawTrain: trainRaw, rawValidation: validationRaw, standardizer: standardizer,
                              trainEvaluation: finalTrain, validationEvaluation: finalValidation,
                              learningRate: optimizer.learningRate, position: trainer.position)
    }

    /// What every rank of a distributed run must agree on: the library's version,
    /// the options that shape training (not the progress style or file paths,
    /// which only rank 0 uses), the model, a hash of the training and
    /// validation data and, when resuming, a hash of the checkpoint loaded and
    /// the position it continues from.
    static func agreementText(_ o: TrainingOptions, spec: ModelSpec, train: TensorDataset<Float>,
                              validation: TensorDataset<Float>, resumed: (hash: UInt64, position: TrainingPosition)? = nil) -> String {
        var shared = o
        shared.progress = .none
        shared.checkpointPath = nil
        shared.resumePath = nil
        var data = ""
        for t in [train.features, train.targets, validation.features, validation.targets] {
            let h = t.withUnsafeBufferPointer { b in
                ProcessGroup.stableHash(bytes: UnsafeRawBufferPointer(b))
            }
            data += "\(t.shape):\(h) "
        }
        let resume = resumed.map { " | resumed \(ProcessGroup.hex($0.hash)) at epoch \($0.position.epoch) batch \($0.position.batch) step \($0.position.step)" } ?? ""
        return "backprop \(backpropLibraryVersion) | \(shared) | \(spec.json.compactText) | data \(data)\(resume)"
    }

    static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
        "\(n) " + (n == 1 ? one : many ?? one + "s")
    }

    static func datasetOptions(_ o: TrainingOptions) -> DatasetOptions {
        let target: CSVColumn? = o.target.map { CSVColumn($0) }
        let features: [CSVColumn]? = o.features.map { $0.map { CSVColumn($0) } }
        return DatasetOptions(samples: o.samples, seed: o.seed, noise: o.noise, target: target, features: features, task: o.task)
    }

    static func scoreText(_ e: Evaluation) -> String {
        var s = "loss \(TrainingText.fixed(e.loss, 4))"
        if let a = e.accuracy {
            s += " accuracy \(TrainingText.fixed(a * 100, 2))% (\(Int((a * Double(e.count)).rounded()))/\(e.count))"
        }
        return s
    }

    static func summary(history: TrainingHistory, train: Evaluation, validation: Evaluation?, test: Evaluation? = nil) -> String {
        let rate = Double(history.samples) / max(history.seconds, 1e-9)
        var lines = ["trained \(history.epochs.count) epoch\(history.epochs.count == 1 ? "" : "s") in \(TrainingText.fixed(history.seconds, 2)) s (\(TrainingText.grouped(Int(rate))) samples/s)"]
        lines.append("train:      " + scoreText(train))
        if let v = validation { lines.append("validation: " + scoreText(v)) }
        if let t = test { lines.append("test:       " + scoreText(t)) }
        return lines.joined(separator: "\n") + "\n"
    }
}

import BackpropCore
import BackpropNN
import BackpropData
/// The scores of one epoch.
public struct EpochRecord: Sendable, Equatable {
    /// 1-based.
    public var epoch: Int
    /// Mean training loss over the epoch's batches (weighted by batch size).
    public var trainLoss: Double
    /// Training accuracy over the epoch (classification), in [0, 1].
    public var trainAccuracy: Double?
    /// Mean loss on the validation set; `nil` without validation data.
    public var validationLoss: Double?
    /// Validation accuracy in [0, 1]; `nil` without validation data or for regression.
    public var validationAccuracy: Double?
    /// Wall-clock seconds of the epoch, validation included.
    public var seconds: Double
    /// Training examples per second.
    public var samplesPerSecond: Double
    /// Per parameter, the norm of its values and of its last batch's gradient at the end of the epoch.
    public var parameterNorms: [ParameterNorm] = []
}

/// Where training stands after a batch, for progress displays.
public struct BatchProgress: Sendable {
    /// The current epoch, 1-based.
    public var epoch: Int
    /// The total number of epochs requested.
    public var epochs: Int
    /// 1-based batch within the epoch.
    public var batch: Int
    /// The number of batches in one epoch.
    public var batchCount: Int
    /// Examples seen so far in this epoch.
    public var samples: Int
    /// Running mean loss of this epoch so far.
    public var loss: Double
    /// Running accuracy of this epoch so far, in [0, 1]; `nil` for regression.
    public var accuracy: Double?
    /// Wall-clock seconds since the epoch started.
    public var epochSeconds: Double
    /// Wall-clock seconds since training started.
    public var totalSeconds: Double
}

/// What a ``Trainer`` reports while it runs.
public enum TrainingEvent: Sendable {
    /// After every training batch.
    case batch(BatchProgress)
    /// After every epoch, with its scores and the total number of epochs.
    case epoch(EpochRecord, epochs: Int)
}

/// The outcome of ``Trainer/fit(train:validation:epochs:batchSize:seed:onEvent:shouldStop:)``.
public struct TrainingHistory: Sendable {
    /// The scores of each completed (or interrupted) epoch, in order.
    public var epochs: [EpochRecord] = []
    /// `true` when `shouldStop` ended training early (Ctrl-C).
    public var interrupted = false
    /// Batches run in the last (possibly partial) epoch.
    public var batchesInLastEpoch = 0
    /// Wall-clock seconds of the whole run.
    public var seconds = 0.0
    /// Examples processed, over all epochs.
    public var samples = 0
    /// Set when a batch's loss was NaN or infinite: training stopped there, before that batch's step.
    public var nonFiniteLoss: NonFiniteLossError?
    /// `true` when ``Trainer/earlyStopping`` ended training.
    public var stoppedEarly = false
    /// Set when a collective operation of a distributed run failed (a process
    /// was lost, or the ranks disagree); training stopped there.
    public var failure: DistributedError?
}

/// Loss, accuracy and confusion matrix of a model on a dataset.
public struct Evaluation: Sendable, Equatable {
    /// Number of examples evaluated.
    public var count: Int
    /// Mean loss over the examples.
    public var loss: Double
    /// Classification only, in [0, 1].
    public var accuracy: Double?
    /// `confusion[true][predicted]` counts (classification only).
    public var confusion: [[Int]]?
}

/// The five-step loop over a dataset, epoch after epoch:
///
///     output = model(x)            1. predict
///     L = loss(output, y)          2. loss
///     optimizer.zeroGrad()         3. clear gradients
///     L.backward()                 4. backward
///     optimizer.step()             5. update
///
/// ```swift
/// let model = ModelSpec(layers: [64, 128, 10]).makeModel(seed: 1)
/// let trainer = Trainer(model: model, loss: .crossEntropy,
///                       optimizer: Adam(parameters: model.parameters(), learningRate: 1e-3))
/// let history = trainer.fit(train: train, validation: validation, epochs: 20, batchSize: 64, seed: 1)
/// ```
public final class Trainer {
    /// The model being trained.
    public let model: any Module<Float>
    /// The loss minimised by ``fit(train:validation:epochs:batchSize:seed:onEvent:shouldStop:)``.
    public let loss: LossKind
    /// The optimizer that updates the model's parameters.
    public let optimizer: any Optimizer
    /// Stepped once per epoch, if set.
    public var schedule: (any LearningRateSchedule)?
    /// Where ``fit(train:validation:epochs:batchSize:seed:onEvent:shouldStop:)`` starts (a resumed
    /// run sets it) and, after each step, where training stands.
    public var position = TrainingPosition()
    /// Before each step, scale the gradients so that their global 2-norm is at most this (``clipGradNorm(_:maxNorm:)``).
    public var maxGradNorm: Double?
    /// Stop when the validation loss has not improved for `patience` epochs; also tracks the best epoch.
    public var earlyStopping: EarlyStopping?
    /// The processes training this model together (data parallel); ``ProcessGroup/single`` by
    /// default. See `Trainer+Distributed.swift` for what changes with several processes.
    public var processGroup: ProcessGroup = .single

    /// A trainer for `model`; `optimizer` must have been built over `model.parameters()`.
    ///
    /// ```swift
    /// let model = ModelSpec(layers: [2, 16, 2]).makeModel(seed: 1)
    /// let trainer = Trainer(model: model, loss: .crossEntropy,
    ///                       optimizer: SGD(parameters: model.parameters(), learningRate: 0.1))
    /// ```
    public init(model: any Module<Float>, loss: LossKind, optimizer: any Optimizer, schedule: (any LearningRateSchedule)? = nil) {
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
    }

    /// Trains for `epochs` passes over `train` in shuffled batches (seeded),
    /// evaluating on `validation` after each epoch. `shouldStop` is checked
    /// after every batch: when it returns `true`, training ends there (the
    /// model keeps the updates made so far).
    @discardableResult
    public func fit(train: TensorDataset<Float>, validation: TensorDataset<Float>? = nil, epochs: Int, batchSize: Int,
                    seed: UInt64, onEvent: (TrainingEvent) -> Void = { _ in }, shouldStop: () -> Bool = { false }) -> TrainingHistory {
        precondition(loss.isClassification == train.isClassification,
                     "Trainer.fit: loss \(loss.rawValue) does not fit a \(train.isClassification ? "classification" : "regression") dataset")
        let loader = DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed)
        var history = TrainingHistory()
        let group = processGroup
        if group.isDistributed {
            do { try startDistributed(train: train, epochs: epochs, batchSize: batchSize, seed: seed) } catch {
                history.failure = error
                return history
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        func seconds(since t: ContinuousClock.Instant) -> Double {
            let d = clock.now - t
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        let randomModules = Trainer.reseedableModules(model)
        epochLoop: for epoch in (position.epoch + 1)..<(max(epochs, position.epoch) + 1) {
            model.train()
            let epochStart = clock.now
            var lossSum = 0.0, correct = 0, seen = 0, batchIndex = position.batch
            var stopped = false
            for indices in loader.batchIndices(epoch: epoch - 1).dropFirst(position.batch) {
                if group.isDistributed {   // see Trainer+Distributed.swift
                    do {
                        let step = try distributedStep(train: train, globalBatch: indices, step: position.step,
                                                       randomModules: randomModules, stopping: shouldStop)
                        if let origin = step.nonFinite {
                            history.nonFiniteLoss = NonFiniteLossError(epoch: epoch, batch: batchIndex + 1,
                                                                       loss: step.lossSum, origin: origin)
                            break epochLoop
                        }
                        seen += step.count; lossSum += step.lossSum; correct += step.correct
                        stopped = step.stop
                    } catch {
                        history.failure = error
                        break
                    }
                } else {
                    let batch = train.batch(at: indices)
                    for m in randomModules { m.reseed(step: position.step) }   // masks depend on the step only
                    let output = model(batch.features)               // 1. predict
                    let l = loss(output, batch)                       // 2. loss
                    let lossValue = l.item
                    guard lossValue.isFinite else {
                        for m in randomModules { m.reseed(step: position.step) }
                        history.nonFiniteLoss = NonFiniteLossError(epoch: epoch, batch: batchIndex + 1, loss: Double(lossValue),
                                                                   origin: Trainer.firstNonFinite(model: model, loss: loss, batch: batch))
                        break epochLoop
                    }
                    optimizer.zeroGrad()                              // 3. clear gradients
                    l.backward()                                      // 4. backward
                    if let maxGradNorm { clipGradNorm(model.parameters(), maxNorm: maxGradNorm) }
                    optimizer.step()                                  // 5. update
                    seen += batch.count
                    lossSum += Double(lossValue) * Double(batch.count)
                    if loss.isClassification { correct += Trainer.correctCount(output, batch.classIndices) }
                }
                batchIndex += 1
                position.batch += 1
                position.step += 1
                onEvent(.batch(BatchProgress(epoch: epoch, epochs: epochs, batch: batchIndex, batchCount: loader.batchCount,
                                             samples: seen, loss: lossSum / Double(seen),
                                             accuracy: loss.isClassification ? Double(correct) / Double(seen) : nil,
                                             epochSeconds: seconds(since: epochStart), totalSeconds: seconds(since: start))))
                if group.isDistributed ? stopped : shouldStop() { stopped = true; break }   // asked once per batch
            }
            history.samples += seen
            history.batchesInLastEpoch = batchIndex
            if history.failure != nil { break }
            if stopped && batchIndex < loader.batchCount {
                history.interrupted = true
                break
            }
            let trainSeconds = seconds(since: epochStart)
            var v: Evaluation?
            if group.isDistributed {   // rank 0's buffers and validation scores everywhere: see Trainer+Distributed.swift
                do { v = try distributedValidation(validation, epoch: epoch) } catch {
                    history.failure = error
                    break
                }
            } else {
                v = validation.map { evaluate($0) }
            }
            var record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)),
                                     trainAccuracy: loss.isClassification ? Double(correct) / Double(max(seen, 1)) : nil,
                                     validationLoss: v?.loss, validationAccuracy: v?.accuracy,
                                     seconds: 0, samplesPerSecond: Double(seen) / max(trainSeconds, 1e-9))
            record.seconds = seconds(since: epochStart)
            record.parameterNorms = ParameterNorm.of(model)
            history.epochs.append(record)
            schedule?.step()
            position.epoch = epoch
            position.batch = 0
            if let l = record.validationLoss { earlyStopping?.record(epoch: epoch, validationLoss: l) }
            onEvent(.epoch(record, epochs: epochs))
            if earlyStopping?.shouldStop == true && epoch < epochs {
                history.stoppedEarly = true
                break
            }
            if stopped {
                history.interrupted = epoch < epochs
                break
            }
        }
        // A run cut short mid-epoch (Ctrl-C) still ends with rank 0's buffers on every rank.
        if group.isDistributed && history.interrupted && history.failure == nil {
            do { try broadcastBuffers() } catch { history.failure = error }
        }
        model.eval()
        history.seconds = seconds(since: start)
        return history
    }

    /// Loss, accuracy and confusion matrix in evaluation mode, without
    /// recording a graph, in batches of `batchSize`.
    public func evaluate(_ data: TensorDataset<Float>, batchSize: Int = 512) -> Evaluation {
        Trainer.evaluate(model: model, loss: loss, data: data, batchSize: batchSize)
    }

    /// See ``evaluate(_:batchSize:)``.
    public static func evaluate(model: any Module<Float>, loss: LossKind, data: TensorDataset<Float>,
                                batchSize: Int = 512) -> Evaluation {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var lossSum = 0.0, correct = 0
        let k = data.classCount ?? 0
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        noGrad {
            for batch in DataLoader(data, batchSize: batchSize).batches(epoch: 0) {
                let output = model(batch.features)
                lossSum += Double(loss(output, batch).item) * Double(batch.count)
                if loss.isClassification {
                    let predicted = Trainer.predictedClasses(output)
                    for (t, p) in zip(batch.classIndices, predicted) {
                        if t == p { correct += 1 }
                        if t < k && p < k { confusion[t][p] += 1 }
                    }
                }
            }
        }
        let n = Double(max(data.count, 1))
        return Evaluation(count: data.count, loss: lossSum / n,
                          accuracy: loss.isClassification ? Double(correct) / n : nil,
                          confusion: loss.isClassification ? confusion : nil)
    }

    /// The argmax of each row of `[n, classes]` logits.
    public static func predictedClasses(_ logits: Tensor<Float>) -> [Int] {
        let n = logits.shape[0], k = logits.shape.count > 1 ? logits.shape[1] : 1
        return logits.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                var best = 0
                for j in 1..<max(k, 1) where p[i * k + j] > p[i * k + best] { best = j }
                return best
            }
        }
    }

    static func correctCount(_ logits: Tensor<Float>, _ classes: [Int]) -> Int {
        zip(predictedClasses(logits), classes).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    }
}

/// The optimizers a ``TrainingSession`` can use, by their PyTorch names in lower case.
///
/// ```swift
/// let optimizer = OptimizerKind.adamw.make(parameters: model.parameters(), learningRate: 1e-3, momentum: 0)
/// ```
public enum OptimizerKind: String, Sendable, CaseIterable {
    /// ``SGD``, ``Adam``, ``AdamW`` and ``RMSprop``.
    case sgd, adam, adamw, rmsprop

    /// The learning rate used when none is given: 1e-3, PyTorch's default for
    /// Adam and AdamW, and a safe start for SGD and RMSprop on standardised data.
    public static let defaultLearningRate = 1e-3

    /// PyTorch's default weight decay of each optimizer: 0.01 for AdamW, 0 for the others.
    ///
    /// ```swift
    /// OptimizerKind.adamw.defaultWeightDecay   // 0.01
    /// ```
    public var defaultWeightDecay: Double { self == .adamw ? 0.01 : 0 }

    /// An optimizer over `parameters`. `momentum` applies to SGD and RMSprop.
    /// `weightDecay` is used as given (0 means none, for AdamW too); `nil`
    /// uses ``defaultWeightDecay``.
    ///
    /// ```swift
    /// let adamw = OptimizerKind.adamw.make(parameters: ps, learningRate: 1e-3, momentum: 0)                  // λ = 0.01
    /// let plain = OptimizerKind.adamw.make(parameters: ps, learningRate: 1e-3, momentum: 0, weightDecay: 0)  // λ = 0
    /// ```
    public func make(parameters: [Tensor<Float>], learningRate: Double, momentum: Double,
                     weightDecay: Double? = nil) -> any Optimizer {
        let weightDecay = weightDecay ?? defaultWeightDecay
        switch self {
        case .sgd: return SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        case .adam: return Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: return AdamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .rmsprop: return RMSprop(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum)
        }
    }
}

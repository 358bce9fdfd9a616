import BackpropCore
import BackpropNN
import BackpropData

/// Where a run stands: whole epochs done, batches done in the next epoch, and optimizer steps in all.
/// A checkpoint records it, and a resumed ``Trainer`` starts from it.
///
/// ```swift
/// trainer.position = TrainingPosition(epoch: 5, batch: 0, step: 5 * 23)   // after 5 epochs of 23 batches
/// ```
public struct TrainingPosition: Sendable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    /// Batches completed in epoch `epoch + 1` (0 at an epoch's end).
    public var batch: Int
    /// Optimizer steps taken since the start, over all epochs.
    public var step: Int

    /// The start of training, or a position read from a checkpoint.
    ///
    /// ```swift
    /// TrainingPosition()   // epoch 0, batch 0, step 0
    /// ```
    public init(epoch: Int = 0, batch: Int = 0, step: Int = 0) {
        self.epoch = epoch
        self.batch = batch
        self.step = step
    }
}

/// Early stopping on the validation loss: training stops once `patience`
/// epochs in a row have not improved on the best loss so far (like Keras'
/// `EarlyStopping(monitor="val_loss", patience=...)`).
///
/// ```swift
/// trainer.earlyStopping = EarlyStopping(patience: 5)
/// trainer.fit(train: train, validation: validation, epochs: 100, batchSize: 64, seed: 1)
/// trainer.earlyStopping!.bestEpoch   // the epoch with the lowest validation loss
/// ```
public struct EarlyStopping: Sendable, Equatable {
    /// Epochs without improvement before stopping; at least 1.
    public var patience: Int
    /// The lowest validation loss so far.
    public var bestLoss: Double?
    /// The epoch (1-based) of ``bestLoss``.
    public var bestEpoch: Int?
    /// Epochs since the best one.
    public var epochsWithoutImprovement = 0

    /// Stops after `patience` epochs without a lower validation loss.
    public init(patience: Int) {
        precondition(patience >= 1, "EarlyStopping: patience must be at least 1, got \(patience)")
        self.patience = patience
    }

    /// Records an epoch's validation loss; returns `true` when it is the best so far.
    @discardableResult
    public mutating func record(epoch: Int, validationLoss: Double) -> Bool {
        if validationLoss.isFinite, bestLoss.map({ validationLoss < $0 }) ?? true {
            bestLoss = validationLoss
            bestEpoch = epoch
            epochsWithoutImprovement = 0
            return true
        }
        epochsWithoutImprovement += 1
        return false
    }

    /// `true` once `patience` epochs in a row have not improved.
    public var shouldStop: Bool { epochsWithoutImprovement >= patience }
}

/// A batch whose loss was NaN or infinite: where, and the first layer (or the loss) that produced it.
///
/// ```swift
/// if let failure = history.nonFiniteLoss { print(failure) }
/// // the loss is NaN at epoch 2, batch 5: layer 2 (Linear) is the first to produce infinity (its weight holds infinity)
/// ```
public struct NonFiniteLossError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based epoch.
    public var epoch: Int
    /// 1-based batch within the epoch.
    public var batch: Int
    /// The loss value (NaN or ±infinity).
    public var loss: Double
    /// Which op produced the first non-finite value, e.g. `layer 2 (Linear) is the first to produce infinity`.
    public var origin: String

    /// One line naming the epoch, the batch and the origin.
    public var description: String {
        let value = loss.isNaN ? "NaN" : loss > 0 ? "infinite" : "-infinite"
        return "the loss is \(value) at epoch \(epoch), batch \(batch): \(origin)"
    }
}

extension Trainer {
    /// The modules whose randomness a ``Trainer`` restarts at each step (dropout), so that a run's
    /// masks depend only on the seed and the step, not on how often the run was resumed.
    static func reseedableModules(_ model: any Module<Float>) -> [Dropout<Float>] {
        var found: [Dropout<Float>] = []
        func visit(_ m: any Module<Float>) {
            if let d = m as? Dropout<Float> { found.append(d) }
            for (_, child) in m.namedChildren() { visit(child) }
        }
        visit(model)
        return found
    }

    /// Runs `batch` through `model` again layer by layer (without a graph) and names the first layer
    /// whose output holds NaN or infinity, or the loss when every layer's output is finite.
    static func firstNonFinite(model: any Module<Float>, loss: LossKind, batch: Batch<Float>) -> String {
        func kind(_ t: Tensor<Float>) -> String? {
            t.withUnsafeBufferPointer { p in
                if p.contains(where: { $0.isNaN }) { return "NaN" }
                if p.contains(where: { $0.isInfinite }) { return "infinity" }
                return nil
            }
        }
        func typeName(_ m: any Module<Float>) -> String {
            String(String(describing: type(of: m)).prefix { $0 != "<" })
        }
        return noGrad {
            if let k = kind(batch.features) { return "the input batch holds \(k)" }
            let layers: [(name: String, module: any Module<Float>)] =
                (model as? Sequential<Float>).map { s in s.layers.enumerated().map { (String($0.offset), $0.element) } }
                ?? [("model", model)]
            var x = batch.features
            for (name, layer) in layers {
                x = layer(x)
                guard let k = kind(x) else { continue }
                var text = (model is Sequential<Float> ? "layer \(name) (\(typeName(layer)))" : "the model (\(typeName(layer)))")
                    + " is the first to produce \(k)"
                let bad = layer.namedParameters().compactMap { p in kind(p.tensor).map { "\(name).\(p.name) holds \($0)" } }
                if !bad.isEmpty { text += " (its " + bad.joined(separator: ", ") + ": an earlier step diverged; lower the learning rate)" }
                return text
            }
            let largest = x.withUnsafeBufferPointer { $0.reduce(Float(0)) { max($0, abs($1)) } }
            return "the \(loss.rawValue) loss of finite outputs (the largest of magnitude \(largest)) is not finite"
        }
    }
}

import BackpropCore
import BackpropNN
import BackpropData
/// Data-parallel training: what ``Trainer/fit(train:validation:epochs:batchSize:seed:onEvent:shouldStop:)``
/// does when ``Trainer/processGroup`` has several processes (PyTorch's `DistributedDataParallel`).
///
/// - At the start, the ranks check that they agree on the model's parameter
///   names and shapes, the loss, the optimizer, the training set's size and
///   the loop's settings (a mismatch stops every rank with a ``DistributedError``
///   instead of hanging), then take rank 0's parameters.
/// - `batchSize` is the *global* batch. Every rank computes the same seeded
///   shuffle of each epoch and takes its own contiguous share of each global
///   batch (`batchSize / size` examples, the remainder spread over the last
///   ranks), so the ranks read disjoint shards that together are the batch a
///   single process would read.
/// - After `backward()`, one all-reduce sums every gradient weighted by the
///   rank's share of the batch (the same buffer carries the loss sum, the
///   correct count and the Ctrl-C flag), so the update is that of one process
///   with the whole batch, up to float rounding, even for a short last batch.
/// - The reported loss and accuracy are over the global batch; validation
///   runs on every rank (their models are equal).
/// - Layers that keep statistics of the batch they see (batch norm) see the
///   local batch only, as in PyTorch's DDP without `SyncBatchNorm`; their
///   running statistics then differ between ranks, and rank 0's are the ones
///   that a checkpoint written by rank 0 keeps.
/// - Dropout draws its masks from the seed, the step and the rank, so a resumed run draws the
///   same masks and no two ranks draw the same one.
/// - A non-finite loss stops every rank at the same batch (the loss is all-reduced with the
///   gradients) before the update, as in a single process; gradient clipping (`maxGradNorm`)
///   applies to the averaged gradients, which are equal on every rank.
///
/// ```swift
/// let trainer = Trainer(model: model, loss: .crossEntropy, optimizer: optimizer)
/// trainer.processGroup = try ProcessGroup.world       // mpirun -np 4: each rank gets 16 of 64
/// let history = trainer.fit(train: train, epochs: 10, batchSize: 64, seed: 1)
/// if let failure = history.failure { throw failure }
/// ```
extension Trainer {
    /// Agreement check, then rank 0's parameters everywhere.
    func startDistributed(train: TensorDataset<Float>, epochs: Int, batchSize: Int, seed: UInt64) throws(DistributedError) {
        let parameters = model.namedParameters().map { "\($0.name)\($0.tensor.shape)" }.joined(separator: " ")
        let settings = "parameters \(parameters); loss \(loss.rawValue); optimizer \(type(of: optimizer)); "
            + "train \(train.count) x \(train.featureShape); epochs \(epochs); batch \(batchSize); seed \(seed)"
        try processGroup.checkAgreement(settings, what: "Trainer.fit's model, loss, optimizer, training set size or settings")
        try broadcastParameters(of: model, in: processGroup)
    }

    /// Rank `rank`'s contiguous share of one global batch: `count / size`
    /// examples or one more (the later ranks get the extra ones).
    static func shard(_ indices: [Int], rank: Int, size: Int) -> [Int] {
        let n = indices.count
        return Array(indices[(rank * n / size)..<((rank + 1) * n / size)])
    }

    /// One step on this rank's share of `globalBatch`; the loss sum, correct
    /// count and stop flag are those of the whole global batch.
    ///
    /// `randomModules` are reseeded from `step` and the rank first; a non-finite global loss returns
    /// `nonFinite` (the origin found on this rank's share, or "another rank") without updating.
    func distributedStep(train: TensorDataset<Float>, globalBatch: [Int], step: Int, randomModules: [Dropout<Float>],
                         stopping: () -> Bool) throws(DistributedError)
        -> (count: Int, lossSum: Double, correct: Int, stop: Bool, nonFinite: String?) {
        let group = processGroup
        let local = Trainer.shard(globalBatch, rank: group.rank, size: group.size)
        optimizer.zeroGrad()
        // Distinct for every (step, rank) pair, and the same again on resume.
        for m in randomModules { m.reseed(step: step &* group.size &+ group.rank) }
        // Loss sum, correct count, stop flag, and the share's size (the shares must add up to the batch).
        var extras: [Float] = [0, 0, stopping() ? 1 : 0, Float(local.count)]
        if !local.isEmpty {   // a short last batch can leave a rank nothing: it still takes part, with zeros
            let batch = train.batch(at: local)
            let output = model(batch.features)
            let l = loss(output, batch)
            l.backward()
            extras[0] = l.item * Float(local.count)
            if loss.isClassification { extras[1] = Float(Trainer.correctCount(output, batch.classIndices)) }
        }
        // Local losses are means over the local share: weight by its size, divide by the global size.
        let sums = try reduceGradients(model.parameters(), in: group, scaleBefore: Float(local.count),
                                       scaleAfter: 1 / Float(globalBatch.count), extras: extras)
        guard Int(sums[3]) == globalBatch.count else {
            throw DistributedError("the ranks' shares of a batch of \(globalBatch.count) add up to \(Int(sums[3])) examples")
        }
        guard sums[0].isFinite else {   // every rank sees the same sum: all stop here, none updates
            return (globalBatch.count, Double(sums[0]), 0, sums[2] > 0, firstNonFiniteShare(train: train, globalBatch: globalBatch,
                                                                                           step: step, randomModules: randomModules))
        }
        if let maxGradNorm { clipGradNorm(model.parameters(), maxNorm: maxGradNorm) }
        optimizer.step()
        return (globalBatch.count, Double(sums[0]), Int(sums[1].rounded()), sums[2] > 0, nil)
    }

    /// Which rank's share of `globalBatch` made the loss non-finite, and where: every rank has the
    /// training set, the global batch and the same parameters, so rank 0 replays each share in turn
    /// (with that rank's dropout masks) and names the first that fails. Only rank 0 reports it.
    func firstNonFiniteShare(train: TensorDataset<Float>, globalBatch: [Int], step: Int,
                             randomModules: [Dropout<Float>]) -> String {
        let group = processGroup
        guard group.rank == 0 else { return "rank 0 reports where" }
        for r in 0..<group.size {
            let share = Trainer.shard(globalBatch, rank: r, size: group.size)
            guard !share.isEmpty else { continue }
            let batch = train.batch(at: share)
            for m in randomModules { m.reseed(step: step &* group.size &+ r) }
            let value = noGrad { loss(model(batch.features), batch).item }
            guard !value.isFinite else { continue }
            for m in randomModules { m.reseed(step: step &* group.size &+ r) }
            return "in rank \(r)'s share of the batch, " + Trainer.firstNonFinite(model: model, loss: loss, batch: batch)
        }
        return "the sum of the ranks' finite losses is not finite"
    }
}

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
/// - The reported loss and accuracy are over the global batch.
/// - Layers that keep statistics of the batch they see (batch norm) normalise
///   with the local batch's statistics, as in PyTorch's DDP without
///   `SyncBatchNorm`, and update their running statistics (buffers) from it.
///   As with DDP's default `broadcast_buffers=True`, rank 0's buffers are the
///   model's: they are copied to every rank before each validation and when a
///   run stops mid-epoch. (DDP copies them before every forward; rank 0's
///   buffers evolve the same either way, since each rank's training forward
///   normalises with batch statistics and only *writes* the running ones.)
///   Then the ranks check that their parameters and buffers are equal (a
///   64-bit hash), and take rank 0's validation scores, so every rank records
///   the same epoch and early stopping stops all of them at the same epoch.
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

    /// At the end of an epoch: rank 0's buffers on every rank, a check that the ranks' models
    /// are equal, and rank 0's scores on `validation` on every rank.
    func distributedValidation(_ validation: TensorDataset<Float>?, epoch: Int) throws(DistributedError) -> Evaluation? {
        try broadcastBuffers()
        // Equal inputs give equal updates only if every rank's kernels round alike: CPUs with different
        // instruction sets can drift apart, which this catches (and names the kernels used here).
        try processGroup.checkAgreement(modelHashText(), what: "the model's parameters or buffers after epoch \(epoch) "
                                        + "(this rank's kernels: \(kernelDescription); ranks on CPUs whose kernels round "
                                        + "differently drift apart: set BACKPROP_KERNEL alike on every host)")
        guard let validation else { return nil }
        var e = evaluate(validation)
        // Equal models on equal data give equal scores, up to the rounding of each rank's kernels: rank 0's decide.
        var scores = [e.loss, e.accuracy ?? 0]
        try scores.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try processGroup.broadcast(b, from: 0) }
        e.loss = scores[0]
        if e.accuracy != nil { e.accuracy = scores[1] }
        return e
    }

    /// Copies rank 0's buffers (batch norm's running statistics) into every rank's model, with
    /// one broadcast, as PyTorch's DDP does with `broadcast_buffers=True` (its default).
    func broadcastBuffers() throws(DistributedError) {
        let buffers = model.namedBuffers().map(\.buffer)
        guard processGroup.isDistributed, !buffers.isEmpty else { return }
        var flat = [Float]()
        flat.reserveCapacity(buffers.reduce(0) { $0 + $1.value.count })
        for b in buffers { b.value.withUnsafeBufferPointer { flat.append(contentsOf: $0) } }
        try flat.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try processGroup.broadcast(b, from: 0) }
        var offset = 0
        for b in buffers {
            let n = b.value.count
            b.value = Tensor(shape: b.value.shape, scalars: Array(flat[offset..<(offset + n)]))
            offset += n
        }
    }

    /// A hash of every parameter's and buffer's values, as text for ``ProcessGroup/checkAgreement(_:what:)``.
    func modelHashText() -> String {
        let tensors = model.parameters() + model.namedBuffers().map(\.buffer.value)
        return tensors.map { t in
            String(t.withUnsafeBufferPointer { ProcessGroup.stableHash(bytes: UnsafeRawBufferPointer($0)) }, radix: 16)
        }.joined(separator: " ")
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

import BackpropCore
/// Batches of a dataset for one pass after another, like PyTorch's
/// `DataLoader`: a fixed batch size, an optional shuffle per epoch, and an
/// optional drop of the last short batch.
///
/// The order of epoch `e` depends only on `seed` and `e` (a generator
/// seeded from both), so a run is reproducible and an epoch can be replayed
/// on its own. Iterating the loader with `for` walks the next epoch.
///
/// ```swift
/// let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 1)
/// for epoch in 0..<10 {
///     for batch in loader.batches(epoch: epoch) { ... }
/// }
/// ```
public final class DataLoader<D: Dataset>: Sequence {
    /// The dataset the batches come from.
    public let dataset: D
    /// Examples per batch (the last batch may be shorter unless ``dropLast``).
    public let batchSize: Int
    /// Whether each epoch visits the examples in a seeded random order.
    public let shuffle: Bool
    /// Whether a last batch shorter than ``batchSize`` is skipped.
    public let dropLast: Bool
    /// Seed of the per-epoch shuffles.
    public let seed: UInt64
    /// The epoch that the next `for batch in loader` walks.
    public private(set) var nextEpoch = 0

    /// A loader over `dataset`; `batchSize` must be positive (a precondition).
    ///
    /// ```swift
    /// let loader = DataLoader(train, batchSize: 32, shuffle: true, seed: 7)
    /// loader.batchCount   // ceil(train.count / 32)
    /// ```
    public init(_ dataset: D, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, seed: UInt64 = 0) {
        precondition(batchSize > 0, "DataLoader: batch size must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The example order of an epoch: `0..<count`, or a seeded permutation.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: epoch))
        return randomPermutation(dataset.count, generator: &rng)
    }

    /// The index lists of each batch of an epoch.
    public func batchIndices(epoch: Int) -> [[Int]] {
        let order = self.order(epoch: epoch)
        return (0..<batchCount).map { b in Array(order[(b * batchSize)..<Swift.min((b + 1) * batchSize, order.count)]) }
    }

    /// The batches of an epoch, built lazily one at a time.
    public func batches(epoch: Int) -> LazyMapSequence<[[Int]], Batch<D.Scalar>> {
        let dataset = self.dataset
        return batchIndices(epoch: epoch).lazy.map { dataset.batch(at: $0) }
    }

    /// The batches of epoch ``nextEpoch``, which then advances by one.
    public func makeIterator() -> LazyMapSequence<[[Int]], Batch<D.Scalar>>.Iterator {
        defer { nextEpoch += 1 }
        return batches(epoch: nextEpoch).makeIterator()
    }
}

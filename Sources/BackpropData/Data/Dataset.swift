import BackpropCore
/// A batch of examples: `features` with the batch as the first axis, and
/// `targets`: class indices of shape `[n]` for classification, or values of
/// shape `[n, k]` for regression.
///
/// ```swift
/// let batch = dataset.batch(at: [0, 5, 7])
/// let logits = model(batch.features)
/// let loss = crossEntropy(logits, classIndices: batch.classIndices)
/// ```
public struct Batch<Scalar: TensorScalar> {
    /// The inputs, `[n, ...]`.
    public var features: Tensor<Scalar>
    /// Class indices `[n]` (stored as scalars) or regression values `[n, k]`.
    public var targets: Tensor<Scalar>

    /// A batch of `features` and `targets` with the same first dimension (checked by a precondition).
    ///
    /// ```swift
    /// let batch = Batch(features: Tensor<Float>([[0, 1], [1, 0]]), targets: Tensor<Float>([1, 0]))
    /// batch.count   // 2
    /// ```
    public init(features: Tensor<Scalar>, targets: Tensor<Scalar>) {
        precondition(features.rank >= 1 && targets.rank >= 1 && features.shape[0] == targets.shape[0],
                     "Batch: features \(features.shape) and targets \(targets.shape) need the same first dimension")
        self.features = features
        self.targets = targets
    }

    /// The number of examples.
    public var count: Int { features.shape[0] }

    /// The targets as class indices (for `crossEntropy(_:classIndices:)`).
    public var classIndices: [Int] { targets.scalars.map { Int($0) } }
}

/// A finite, indexable collection of examples that can be read in batches.
///
/// ```swift
/// let data = Synthetic.twoMoons(count: 200, noise: 0.1, seed: 1)   // a TensorDataset<Float>
/// data.count                      // 200
/// data.batch(at: [0, 1]).features // shape [2, 2]
/// ```
public protocol Dataset<Scalar> {
    associatedtype Scalar: TensorScalar

    /// The number of examples.
    var count: Int { get }

    /// The examples at `indices`, stacked along a new first axis.
    func batch(at indices: [Int]) -> Batch<Scalar>
}

extension Dataset {
    /// One example as a batch of one.
    public subscript(index: Int) -> Batch<Scalar> { batch(at: [index]) }
}

/// A dataset held in memory as two tensors whose first axis indexes examples,
/// like PyTorch's `TensorDataset`.
///
/// ```swift
/// let data = TensorDataset(features: Tensor<Float>([[0, 0], [0, 1], [1, 0], [1, 1]]),
///                          classes: [0, 1, 1, 0])
/// ```
public struct TensorDataset<Scalar: TensorScalar>: Dataset {
    /// `[N, ...]`.
    public var features: Tensor<Scalar>
    /// `[N]` class indices (classification) or `[N, k]` values (regression).
    public var targets: Tensor<Scalar>
    /// The number of classes for classification; `nil` for regression.
    public var classCount: Int?
    /// Names of the classes, when known (digits "0"..."9", CSV labels).
    public var classNames: [String]?
    /// Names of the feature columns, when known (CSV headers).
    public var featureNames: [String]?
    /// What the loader divided the stored values by: 255 for MNIST's bytes, 16 for the digits' 0...16
    /// pixels; `nil` when the features are the file's values. A model trained on these features takes
    /// the stored values divided by it, and its checkpoint records it (`Preprocessing.scale`).
    public var featureScale: Double?

    /// A regression or classification dataset from tensors; `classCount`
    /// marks classification (targets of shape `[N]` holding 0..<classCount).
    public init(features: Tensor<Scalar>, targets: Tensor<Scalar>, classCount: Int? = nil,
                classNames: [String]? = nil, featureNames: [String]? = nil) {
        precondition(features.rank >= 1 && targets.rank >= 1 && features.shape[0] == targets.shape[0],
                     "TensorDataset: features \(features.shape) and targets \(targets.shape) need the same first dimension")
        if let k = classCount {
            precondition(targets.rank == 1, "TensorDataset: class targets must have shape [N], got \(targets.shape)")
            precondition(targets.scalars.allSatisfy { $0 >= 0 && $0 < Scalar(k) && $0 == $0.rounded() },
                         "TensorDataset: class targets must be integers in 0..<\(k)")
        }
        self.features = features
        self.targets = targets
        self.classCount = classCount
        self.classNames = classNames
        self.featureNames = featureNames
    }

    /// A classification dataset; the class count defaults to `max + 1`.
    public init(features: Tensor<Scalar>, classes: [Int], classCount: Int? = nil) {
        self.init(features: features, targets: Tensor(shape: [classes.count], scalars: classes.map { Scalar($0) }),
                  classCount: classCount ?? ((classes.max() ?? -1) + 1))
    }

    /// The number of examples.
    public var count: Int { features.shape[0] }

    /// `true` when the targets are class indices.
    public var isClassification: Bool { classCount != nil }

    /// The shape of one example's features.
    public var featureShape: [Int] { Array(features.shape.dropFirst()) }

    /// The number of scalars in one example's features.
    public var featureSize: Int { featureShape.reduce(1, *) }

    /// The number of target values per example (1 for classes).
    public var targetSize: Int { targets.shape.dropFirst().reduce(1, *) }

    /// The examples at `indices`, in that order, as one batch.
    ///
    /// ```swift
    /// let data = TensorDataset(features: Tensor<Float>([[0], [1], [2]]), classes: [0, 1, 1])
    /// let batch = data.batch(at: [2, 0])   // features [[2], [0]], targets [1, 0]
    /// ```
    public func batch(at indices: [Int]) -> Batch<Scalar> {
        Batch(features: TensorDataset.gatherRows(features, indices), targets: TensorDataset.gatherRows(targets, indices))
    }

    /// The examples at `indices` as a new dataset.
    public func subset(_ indices: [Int]) -> TensorDataset {
        var copy = self
        copy.features = TensorDataset.gatherRows(features, indices)
        copy.targets = TensorDataset.gatherRows(targets, indices)
        return copy
    }

    /// The same examples with features replaced (for example standardised).
    public func withFeatures(_ newFeatures: Tensor<Scalar>) -> TensorDataset {
        precondition(newFeatures.shape.first == count, "withFeatures: \(newFeatures.shape) does not have \(count) rows")
        var copy = self
        copy.features = newFeatures
        return copy
    }

    /// Rows of a row-major tensor, copied with one contiguous copy per row.
    static func gatherRows(_ t: Tensor<Scalar>, _ indices: [Int]) -> Tensor<Scalar> {
        let n = t.shape[0]
        let row = t.shape.dropFirst().reduce(1, *)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: indices.count * row)
        let src = t.base, dst = storage.base
        for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < n, "batch: index \(i) out of range for \(n) examples")
            (dst + k * row).update(from: src + i * row, count: row)
        }
        return Tensor(storage: storage, shape: [indices.count] + t.shape.dropFirst())
    }
}

// MARK: - Splits

/// A random permutation of `0..<n` (Fisher-Yates), the same on every platform for a seed.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let order = randomPermutation(5, generator: &rng)
/// ```
public func randomPermutation(_ n: Int, generator: inout SeededGenerator) -> [Int] {
    var p = Array(0..<n)
    if n < 2 { return p }
    for i in stride(from: n - 1, to: 0, by: -1) {
        p.swapAt(i, generator.nextInt(below: i + 1))
    }
    return p
}

extension TensorDataset {
    /// Splits into parts of the given sizes after one seeded shuffle, like
    /// `torch.utils.data.random_split`. Sizes must add up to ``count``.
    ///
    /// ```swift
    /// let parts = data.randomSplit(sizes: [800, 200], seed: 1)
    /// ```
    public func randomSplit(sizes: [Int], seed: UInt64) -> [TensorDataset] {
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == count,
                     "randomSplit: sizes \(sizes) must be non-negative and add up to \(count)")
        var rng = SeededGenerator(seed: seed)
        let order = randomPermutation(count, generator: &rng)
        var parts: [TensorDataset] = []
        var start = 0
        for size in sizes {
            parts.append(subset(Array(order[start..<start + size])))
            start += size
        }
        return parts
    }

    /// A shuffled train/validation split; the validation part has
    /// `round(count * validationFraction)` examples.
    ///
    /// ```swift
    /// let (train, validation) = data.trainValidationSplit(validationFraction: 0.2, seed: 1)
    /// ```
    public func trainValidationSplit(validationFraction: Double, seed: UInt64) -> (train: TensorDataset, validation: TensorDataset) {
        precondition(validationFraction >= 0 && validationFraction < 1,
                     "trainValidationSplit: fraction \(validationFraction) must be in [0, 1)")
        let v = Int((Double(count) * validationFraction).rounded())
        let parts = randomSplit(sizes: [count - v, v], seed: seed)
        return (parts[0], parts[1])
    }
}

// MARK: - Standardisation and one-hot

/// Per-feature standardisation, `(x - mean) / std`, fitted on training data
/// and applied unchanged to validation and test data (fit on the training
/// split only, or the validation score leaks information).
///
/// ```swift
/// let scaler = Standardizer(fitting: train.features)
/// let x = scaler.apply(validation.features)
/// ```
public struct Standardizer: Equatable, Sendable {
    /// Per-feature mean (features flattened after the first axis).
    public var mean: [Double]
    /// Per-feature population standard deviation; a constant feature gets 1.
    public var std: [Double]

    /// A standardizer with known statistics, one mean and deviation per feature.
    ///
    /// ```swift
    /// let scaler = Standardizer(mean: [2, 10], std: [1, 5])
    /// scaler.apply(Tensor<Float>([[3, 0]]))   // [[1.0, -2.0]]
    /// ```
    public init(mean: [Double], std: [Double]) {
        precondition(mean.count == std.count, "Standardizer: \(mean.count) means, \(std.count) deviations")
        self.mean = mean
        self.std = std
    }

    /// Fits mean and standard deviation over the first axis of `features`.
    public init<Scalar: TensorScalar>(fitting features: Tensor<Scalar>) {
        let n = features.shape.first ?? 0
        let d = features.shape.dropFirst().reduce(1, *)
        var sum = [Double](repeating: 0, count: d)
        var sumSq = [Double](repeating: 0, count: d)
        features.withUnsafeBufferPointer { x in
            for i in 0..<n {
                for j in 0..<d { sum[j] += Double(x[i * d + j]) }
            }
            let m = sum.map { $0 / Double(max(n, 1)) }
            for i in 0..<n {
                for j in 0..<d { let c = Double(x[i * d + j]) - m[j]; sumSq[j] += c * c }
            }
        }
        mean = sum.map { $0 / Double(max(n, 1)) }
        std = sumSq.map { s in
            let v = (s / Double(max(n, 1))).squareRoot()
            return v > 1e-12 ? v : 1
        }
    }

    /// `(x - mean) / std` per feature.
    public func apply<Scalar: TensorScalar>(_ features: Tensor<Scalar>) -> Tensor<Scalar> {
        let d = mean.count
        precondition(features.shape.dropFirst().reduce(1, *) == d,
                     "Standardizer.apply: features \(features.shape) do not have \(d) values per example")
        let storage = TensorStorage<Scalar>.make(uninitializedCount: features.count)
        let out = storage.base
        let m: [Scalar] = mean.map { Scalar($0) }
        let s: [Scalar] = std.map { Scalar(1 / $0) }
        features.withUnsafeBufferPointer { x in
            for i in 0..<(features.count / max(d, 1)) {
                for j in 0..<d {
                    let centred: Scalar = x[i * d + j] - m[j]
                    out[i * d + j] = centred * s[j]
                }
            }
        }
        return Tensor(storage: storage, shape: features.shape)
    }
}

/// One-hot rows: `[n, classCount]` with a 1 in each row at the class index.
///
/// ```swift
/// oneHot([2, 0], classCount: 3) as Tensor<Float>   // [[0, 0, 1], [1, 0, 0]]
/// ```
public func oneHot<Scalar: TensorScalar>(_ classIndices: [Int], classCount: Int, as _: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    var values = [Scalar](repeating: 0, count: classIndices.count * classCount)
    for (i, c) in classIndices.enumerated() {
        precondition(c >= 0 && c < classCount, "oneHot: class \(c) out of range 0..<\(classCount)")
        values[i * classCount + c] = 1
    }
    return Tensor(shape: [classIndices.count, classCount], scalars: values)
}

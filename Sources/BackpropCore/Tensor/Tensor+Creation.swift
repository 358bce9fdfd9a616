extension Tensor {
    /// A tensor of zeros.
    ///
    /// ```swift
    /// let z = Tensor<Float>.zeros([2, 3])
    /// ```
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(storage: TensorStorage.make(zeroedCount: Shape.count(shape)), shape: shape)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Scalar) -> Tensor { Tensor(repeating: value, shape: shape) }

    /// Zeros in the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// Ones in the shape of `other`.
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// The identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        let t = zeros([n, n])
        for i in 0..<n { t.base[i * n + i] = 1 }
        return t
    }

    /// start, start + step, ... up to but excluding `end`, like `torch.arange`.
    ///
    /// ```swift
    /// Tensor<Float>.arange(0, 1, step: 0.25)   // [0, 0.25, 0.5, 0.75]
    /// ```
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n], scalars: (0..<n).map { start + Scalar($0) * step })
    }

    /// 0, 1, ..., end - 1.
    public static func arange(_ end: Int) -> Tensor { arange(0, Scalar(end)) }

    /// `count` evenly spaced values from `start` to `end`, both included.
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: count must not be negative")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(count - 1)
        return Tensor(shape: [count], scalars: (0..<count).map { $0 == count - 1 ? end : start + Scalar($0) * step })
    }

    /// Normal samples with the given mean and standard deviation.
    /// The values are computed in `Double` and rounded, so a seed gives the
    /// same tensor on every platform.
    public static func randomNormal<G: RandomNumberGenerator>(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1,
                                                              generator: inout G) -> Tensor {
        let n = Shape.count(shape)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        for i in 0..<n {
            storage.base[i] = Scalar(Double(mean) + Double(std) * generator.nextNormal())
        }
        return Tensor(storage: storage, shape: shape)
    }

    /// Normal samples from the global generator (see ``GlobalRandom``).
    public static func randomNormal(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1) -> Tensor {
        GlobalRandom.with { randomNormal(shape, mean: mean, std: std, generator: &$0) }
    }

    /// Uniform samples in [low, high).
    ///
    /// ```swift
    /// var rng = SeededGenerator(seed: 1)
    /// let u = Tensor<Double>.randomUniform([4], low: -1, high: 1, generator: &rng)
    /// ```
    public static func randomUniform<G: RandomNumberGenerator>(_ shape: [Int], low: Scalar = 0, high: Scalar = 1,
                                                               generator: inout G) -> Tensor {
        let n = Shape.count(shape)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        let lo = Double(low), width = Double(high) - Double(low)
        for i in 0..<n {
            storage.base[i] = Scalar(lo + width * generator.nextUnit())
        }
        return Tensor(storage: storage, shape: shape)
    }

    /// Uniform samples from the global generator.
    public static func randomUniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1) -> Tensor {
        GlobalRandom.with { randomUniform(shape, low: low, high: high, generator: &$0) }
    }
}

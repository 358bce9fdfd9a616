import BackpropCore
/// Small synthetic tasks for trying a network in seconds. Every generator is
/// deterministic for a seed.
///
/// ```swift
/// let moons = Synthetic.twoMoons(count: 500, noise: 0.1, seed: 1)     // 2 features, 2 classes
/// let spirals = Synthetic.spirals(count: 300, classes: 3, seed: 1)    // 2 features, 3 classes
/// let sine = Synthetic.sine(count: 256, noise: 0.05, seed: 1)         // x in [-pi, pi], y = sin x
/// ```
public enum Synthetic {
    /// Regression: `x ~ U(-pi, pi)`, `y = sin(x) + noise * N(0, 1)`; features and targets `[count, 1]`.
    public static func sine(count: Int, noise: Double = 0.05, seed: UInt64 = 0) -> TensorDataset<Float> {
        var rng = SeededGenerator(seed: seed)
        var x: [Float] = [], y: [Float] = []
        for _ in 0..<count {
            let v = (rng.nextUnit() * 2 - 1) * Double.pi
            x.append(Float(v))
            y.append(Float(Double.sin(v) + noise * rng.nextNormal()))
        }
        return TensorDataset(features: Tensor(shape: [count, 1], scalars: x),
                             targets: Tensor(shape: [count, 1], scalars: y), featureNames: ["x"])
    }

    /// Two interleaving half circles (scikit-learn's `make_moons`): the upper
    /// one `(cos t, sin t)`, the lower `(1 - cos t, 0.5 - sin t)`, `t` in [0, pi],
    /// plus Gaussian noise. Classes alternate, so each has half the points.
    public static func twoMoons(count: Int, noise: Double = 0.1, seed: UInt64 = 0) -> TensorDataset<Float> {
        var rng = SeededGenerator(seed: seed)
        var x: [Float] = [], classes: [Int] = []
        for i in 0..<count {
            let c = i % 2
            let t = rng.nextUnit() * Double.pi
            let (a, b) = c == 0 ? (Double.cos(t), Double.sin(t)) : (1 - Double.cos(t), 0.5 - Double.sin(t))
            x.append(Float(a + noise * rng.nextNormal()))
            x.append(Float(b + noise * rng.nextNormal()))
            classes.append(c)
        }
        return TensorDataset(features: Tensor(shape: [count, 2], scalars: x), classes: classes, classCount: 2)
    }

    /// `classes` interleaved spiral arms (the CS231n spiral): point `i` of arm
    /// `k` has radius `r = i/n` and angle `4k + 4r + noise * N(0, 1)` radians,
    /// at `(r sin angle, r cos angle)`.
    public static func spirals(count: Int, classes: Int = 3, noise: Double = 0.2, seed: UInt64 = 0) -> TensorDataset<Float> {
        precondition(classes >= 2, "spirals: need at least 2 classes")
        var rng = SeededGenerator(seed: seed)
        var x: [Float] = [], labels: [Int] = []
        let perClass = max(1, count / classes)
        for i in 0..<count {
            let k = i % classes
            let j = i / classes
            let r = Double(j) / Double(max(perClass - 1, 1))
            let angle = Double(k) * 4 + r * 4 + noise * rng.nextNormal()
            x.append(Float(r * Double.sin(angle)))
            x.append(Float(r * Double.cos(angle)))
            labels.append(k)
        }
        return TensorDataset(features: Tensor(shape: [count, 2], scalars: x), classes: labels, classCount: classes)
    }

    /// Gaussian blobs (scikit-learn's `make_blobs`): `classes` centres drawn
    /// uniformly in [-10, 10]^features, points `centre + std * N(0, I)`.
    public static func blobs(count: Int, classes: Int = 3, features: Int = 2, std: Double = 1,
                             seed: UInt64 = 0) -> TensorDataset<Float> {
        var rng = SeededGenerator(seed: seed)
        let centres = (0..<classes).map { _ in (0..<features).map { _ in rng.nextUnit() * 20 - 10 } }
        var x: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            let k = i % classes
            for f in 0..<features { x.append(Float(centres[k][f] + std * rng.nextNormal())) }
            labels.append(k)
        }
        return TensorDataset(features: Tensor(shape: [count, features], scalars: x), classes: labels, classCount: classes)
    }
}

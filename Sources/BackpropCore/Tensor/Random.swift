import RealModule
import Synchronization

/// A seedable random number generator (xoshiro256**, seeded through
/// SplitMix64) that gives the same sequence on every platform.
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let w = Tensor<Float>.randomNormal([3, 2], generator: &rng)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is fixed by `seed`.
    ///
    /// ```swift
    /// var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
    /// a.next() == b.next()   // true
    /// ```
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform integer in `0..<bound`.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt: bound must be positive")
        return Int(next(upperBound: UInt64(bound)))
    }
}

/// The generator used when none is passed, like `torch.manual_seed`.
public enum GlobalRandom {
    private static let generator = Mutex(SeededGenerator(seed: 0))

    /// Reseeds the global generator.
    public static func seed(_ seed: UInt64) { generator.withLock { $0 = SeededGenerator(seed: seed) } }

    package static func with<R>(_ body: (inout SeededGenerator) -> R) -> R { generator.withLock { body(&$0) } }
}

extension RandomNumberGenerator {
    /// A uniform Double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal Double (Box-Muller, one draw per call, so that a
    /// sequence does not depend on how many values were asked for before).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUnit()   // (0, 1]
        let u2 = nextUnit()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * .pi * u2)
    }
}

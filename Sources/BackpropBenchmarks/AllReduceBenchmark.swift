import Backprop

/// Times the all-reduce of gradients across a ``ProcessGroup``: what
/// `mpirun -np N backprop bench --allreduce 203530,420000` prints.
///
/// Each measurement is the median over repeats of the slowest rank's time
/// (every rank waits for the slowest anyway), after a barrier and warm-up;
/// then the results of ``averageGradients(of:in:)`` and
/// ``broadcastParameters(of:from:in:)`` are checked (a wrong value throws).
///
/// ```swift
/// let group = try ProcessGroup.world
/// let r = try AllReduceBenchmark.measure(count: 203_530, in: group)
/// if group.rank == 0 { print(r.medianSeconds) }
/// ```
public enum AllReduceBenchmark {
    /// One size's timings.
    public struct Result: Sendable {
        /// Floats reduced.
        public var count: Int
        /// Median seconds of one all-reduce (sum, in place), slowest rank.
        public var medianSeconds: Double
        /// Fastest repeat, slowest rank.
        public var minSeconds: Double
        /// Median seconds of ``averageGradients(of:in:)`` on a model with `count`
        /// parameters (packing into one buffer, the all-reduce, unpacking), slowest rank.
        public var averageGradientsSeconds: Double
        /// Repeats timed.
        public var repeats: Int
    }

    /// Times an all-reduce of `count` floats for about `seconds` (at least 10 repeats).
    ///
    /// ```swift
    /// let r = try AllReduceBenchmark.measure(count: 420_000, in: group, seconds: 1)
    /// ```
    public static func measure(count: Int, in group: ProcessGroup, seconds: Double = 1) throws(DistributedError) -> Result {
        precondition(count > 0, "AllReduceBenchmark.measure: count must be positive, got \(count)")
        var buffer = [Float](repeating: 1, count: count)
        let clock = ContinuousClock()
        func elapsed(_ start: ContinuousClock.Instant) -> Double {
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        // The number of repeats comes from rank 0's warm-up, so that every rank runs the same count.
        try group.barrier()
        let warmStart = clock.now
        for _ in 0..<3 { try buffer.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try group.allReduce(b, .sum) } }
        var plan = [Double(max(10, Int(seconds / max(elapsed(warmStart) / 3, 1e-6))))]
        try plan.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try group.broadcast(b, from: 0) }
        let repeats = min(Int(plan[0]), 10_000)

        func timed(_ body: () throws(DistributedError) -> Void) throws(DistributedError) -> [Double] {
            var times = [Double](repeating: 0, count: repeats)
            for i in 0..<repeats {
                try group.barrier()
                let start = clock.now
                try body()
                times[i] = elapsed(start)
            }
            try times.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try group.allReduce(b, .max) }
            return times.sorted()
        }
        let raw = try timed { () throws(DistributedError) in
            try buffer.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try group.allReduce(b, .sum) }
        }
        // A model with `count` parameters, every one with a gradient.
        let weight = Tensor<Float>(shape: [count], scalars: [Float](repeating: 0, count: count), requiresGrad: true)
        weight.grad = Tensor<Float>(shape: [count], scalars: [Float](repeating: 1, count: count))
        let model = Parameters(weight: weight)
        let averaged = try timed { () throws(DistributedError) in try averageGradients(of: model, in: group) }
        try check(model, in: group)
        return Result(count: count, medianSeconds: raw[repeats / 2], minSeconds: raw[0],
                      averageGradientsSeconds: averaged[repeats / 2], repeats: repeats)
    }

    /// Checks the values, so that a timing is never of a wrong result: rank r's
    /// gradient is r + 1 everywhere, whose mean over N ranks is (N + 1) / 2; a
    /// broadcast from the last rank gives its parameters to every rank.
    static func check(_ model: any Module<Float>, in group: ProcessGroup) throws(DistributedError) {
        let n = model.parameterCount
        let mine = Float(group.rank + 1)
        for p in model.parameters() { p.grad = Tensor(shape: p.shape, scalars: [Float](repeating: mine, count: p.count)) }
        try averageGradients(of: model, in: group)
        let mean = Float(group.size + 1) / 2
        for p in model.parameters() where p.grad!.scalars.contains(where: { $0 != mean }) {
            throw DistributedError("averageGradients of \(n) values gave \(p.grad!.scalars.first { $0 != mean }!), not \(mean)")
        }
        let filled = model.namedParameters().map { ($0.name, Tensor<Float>(shape: $0.tensor.shape, scalars: [Float](repeating: mine, count: $0.tensor.count))) }
        try! model.loadStateDict(Dictionary(uniqueKeysWithValues: filled))   // the names and shapes are the model's own
        try broadcastParameters(of: model, from: group.size - 1, in: group)
        let last = Float(group.size)
        for p in model.parameters() where p.scalars.contains(where: { $0 != last }) {
            throw DistributedError("broadcastParameters from rank \(group.size - 1) gave other values than \(last)")
        }
        try checkCollectives(in: group)
    }

    /// Checks the process group's own collectives on tensors and bytes against values
    /// worked out by hand: rank r holds [r + 1, -(r + 1), r] (N ranks).
    static func checkCollectives(in group: ProcessGroup) throws(DistributedError) {
        let n = Float(group.size), r = Float(group.rank)
        let t = Tensor<Float>([r + 1, -(r + 1), r])
        let expected: [(ReduceOp, String, [Float])] = [
            (.sum, "sum", [n * (n + 1) / 2, -n * (n + 1) / 2, n * (n - 1) / 2]),
            (.average, "average", [(n + 1) / 2, -(n + 1) / 2, (n - 1) / 2]),
            (.min, "min", [1, -n, 0]),
            (.max, "max", [n, -1, n - 1]),
        ]
        for (op, name, values) in expected {
            let got = try group.allReduce(t, op).scalars
            guard got == values else { throw DistributedError("allReduce(.\(name)) of a tensor gave \(got), not \(values)") }
        }
        let doubles = try group.allReduce(Tensor<Double>([Double(r)]), .sum).scalars
        guard doubles == [Double(n * (n - 1) / 2)] else { throw DistributedError("allReduce of a Double tensor gave \(doubles)") }
        try group.barrier()
        let root = group.size - 1
        let b = try group.broadcast(t, from: root).scalars
        guard b == [n, -n, n - 1] else { throw DistributedError("broadcast of a tensor from rank \(root) gave \(b)") }
        let ranks = try group.allGather(UInt64(group.rank))
        guard ranks == (0..<group.size).map(UInt64.init) else { throw DistributedError("allGather of the ranks gave \(ranks)") }
        // Bytes: only the root's count and contents matter (rank 0 sends a checkpoint this way).
        let sent = group.rank == root ? (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) } : [UInt8](repeating: 9, count: group.rank)
        let got = try group.broadcast(bytes: sent, from: root)
        guard got == (0..<1000).map({ UInt8(truncatingIfNeeded: $0 * 7) }) else {
            throw DistributedError("broadcast(bytes:) from rank \(root) gave \(got.count) bytes, not rank \(root)'s 1000")
        }
        try group.checkAgreement("same on every rank", what: "a constant text")
    }

    /// A module that is one parameter vector.
    private final class Parameters: Module {
        var weight: Tensor<Float>
        var isTraining = true
        init(weight: Tensor<Float>) { self.weight = weight }
        func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x }
    }
}

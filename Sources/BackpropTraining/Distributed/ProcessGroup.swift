import BackpropCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a collective operation or the start of a distributed run failed.
///
/// ```swift
/// do { try group.barrier() } catch { print(error) }   // "barrier failed: MPI_ERR_... (MPI error 15)"
/// ```
public struct DistributedError: Error, CustomStringConvertible, Sendable {
    /// One line, naming the operation or the ranks concerned.
    public let description: String

    /// An error with the given message.
    ///
    /// ```swift
    /// throw DistributedError("rank 1 disagrees")
    /// ```
    public init(_ description: String) { self.description = description }
}

/// How ``ProcessGroup/allReduce(_:_:)`` combines the ranks' values, as
/// PyTorch's `torch.distributed.ReduceOp`.
///
/// ```swift
/// let total = try group.allReduce(Tensor<Float>([1, 2]), .sum)   // on 2 ranks: [2, 4]
/// ```
public enum ReduceOp: Sendable {
    /// The elementwise sum over ranks.
    case sum
    /// The elementwise sum divided by the number of ranks.
    case average
    /// The elementwise maximum over ranks.
    case max
    /// The elementwise minimum over ranks.
    case min
}

/// The processes that train one model together, like PyTorch's
/// `torch.distributed` process group: each has a ``rank`` in `0..<size`.
///
/// ``world`` is every process that `mpirun` started (Open MPI, loaded at run
/// time); outside `mpirun`, or with one process, it is ``single``, whose
/// operations do nothing, so the same code runs on one process or many:
///
/// ```swift
/// let group = try ProcessGroup.world          // mpirun -np 4 ... : size 4
/// try broadcastParameters(of: model, in: group)
/// for batch in myShard {
///     optimizer.zeroGrad()
///     loss(model(batch.features), batch).backward()
///     try averageGradients(of: model, in: group)   // one all-reduce of all gradients
///     optimizer.step()
/// }
/// if group.rank == 0 { try checkpoint.save(to: path) }
/// ```
///
/// Operations are collective: every rank must call the same ones in the same
/// order with buffers of the same size, or they wait for each other. A failure
/// is a thrown ``DistributedError`` (MPI's error handler is set to return
/// errors); after one, the group is unusable and ``abort(code:)`` stops every
/// rank. A collective that waits longer than `BACKPROP_MPI_TIMEOUT` seconds
/// (600 by default; 0: forever) ends the process with a message, and `mpirun`
/// then ends the job: a rank that stops responding never hangs the others.
public final class ProcessGroup: Sendable {
    /// This process's index, in `0..<size`.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    let mpi: MPILibrary?
    let watchdog: CollectiveWatchdog?
    /// A buffer kept between steps for ``reduceGradients``: a fresh one each step costs page
    /// faults and lets MPI see new memory every time.
    private let scratch = ScratchBuffer()

    private init(rank: Int, size: Int, mpi: MPILibrary?, watchdog: CollectiveWatchdog? = nil) {
        self.rank = rank
        self.size = size
        self.mpi = mpi
        self.watchdog = watchdog
    }

    /// `true` when there is more than one process.
    ///
    /// ```swift
    /// ProcessGroup.single.isDistributed   // false
    /// ```
    public var isDistributed: Bool { size > 1 }

    /// One process alone: rank 0 of 1; every operation returns its input.
    ///
    /// ```swift
    /// try ProcessGroup.single.allReduce(Tensor<Float>([1, 2]), .sum)   // [1, 2]
    /// ```
    public static let single = ProcessGroup(rank: 0, size: 1, mpi: nil)

    /// Every process of the job: under `mpirun` with several processes, the
    /// group of `MPI_COMM_WORLD` (libmpi is loaded and initialised on first use,
    /// and finalised at exit); otherwise ``single``, and libmpi is never loaded.
    ///
    /// Throws when `mpirun` started several processes but Open MPI cannot be
    /// loaded or initialised.
    ///
    /// ```swift
    /// let group = try ProcessGroup.world
    /// if group.rank == 0 { print("training on \(group.size) processes") }
    /// ```
    public static var world: ProcessGroup {
        get throws(DistributedError) { try worldResult.get() }
    }

    private static let worldResult: Result<ProcessGroup, DistributedError> = {
        guard let launch = MPILaunch.detect(environment: { getenv($0).map { String(cString: $0) } }),
              launch.size != 1 else { return .success(.single) }
        return MPILibrary.load().flatMap { mpi in
            Result { () throws(DistributedError) in try ProcessGroup(initializing: mpi, expectedSize: launch.size) }
        }
    }()

    private convenience init(initializing mpi: MPILibrary, expectedSize: Int?) throws(DistributedError) {
        var flag: Int32 = 0
        try mpi.check(mpi.initialized(&flag), "MPI_Initialized")
        if flag == 0 { try mpi.check(mpi.initialize(nil, nil), "MPI_Init") }
        // Errors become return codes (then DistributedError) instead of MPI's default: abort the job.
        try mpi.check(mpi.commSetErrhandler(mpi.commWorld, mpi.errorsReturn), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try mpi.check(mpi.commRank(mpi.commWorld, &rank), "MPI_Comm_rank")
        try mpi.check(mpi.commSize(mpi.commWorld, &size), "MPI_Comm_size")
        if let expectedSize, expectedSize != Int(size) {
            throw DistributedError("mpirun started \(expectedSize) processes but MPI_COMM_WORLD has \(size)")
        }
        self.init(rank: Int(rank), size: Int(size), mpi: mpi,
                  watchdog: CollectiveWatchdog(rank: Int(rank), size: Int(size), environment: { getenv($0).map { String(cString: $0) } }))
        if flag == 0 { atexit { ProcessGroup.finalizeWorld() } }
    }

    /// At exit: a barrier under the watchdog, then `MPI_Finalize`. `MPI_Finalize` waits for every
    /// rank; if another rank is still inside a collective operation (the ranks went out of step) or
    /// stopped responding, it would spin forever. The barrier bounds that wait by
    /// `BACKPROP_MPI_TIMEOUT` and says why this rank stops.
    private static func finalizeWorld() {
        guard case .success(let group) = worldResult, let mpi = group.mpi else { return }
        var done: Int32 = 0
        guard mpi.finalized(&done) == 0 && done == 0 else { return }
        let barrier: Int32
        if let watchdog = group.watchdog {
            barrier = watchdog.guarding(.finalizing) { mpi.barrier(mpi.commWorld) }
        } else {
            barrier = mpi.barrier(mpi.commWorld)
        }
        if barrier == 0 { _ = mpi.finalize() }
    }

    /// The rank that must be at fault when this one waits in vain: with two
    /// ranks, the other one; otherwise "one of ranks ...".
    static func otherRanks(than rank: Int, size: Int) -> String {
        let others = (0..<size).filter { $0 != rank }
        if others.count == 1 { return "rank \(others[0])" }
        if others.count <= 8 { return "one of ranks " + others.map(String.init).joined(separator: ", ") }
        return "one of the other \(others.count) ranks"
    }

    /// Waits until every rank has called `barrier()`.
    ///
    /// ```swift
    /// try group.barrier()
    /// ```
    public func barrier() throws(DistributedError) {
        guard let mpi, isDistributed else { return }
        try mpi.check(guarded { mpi.barrier(mpi.commWorld) }, "barrier")
    }

    /// Combines `buffer` elementwise over all ranks, in place: afterwards every
    /// rank holds the same result.
    ///
    /// ```swift
    /// var g: [Float] = [1, 2, 3]
    /// try g.withUnsafeMutableBufferPointer { try group.allReduce($0, .average) }
    /// ```
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func allReduce<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>,
                                                _ op: ReduceOp = .sum) throws(DistributedError) {
        guard let mpi, isDistributed, let base = buffer.baseAddress, !buffer.isEmpty else { return }
        let type = datatype(Scalar.self, mpi)
        let mpiOp: MPILibrary.Handle = switch op {
        case .sum, .average: mpi.sum
        case .max: mpi.max
        case .min: mpi.min
        }
        for start in stride(from: 0, to: buffer.count, by: Self.chunk) {
            let n = Swift.min(Self.chunk, buffer.count - start)
            try mpi.check(guarded { mpi.allreduce(MPILibrary.inPlace, base + start, Int32(n), type, mpiOp, mpi.commWorld) },
                          "all-reduce of \(buffer.count) \(Scalar.dtypeName) values")
        }
        if op == .average {
            let scale = 1 / Scalar(size)
            for i in buffer.indices { buffer[i] *= scale }
        }
    }

    /// The elementwise combination of `tensor` over all ranks, as a new tensor
    /// of the same shape (PyTorch's `dist.all_reduce`, which works in place).
    ///
    /// ```swift
    /// let mean = try group.allReduce(localMean, .average)
    /// ```
    public func allReduce<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, _ op: ReduceOp = .sum) throws(DistributedError) -> Tensor<Scalar> {
        guard isDistributed else { return tensor }
        var values = tensor.scalars
        try values.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try allReduce(b, op) }
        return Tensor(shape: tensor.shape, scalars: values)
    }

    /// Copies `buffer` of rank `root` into `buffer` of every other rank.
    ///
    /// ```swift
    /// var seed: [Double] = [group.rank == 0 ? 42 : 0]
    /// try seed.withUnsafeMutableBufferPointer { try group.broadcast($0, from: 0) }   // [42] everywhere
    /// ```
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func broadcast<Scalar: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<Scalar>, from root: Int = 0) throws(DistributedError) {
        precondition((0..<size).contains(root), "broadcast: root \(root) is not a rank of a group of \(size)")
        guard let mpi, isDistributed, let base = buffer.baseAddress, !buffer.isEmpty else { return }
        let type = datatype(Scalar.self, mpi)
        for start in stride(from: 0, to: buffer.count, by: Self.chunk) {
            let n = Swift.min(Self.chunk, buffer.count - start)
            try mpi.check(guarded { mpi.bcast(base + start, Int32(n), type, Int32(root), mpi.commWorld) },
                          "broadcast of \(buffer.count) \(Scalar.dtypeName) values from rank \(root)")
        }
    }

    /// Rank `root`'s `tensor`, on every rank (PyTorch's `dist.broadcast`).
    /// Every rank must pass a tensor of the same shape.
    ///
    /// ```swift
    /// let w = try group.broadcast(localW, from: 0)
    /// ```
    public func broadcast<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, from root: Int = 0) throws(DistributedError) -> Tensor<Scalar> {
        guard isDistributed else { return tensor }
        var values = tensor.scalars
        try values.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in try broadcast(b, from: root) }
        return Tensor(shape: tensor.shape, scalars: values)
    }

    /// Rank `root`'s `bytes` on every rank (the other ranks' `bytes` are
    /// ignored: pass `[]`): the size first, then the bytes. A distributed run
    /// uses it to send the checkpoint it resumes from, so that only rank 0 needs
    /// the file.
    ///
    /// ```swift
    /// let file = try group.broadcast(bytes: group.rank == 0 ? FileIO.readBytes(path: "ck.safetensors") : [])
    /// ```
    public func broadcast(bytes: [UInt8], from root: Int = 0) throws(DistributedError) -> [UInt8] {
        precondition((0..<size).contains(root), "broadcast(bytes:): root \(root) is not a rank of a group of \(size)")
        guard let mpi, isDistributed else { return bytes }
        var count = UInt64(rank == root ? bytes.count : 0)
        try mpi.check(guarded { mpi.bcast(&count, 1, mpi.uint64, Int32(root), mpi.commWorld) },
                      "broadcast of a byte count from rank \(root)")
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        try out.withUnsafeMutableBufferPointer { (b) throws(DistributedError) in
            guard let base = b.baseAddress else { return }
            for start in stride(from: 0, to: b.count, by: Self.chunk) {
                let n = Swift.min(Self.chunk, b.count - start)
                try mpi.check(guarded { mpi.bcast(base + start, Int32(n), mpi.byte, Int32(root), mpi.commWorld) },
                              "broadcast of \(b.count) bytes from rank \(root)")
            }
        }
        return out
    }

    /// Every rank's `value`, indexed by rank.
    ///
    /// ```swift
    /// let all = try group.allGather(UInt64(group.rank))   // [0, 1, 2, 3] on 4 ranks
    /// ```
    public func allGather(_ value: UInt64) throws(DistributedError) -> [UInt64] {
        guard let mpi, isDistributed else { return [value] }
        var mine = value
        var all = [UInt64](repeating: 0, count: size)
        try all.withUnsafeMutableBufferPointer { (out) throws(DistributedError) in
            try mpi.check(guarded { mpi.allgather(&mine, 1, mpi.uint64, UnsafeMutableRawPointer(out.baseAddress), 1, mpi.uint64, mpi.commWorld) },
                          "all-gather")
        }
        return all
    }

    /// Checks that every rank passes the same `description` (compared by a
    /// 64-bit hash), so that ranks started with different models, options or
    /// data stop at once with a clear error instead of hanging or training
    /// different things. `what` names the description in the error.
    ///
    /// ```swift
    /// try group.checkAgreement(spec.json + options, what: "model and options")
    /// // rank 1: model and options differ from rank 0's (hash 5c1e... vs 90ab...)
    /// ```
    public func checkAgreement(_ description: String, what: String) throws(DistributedError) {
        guard isDistributed else { return }
        let hashes = try allGather(Self.stableHash(description))
        if let other = hashes.indices.first(where: { hashes[$0] != hashes[0] }) {
            throw DistributedError("\(what) differ between ranks: rank \(other) has hash \(Self.hex(hashes[other])), "
                                   + "rank 0 has \(Self.hex(hashes[0])); run the same binary with the same arguments and data on every rank")
        }
    }

    /// Stops every process of the job with exit status `code` (`MPI_Abort`);
    /// on ``single``, exits this process.
    ///
    /// ```swift
    /// group.abort(code: 1)
    /// ```
    public func abort(code: Int32 = 1) -> Never {
        if let mpi, isDistributed { _ = mpi.abort(mpi.commWorld, code) }
        exit(code)
    }

    /// Runs `body` on this group's scratch buffer of at least `count` elements.
    func withScratch<Scalar, R>(count: Int, of _: Scalar.Type,
                                _ body: (UnsafeMutableBufferPointer<Scalar>) throws(DistributedError) -> R) throws(DistributedError) -> R {
        let bytes = count * MemoryLayout<Scalar>.stride
        if scratch.buffer.count < bytes {
            scratch.buffer.deallocate()
            scratch.buffer = .allocate(byteCount: bytes, alignment: 64)
        }
        let typed = scratch.buffer.bindMemory(to: Scalar.self)
        return try body(UnsafeMutableBufferPointer(rebasing: typed[0..<count]))
    }

    /// An MPI call under the watchdog's deadline (see ``CollectiveWatchdog``).
    private func guarded(_ call: () -> Int32) -> Int32 {
        guard let watchdog else { return call() }
        return watchdog.guarding(.collective, call)
    }

    /// The most elements passed to one MPI call (MPI counts are `int`).
    static let chunk = 1 << 30

    private func datatype<Scalar: TensorScalar>(_: Scalar.Type, _ mpi: MPILibrary) -> MPILibrary.Handle {
        (Scalar.self as! any MPIScalar.Type).datatype(in: mpi)
    }

    /// FNV-1a, 64 bits. Swift's `Hasher` is seeded anew in every process, so it
    /// cannot compare values across processes.
    static func stableHash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }

    /// ``stableHash(_:)`` of raw bytes (FNV-1a over 8-byte words, for speed on large data).
    static func stableHash(bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = bytes.count / 8
        for i in 0..<words { h = (h ^ bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x100_0000_01b3 }
        for i in (words * 8)..<bytes.count { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        return h
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// Memory reused by every step's gradient all-reduce.
// @unchecked: MPI is initialised for one thread (`MPI_Init`, MPI_THREAD_SINGLE), so a group's
// collective operations, and this buffer with them, are used by one thread at a time.
final class ScratchBuffer: @unchecked Sendable {
    var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    deinit { buffer.deallocate() }
}

/// The element types MPI reduces: Open MPI's predefined datatype of each.
protocol MPIScalar {
    static func datatype(in mpi: MPILibrary) -> MPILibrary.Handle
}

extension Float: MPIScalar {
    static func datatype(in mpi: MPILibrary) -> MPILibrary.Handle { mpi.float }
}

extension Double: MPIScalar {
    static func datatype(in mpi: MPILibrary) -> MPILibrary.Handle { mpi.double }
}

/// What the environment says about how this process was started.
struct MPILaunch: Equatable {
    /// The number of processes `mpirun` started, or `nil` when the launcher
    /// does not say (a PMIx launcher without Open MPI's variables).
    var size: Int?

    /// `nil` when the process was not started by `mpirun`: Open MPI sets
    /// `OMPI_COMM_WORLD_SIZE`, and PMIx launchers set `PMIX_RANK`.
    static func detect(environment: (String) -> String?) -> MPILaunch? {
        if let s = environment("OMPI_COMM_WORLD_SIZE") { return MPILaunch(size: Int(s)) }
        if environment("PMIX_RANK") != nil { return MPILaunch(size: nil) }
        return nil
    }
}

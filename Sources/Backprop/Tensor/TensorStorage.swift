import Synchronization

/// A contiguous buffer of scalars, shared by tensors that are views of the
/// same data (a reshape, a detached copy). Freed buffers go back to a small
/// per-size cache, because a training step allocates the same sizes again and
/// again and `malloc` of large blocks is costly (page faults on fresh memory).
final class TensorStorage<Scalar: TensorScalar> {
    let base: UnsafeMutablePointer<Scalar>
    let count: Int

    /// Uninitialised storage for `count` scalars.
    init(uninitializedCount count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Scalar>.stride
        base = BufferCache.shared.take(bytes: bytes).bindMemory(to: Scalar.self, capacity: max(count, 1))
    }

    /// Zero-filled storage.
    convenience init(zeroedCount count: Int) {
        self.init(uninitializedCount: count)
        base.update(repeating: 0, count: count)
    }

    /// A copy of `count` scalars at `source`.
    convenience init(copying source: UnsafePointer<Scalar>, count: Int) {
        self.init(uninitializedCount: count)
        base.update(from: source, count: count)
    }

    deinit {
        BufferCache.shared.give(UnsafeMutableRawPointer(base), bytes: max(count, 1) * MemoryLayout<Scalar>.stride)
    }
}

/// Keeps a few freed buffers per exact byte size for reuse. Only sizes of at
/// least `minimumBytes` are cached: small blocks are cheap for malloc already.
final class BufferCache: Sendable {
    static let shared = BufferCache()
    static let minimumBytes = 4096
    static let perSize = 8
    static let totalLimit = 512 << 20

    private struct State: ~Copyable {
        var free: [Int: [UInt]] = [:]  // addresses, so that the state is Sendable
        var cachedBytes = 0
    }
    private let state = Mutex(State())

    func take(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= Self.minimumBytes,
           let address = state.withLock({ s -> UInt? in
               guard let a = s.free[bytes]?.popLast() else { return nil }
               s.cachedBytes -= bytes
               return a
           }), let p = UnsafeMutableRawPointer(bitPattern: address) {
            return p
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    func give(_ p: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= Self.minimumBytes {
            let address = UInt(bitPattern: p)
            let kept = state.withLock { s -> Bool in
                guard s.cachedBytes + bytes <= Self.totalLimit, s.free[bytes, default: []].count < Self.perSize else { return false }
                s.free[bytes, default: []].append(address)
                s.cachedBytes += bytes
                return true
            }
            if kept { return }
        }
        p.deallocate()
    }
}

import Synchronization

/// A contiguous buffer of scalars, shared by tensors that are views of the
/// same data (a reshape, a detached copy).
///
/// Small buffers live in the object's own tail allocation: one malloc per
/// tensor instead of two, which matters when a training step of a small
/// network is a few dozen tiny ops. Large buffers come from ``BufferCache``,
/// because a training step allocates the same large sizes again and again and
/// fresh memory costs page faults.
package final class TensorStorage<Scalar: TensorScalar>: ManagedBuffer<TensorStorage<Scalar>.Header, Scalar> {
    package struct Header {
        package let base: UnsafeMutablePointer<Scalar>
        let count: Int
        let isExternal: Bool
    }

    /// Buffers of at least this many bytes come from the cache.
    static var externalThreshold: Int { BufferCache.minimumBytes }

    @inline(__always) package var base: UnsafeMutablePointer<Scalar> { header.base }
    @inline(__always) var count: Int { header.count }

    /// Uninitialised storage for `count` scalars.
    package static func make(uninitializedCount count: Int) -> TensorStorage {
        let bytes = count * MemoryLayout<Scalar>.stride
        if bytes >= externalThreshold {
            let p = BufferCache.shared.take(bytes: bytes).bindMemory(to: Scalar.self, capacity: count)
            let object = create(minimumCapacity: 0) { _ in Header(base: p, count: count, isExternal: true) }
            return unsafeDowncast(object, to: TensorStorage.self)
        }
        let object = create(minimumCapacity: count) { buffer in
            Header(base: buffer.withUnsafeMutablePointerToElements { $0 }, count: count, isExternal: false)
        }
        return unsafeDowncast(object, to: TensorStorage.self)
    }

    deinit {
        if header.isExternal {
            BufferCache.shared.give(UnsafeMutableRawPointer(header.base), bytes: header.count * MemoryLayout<Scalar>.stride)
        }
    }
}

extension TensorStorage {
    /// Zero-filled storage.
    package static func make(zeroedCount count: Int) -> TensorStorage {
        let s = make(uninitializedCount: count)
        Kernels.fill(s.base, 0, count)
        return s
    }

    /// A copy of `count` scalars at `source`.
    package static func make(copying source: UnsafePointer<Scalar>, count: Int) -> TensorStorage {
        let s = make(uninitializedCount: count)
        s.base.update(from: source, count: count)
        return s
    }
}

/// Keeps a few freed buffers per exact byte size for reuse. Only sizes of at
/// least `minimumBytes` are cached: smaller ones live inside their storage object.
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
        if let address = state.withLock({ s -> UInt? in
               guard let a = s.free[bytes]?.popLast() else { return nil }
               s.cachedBytes -= bytes
               return a
           }), let p = UnsafeMutableRawPointer(bitPattern: address) {
            return p
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    func give(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let address = UInt(bitPattern: p)
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + bytes <= Self.totalLimit, s.free[bytes, default: []].count < Self.perSize else { return false }
            s.free[bytes, default: []].append(address)
            s.cachedBytes += bytes
            return true
        }
        if !kept { p.deallocate() }
    }
}

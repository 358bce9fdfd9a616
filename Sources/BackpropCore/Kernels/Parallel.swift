import CBackpropKernels

/// How many threads Backprop's large kernels (matrix products and others) may use.
///
/// The work runs on a persistent pool of worker threads, started on first
/// need and kept for the life of the process; a call made while the pool is
/// busy (from another thread, or nested inside a parallel loop) runs on its
/// own thread instead of waiting.
public enum Parallelism {
    /// The most threads a kernel may use, at least 1. Defaults to the number of
    /// processors this process may run on; set it to use fewer.
    public static var threadCount: Int {
        get { Int(bp_get_thread_count()) }
        set { bp_set_thread_count(Int32(clamping: newValue)) }
    }

    /// The default thread count: the processors this process may run on.
    public static var defaultThreadCount: Int { Int(bp_default_thread_count()) }
}

// Used by the convolution and pooling kernels (ConvolutionKernels.swift).
/// Runs `body(i)` for every `i` in `0..<count`, spread over up to
/// `Parallelism.threadCount` threads of the pool (indices are handed out
/// dynamically), and returns when all have finished. Runs inline, in order,
/// when there is one thread or one index. `body` must be safe to call
/// concurrently for different indices.
func parallelFor(_ count: Int, threads: Int = Parallelism.threadCount, _ body: (Int) -> Void) {
    if count <= 0 { return }
    if threads <= 1 || count == 1 {
        for i in 0..<count { body(i) }
        return
    }
    // The closure is only called while bp_parallel_for is running, so the
    // non-escaping closure may be handed to the pool through a pointer.
    withoutActuallyEscaping(body) { body in
        var box = body
        withUnsafeMutablePointer(to: &box) { ptr in
            bp_parallel_for(count, Int32(clamping: threads), { ctx, index in
                ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            }, UnsafeMutableRawPointer(ptr))
        }
    }
}

/// Splits `0..<count` into about `Parallelism.threadCount` contiguous chunks and
/// runs `body(range)` for each in parallel (inline for one chunk).
func parallelChunks(_ count: Int, minChunk: Int = 1, threads: Int = Parallelism.threadCount,
                    _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let chunks = max(1, min(threads, count / max(1, minChunk)))
    if chunks == 1 { body(0..<count); return }
    parallelFor(chunks, threads: threads) { c in
        body((count * c / chunks)..<(count * (c + 1) / chunks))
    }
}

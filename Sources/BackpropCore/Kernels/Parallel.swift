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

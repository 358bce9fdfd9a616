// The ReLU's vjp in one pass: g · k·1[x > 0] without the mask tensor that
// `g * x.mapped(.positiveIndicator(k))` allocates and reads back.

extension Kernels {
    /// out[i] = g[i] · (x[i] > 0 ? k : 0), the same products as multiplying by
    /// the mask (so g = ±∞ or NaN where x ≤ 0 still gives NaN).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func timesPositiveIndicator<S: TensorScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, scale k: S,
                                                        _ out: UnsafeMutablePointer<S>, _ n: Int) {
        let threads = n >= 1 << 20 ? Parallelism.threadCount : 1
        parallelChunks(n, minChunk: 1 << 16, threads: threads) { range in
            for i in range { out[i] = g[i] * (x[i] > 0 ? k : 0) }
        }
    }
}

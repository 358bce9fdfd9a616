// Fused primitives: one node instead of several for the hottest patterns of
// a training step. Each still has its derivative next to it, written in
// Tensor ops, and a gradcheck test (GradCheckTests.fusedOps).

extension Tensor {
    /// y = x Wᵀ + b for x of shape [batch, in] or [in], W of shape [out, in]
    /// and b of shape [out]: the Linear layer as one node. The bias is
    /// written first and the product accumulated onto it, so the forward pass
    /// is one GEMM and no temporary.
    ///
    ///   dx = g W,   dW = gᵀ x,   db = Σ_batch g
    static func affine(_ x: Tensor, weight w: Tensor, bias b: Tensor?) -> Tensor {
        precondition(w.rank == 2, "linear: weight must have shape [out, in], got \(w.shape)")
        precondition(x.rank == 1 || x.rank == 2, "linear: input must have shape [batch, in] or [in], got \(x.shape)")
        let (outFeatures, inFeatures) = (w.shape[0], w.shape[1])
        let rows = x.rank == 2 ? x.shape[0] : 1
        let xFeatures = x.shape[x.rank - 1]
        precondition(xFeatures == inFeatures,
                     "linear: input \(x.shape) x weight \(w.shape)ᵀ: input has \(xFeatures) features, weight expects \(inFeatures)")
        if let b {
            precondition(b.shape == [outFeatures], "linear: bias shape \(b.shape) does not match weight \(w.shape); expected [\(outFeatures)]")
        }
        let outShape = x.rank == 2 ? [rows, outFeatures] : [outFeatures]
        let storage = TensorStorage<Scalar>.make(uninitializedCount: rows * outFeatures)
        if let b {
            for r in 0..<rows { (storage.base + r * outFeatures).update(from: b.base, count: outFeatures) }
        }
        Kernels.gemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                     a: x.base, lda: inFeatures, b: w.base, ldb: inFeatures,
                     c: storage.base, ldc: outFeatures, accumulate: b != nil)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        let xShape = x.shape
        return record("linear", inputs, storage, shape: outShape) { g, t, _ in
            let (x, w) = (t[0], t[1])
            let g2 = g.rank == 2 ? g : g.reshaped(to: [1, outFeatures])
            let dx: Tensor? = x.requiresGrad ? mm(g2, w).reshaped(to: xShape) : nil
            let dw: Tensor? = w.requiresGrad ? mm(g2, x.rank == 2 ? x : x.reshaped(to: [1, inFeatures]), transposeA: true) : nil
            guard t.count == 3 else { return [dx, dw] }
            return [dx, dw, t[2].requiresGrad ? g2.sum(axis: 0) : nil]
        }
    }
}

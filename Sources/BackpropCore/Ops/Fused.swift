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
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package static func affine(_ x: Tensor, weight w: Tensor, bias b: Tensor?) -> Tensor {
        let outShape = ShapeRule.check { try ShapeRule.linear(input: x.shape, weight: w.shape, bias: b?.shape) }
        precondition(x.rank <= 2, "internal: affine of an input of shape \(x.shape); linear flattens batch axes first")
        let (outFeatures, inFeatures) = (w.shape[0], w.shape[1])
        let rows = x.rank == 2 ? x.shape[0] : 1
        let storage = TensorStorage<Scalar>.make(uninitializedCount: rows * outFeatures)
        if let b {
            for r in 0..<rows { (storage.base + r * outFeatures).update(from: b.base, count: outFeatures) }
        }
        Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
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

extension Tensor {
    /// y = s · max(x Wᵀ + b, 0): a Linear layer followed by `ReLU(scale: s)`,
    /// as one node (what `Sequential` runs for that pair). The forward pass is
    /// one GEMM that adds the bias and applies the ReLU as it stores each
    /// register tile, so the pre-activation is never written; the values are
    /// those of `relu(affine(x, w, b), scale: s)`, bit for bit.
    ///
    ///   dz = g · s 1[y > 0],   dx = dz W,   dW = dzᵀ x,   db = Σ_batch dz
    ///
    /// The mask is read from the output: for s ≥ 1, y > 0 exactly where
    /// x Wᵀ + b > 0 (a smaller s could round a tiny positive to zero), hence
    /// the precondition. The backward pass writes dz and db in one pass over g
    /// and y, then runs the two products on dz; when a graph of the backward
    /// pass is recorded (`createGraph`) it uses Tensor ops instead, so that it
    /// can be differentiated again.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package static func affineReLU(_ x: Tensor, weight w: Tensor, bias b: Tensor?, scale: Scalar = 1) -> Tensor {
        precondition(scale >= 1 && scale.isFinite, "affineReLU: the ReLU's scale must be finite and at least 1, got \(scale)")
        let outShape = ShapeRule.check { try ShapeRule.linear(input: x.shape, weight: w.shape, bias: b?.shape) }
        precondition(x.rank <= 2, "internal: affineReLU of an input of shape \(x.shape); linear flattens batch axes first")
        let (outFeatures, inFeatures) = (w.shape[0], w.shape[1])
        let rows = x.rank == 2 ? x.shape[0] : 1
        let storage = TensorStorage<Scalar>.make(uninitializedCount: rows * outFeatures)
        Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                    a: x.base, lda: inFeatures, b: w.base, ldb: inFeatures,
                    c: storage.base, ldc: outFeatures, bias: b.map { UnsafePointer($0.base) }, reluScale: scale)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        let xShape = x.shape
        return record("linear_relu", inputs, storage, shape: outShape) { g, t, y in
            let (x, w) = (t[0], t[1])
            let biasNeedsGrad = t.count == 3 && t[2].requiresGrad
            let dz: Tensor, db: Tensor?
            if GradMode.isEnabled {
                let g2 = g.rank == 2 ? g : g.reshaped(to: [1, outFeatures])
                dz = g2 * y.mapped(.positiveIndicator(Double(scale))).reshaped(to: g2.shape)
                db = biasNeedsGrad ? dz.sum(axis: 0) : nil
            } else {
                let dzStorage = TensorStorage<Scalar>.make(uninitializedCount: rows * outFeatures)
                let dbStorage = biasNeedsGrad ? TensorStorage<Scalar>.make(uninitializedCount: outFeatures) : nil
                Kernels.reluGradient(g.base, y.base, scale: scale, rows: rows, columns: outFeatures,
                                     dzStorage.base, columnSums: dbStorage?.base)
                dz = Tensor(storage: dzStorage, shape: [rows, outFeatures])
                db = dbStorage.map { Tensor(storage: $0, shape: [outFeatures]) }
            }
            let dx: Tensor? = x.requiresGrad ? mm(dz, w).reshaped(to: xShape) : nil
            let dw: Tensor? = w.requiresGrad ? mm(dz, x.rank == 2 ? x : x.reshaped(to: [1, inFeatures]), transposeA: true) : nil
            return t.count == 3 ? [dx, dw, db] : [dx, dw]
        }
    }
}

extension Tensor {
    /// Σ (x - y)² (divided by the element count when `mean`), as one scalar
    /// node with no temporaries:   dx = 2 (x - y) g / n,   dy = -dx
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package static func squaredError(_ x: Tensor, _ y: Tensor, mean: Bool) -> Tensor {
        precondition(x.shape == y.shape, "mseLoss: input shape \(x.shape) and target shape \(y.shape) differ")
        let n = x.count
        let storage = TensorStorage<Scalar>.make(uninitializedCount: 1)
        storage.base[0] = Kernels.squaredDistance(x.base, y.base, n) / (mean ? Scalar(Swift.max(n, 1)) : 1)
        return record("mse", [x, y], storage, shape: []) { g, t, _ in
            let scale = g * Scalar(2) / (mean ? Scalar(Swift.max(n, 1)) : 1)
            let dx = (t[0] - t[1]) * scale
            return [t[0].requiresGrad ? dx : nil, t[1].requiresGrad ? -dx : nil]
        }
    }

    /// Cross-entropy of logits [N, C] (or [C]) against class indices, summed
    /// or averaged over the N points, through a stable log-softmax:
    ///
    ///   ℓ_n = logΣexp(v_n) - v_n[c_n],   dℓ/dv = softmax(v) - onehot(c)
    ///
    /// The backward pass writes softmax - onehot in one loop per row; when a
    /// graph of the backward pass is recorded (`createGraph`) it uses Tensor
    /// ops instead, so that it can be differentiated again.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package static func crossEntropyIndices(_ logits: Tensor, _ classes: [Int], mean: Bool) -> Tensor {
        let c = logits.shape[logits.rank - 1]
        let rows = logits.count / Swift.max(c, 1)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: 1)
        let total = Kernels.crossEntropy(logits.base, rows: rows, classes: c, targets: classes, gradient: nil)
        storage.base[0] = total / (mean ? Scalar(rows) : 1)
        let shape = logits.shape
        return record("cross_entropy", [logits], storage, shape: []) { g, t, _ in
            let v = t[0]
            if GradMode.isEnabled {
                let oneHot = Tensor<Scalar>.zeros(shape)
                for (k, cls) in classes.enumerated() { oneHot.base[k * c + cls] = 1 }
                return [(softmax(v, axis: -1) - oneHot) * (g / (mean ? Scalar(rows) : 1))]
            }
            let grad = TensorStorage<Scalar>.make(uninitializedCount: v.count)
            _ = Kernels.crossEntropy(v.base, rows: rows, classes: c, targets: classes, gradient: grad.base)
            let scale = g.item / (mean ? Scalar(rows) : 1)
            if scale != 1 { Kernels.scale(grad.base, scale, v.count) }
            return [Tensor(storage: grad, shape: shape)]
        }
    }
}

extension Kernels {
    /// Σ (x - y)².
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func squaredDistance<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafePointer<S>, _ n: Int) -> S {
        var acc = SIMD16<S>(repeating: 0)
        var i = 0
        while i + 16 <= n { let d = loadVector(x + i) - loadVector(y + i); acc += d * d; i += 16 }
        var s = acc.sum()
        while i < n { let d = x[i] - y[i]; s += d * d; i += 1 }
        return s
    }

    /// Σ_n (logΣexp(v_n) - v_n[c_n]); when `gradient` is given, also writes
    /// softmax(v_n) - onehot(c_n) there.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func crossEntropy<S: TensorScalar>(_ v: UnsafePointer<S>, rows: Int, classes: Int, targets: [Int],
                                              gradient: UnsafeMutablePointer<S>?) -> S {
        var total: S = 0
        for r in 0..<rows {
            let row = v + r * classes
            let m = reduceRow(.max, row, classes)
            var z: S = 0
            for j in 0..<classes { z += S.exp(row[j] - m) }
            let lse = m + S.log(z)
            total += lse - row[targets[r]]
            if let gradient {
                let out = gradient + r * classes
                let inv = 1 / z
                for j in 0..<classes { out[j] = S.exp(row[j] - m) * inv }
                out[targets[r]] -= 1
            }
        }
        return total
    }
}

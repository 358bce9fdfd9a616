// Matrix products. One primitive, `mm`, multiplies (batched) matrices with
// optional transposes, so that its vjp needs no transposed copies:
//   C = op(A) op(B)
//   dA = g op(B)^T  (or op(B) g^T when A is transposed)
//   dB = op(A)^T g  (or g^T op(A) when B is transposed)
// `matmul` adds PyTorch's vector and batch-broadcasting rules on top.

extension Tensor {
    /// C = op(A) op(B) for rank-2 operands, or rank-3 operands with one batch size.
    package static func mm(_ a: Tensor, _ b: Tensor, transposeA ta: Bool = false, transposeB tb: Bool = false) -> Tensor {
        precondition(a.rank == b.rank && (a.rank == 2 || a.rank == 3), "internal: mm of shapes \(a.shape) and \(b.shape)")
        let batched = a.rank == 3
        let batch = batched ? a.shape[0] : 1
        if batched {
            precondition(a.shape[0] == b.shape[0], "matmul: batch sizes differ: \(a.shape) x \(b.shape)")
        }
        let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
        let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
        let (m, k) = ta ? (ac, ar) : (ar, ac)
        let (k2, n) = tb ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul: \(a.shape)\(ta ? "ᵀ" : "") x \(b.shape)\(tb ? "ᵀ" : ""): inner dimensions \(k) and \(k2) differ")
        let outShape = batched ? [batch, m, n] : [m, n]
        let storage = TensorStorage<Scalar>.make(uninitializedCount: batch * m * n)
        for i in 0..<batch {
            Kernels.gemm(transA: ta, transB: tb, m: m, n: n, k: k,
                         a: a.base + i * ar * ac, lda: ac, b: b.base + i * br * bc, ldb: bc,
                         c: storage.base + i * m * n, ldc: n)
        }
        return record("matmul", [a, b], storage, shape: outShape) { g, x, _ in
            let (a, b) = (x[0], x[1])
            let da: Tensor? = !a.requiresGrad ? nil : (ta ? mm(b, g, transposeA: tb, transposeB: true)
                                                          : mm(g, b, transposeA: false, transposeB: !tb))
            let db: Tensor? = !b.requiresGrad ? nil : (tb ? mm(g, a, transposeA: true, transposeB: ta)
                                                          : mm(a, g, transposeA: !ta, transposeB: false))
            return [da, db]
        }
    }
}

/// The matrix product, with PyTorch's rules: 1-D operands are vectors
/// (a dot product for two of them), and leading batch axes broadcast.
///
/// ```swift
/// let y = matmul(w, x)   // [2, 3] x [3] -> [2]
/// ```
public func matmul<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    let outShape = ShapeRule.check { try ShapeRule.matmul(a.shape, b.shape) }
    let k1 = a.shape[a.rank - 1]
    switch (a.rank, b.rank) {
    case (1, 1): return Tensor.mm(a.unsqueezed(axis: 0), b.unsqueezed(axis: 1)).reshaped(to: [])
    case (2, 1): return Tensor.mm(a, b.unsqueezed(axis: 1)).squeezed(axis: 1)
    case (1, 2): return Tensor.mm(a.unsqueezed(axis: 0), b).squeezed(axis: 0)
    case (2, 2): return Tensor.mm(a, b)
    default:
        // Batch axes: broadcast, flatten to one, multiply, restore.
        let a2 = a.rank == 1 ? a.unsqueezed(axis: 0) : a
        let b2 = b.rank == 1 ? b.unsqueezed(axis: 1) : b
        let batch = Array(outShape.prefix(max(a.rank, b.rank) - 2))   // the broadcast batch axes
        let m = a2.shape[a2.rank - 2], n = b2.shape[b2.rank - 1]
        let ae = a2.expanded(to: batch + Array(a2.shape.suffix(2))).reshaped(to: [-1, m, k1])
        let be = b2.expanded(to: batch + Array(b2.shape.suffix(2))).reshaped(to: [-1, k1, n])
        return Tensor.mm(ae, be).reshaped(to: outShape)
    }
}

extension Tensor {
    /// The matrix product, as `matmul(self, other)`.
    public func matmul(_ other: Tensor) -> Tensor { BackpropCore.matmul(self, other) }
}


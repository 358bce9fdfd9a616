// In-place writes for optimizers and state-dict loading. A parameter is a
// variable: every copy of the `Tensor` shares one handle, so writing into the
// handle's storage updates what the model, the optimizer and the user see.
// Storage shared with another handle (a `detached()` copy, a state dict taken
// earlier) is replaced by a fresh copy first, so those keep their values.

extension Tensor {
    /// Runs `body` on this variable's elements for writing, without recording
    /// a graph: `body(pointer, count)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package func updateInPlace(_ body: (UnsafeMutablePointer<Scalar>, Int) -> Void) {
        let h = handle
        if !isKnownUniquelyReferenced(&h.storage) {
            h.storage = TensorStorage.make(copying: h.storage.base, count: count)
        }
        body(h.storage.base, count)
    }

    /// Multiplies `.grad` by `factor` in place when no other tensor shares it,
    /// else replaces it by a scaled copy (two leaves can share one gradient
    /// tensor, and scaling it twice would be wrong).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package func scaleGrad(by factor: Scalar) {
        guard var g = handle.grad else { return }
        handle.grad = nil
        if isKnownUniquelyReferenced(&g.handle), isKnownUniquelyReferenced(&g.handle.storage) {
            Kernels.scale(g.base, factor, g.count)
        } else {
            let storage = TensorStorage<Scalar>.make(copying: g.base, count: g.count)
            Kernels.scale(storage.base, factor, g.count)
            g = Tensor(storage: storage, shape: g.shape)
        }
        handle.grad = g
    }

    /// self ← self + alpha · other, written into this variable's storage
    /// outside the graph: PyTorch's `p.add_(other, alpha=alpha)` under
    /// `torch.no_grad()`, the update of a hand-written optimizer. Every copy of
    /// this `Tensor` (the model's, an optimizer's) sees the new values, and
    /// `.grad` and `requiresGrad` stay; a `detached()` copy taken before keeps
    /// the old ones. Only a leaf (a parameter) can be updated in place, and
    /// `other` must have its shape.
    ///
    /// ```swift
    /// let loss = mseLoss(matmul(x, w) + b, y)
    /// w.zeroGrad(); b.zeroGrad()
    /// loss.backward()
    /// w.addInPlace(w.grad!, alpha: -0.01)   // w ← w - 0.01 ∂L/∂w
    /// b.addInPlace(b.grad!, alpha: -0.01)
    /// ```
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func addInPlace(_ other: Tensor, alpha: Scalar = 1) {
        precondition(isLeaf, "addInPlace: this tensor was computed by \(gradFunctionName ?? "an op"); only a leaf can be updated in place")
        precondition(other.shape == shape, "addInPlace: shape \(other.shape) does not match tensor shape \(shape)")
        let source = other.handle.storage  // stays alive if this storage is replaced by a copy
        updateInPlace { p, n in Kernels.axpy(alpha, source.base, p, n) }
    }
}

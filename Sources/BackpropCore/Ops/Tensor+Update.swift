// In-place writes for optimizers and state-dict loading. A parameter is a
// variable: every copy of the `Tensor` shares one handle, so writing into the
// handle's storage updates what the model, the optimizer and the user see.
// Storage shared with another handle (a `detached()` copy, a state dict taken
// earlier) is replaced by a fresh copy first, so those keep their values.

extension Tensor {
    /// Runs `body` on this variable's elements for writing, without recording
    /// a graph: `body(pointer, count)`.
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
}

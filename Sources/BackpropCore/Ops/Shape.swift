// Movement ops: reshape, permute, concatenate, slice, gather. The primitives
// here carry their vjp; transpose, squeeze, unsqueeze, stack and row indexing
// are composed from them.

extension Tensor {
    /// The same elements in a new shape; one dimension may be -1 (inferred).
    /// Shares storage: no copy.
    ///
    /// ```swift
    /// Tensor<Float>.arange(6).reshaped(to: [2, -1])   // shape [2, 3]
    /// ```
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            precondition(newShape.filter { $0 == -1 }.count == 1, "reshape: only one dimension can be -1 in \(newShape)")
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "reshape: cannot reshape tensor of shape \(shape) (\(count) elements) to \(newShape)")
            target[inferred] = count / known
        }
        precondition(target.allSatisfy { $0 >= 0 } && Shape.count(target) == count,
                     "reshape: cannot reshape tensor of shape \(shape) (\(count) elements) to \(newShape) (\(Shape.count(target)) elements)")
        if target == shape { return self }
        let inShape = shape
        return Tensor.record("reshape", [self], handle.storage, shape: target) { g, _, _ in [g.reshaped(to: inShape)] }
    }

    /// The axes in a new order: result axis i is this tensor's axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let axes = axes.map { Shape.normalize(axis: $0, rank: rank, op: "permute") }
        precondition(axes.count == rank && Set(axes).count == rank,
                     "permute: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        if axes == Array(0..<rank) { return self }
        let strides = Shape.strides(shape)
        let outShape = axes.map { shape[$0] }
        let storage = TensorStorage<Scalar>.make(uninitializedCount: count)
        Kernels.gather(base, shape: outShape, srcStrides: axes.map { strides[$0] }, storage.base)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.record("permute", [self], storage, shape: outShape) { g, _, _ in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default, the matrix transpose).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        precondition(rank >= 2 || (rank == 1 && axis0 == -2 && axis1 == -1), "transpose: tensor of shape \(shape) has fewer than 2 axes")
        if rank < 2 { return self }
        var axes = Array(0..<rank)
        axes.swapAt(Shape.normalize(axis: axis0, rank: rank, op: "transpose"), Shape.normalize(axis: axis1, rank: rank, op: "transpose"))
        return permuted(axes)
    }

    /// The matrix transpose of a rank-2 tensor.
    public var T: Tensor { transposed() }

    /// Removes size-1 axes: the given one, or all when `axis` is nil.
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = Shape.normalize(axis: axis, rank: rank, op: "squeeze")
            if shape[a] != 1 { return self }
            var s = shape; s.remove(at: a)
            return reshaped(to: s)
        }
        return reshaped(to: shape.filter { $0 != 1 })
    }

    /// Inserts a size-1 axis at `axis` (which may equal the rank, or be negative).
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueeze: axis \(axis) out of range for a tensor of rank \(rank)")
        var s = shape; s.insert(1, at: a)
        return reshaped(to: s)
    }

    /// Elements `range` along `axis` (all other axes whole).
    ///
    /// ```swift
    /// x.sliced(axis: 1, 0..<2)   // the first two columns
    /// ```
    public func sliced(axis: Int = 0, _ range: Range<Int>) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(a) of size \(shape[a]) (shape \(shape))")
        if range == 0..<shape[a] { return self }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape; outShape[a] = range.count
        let storage = TensorStorage<Scalar>.make(uninitializedCount: Shape.count(outShape))
        for o in 0..<outer {
            (storage.base + o * range.count * inner).update(
                from: base + (o * shape[a] + range.lowerBound) * inner, count: range.count * inner)
        }
        let inShape = shape
        return Tensor.record("slice", [self], storage, shape: outShape) { g, _, _ in
            [g.padded(into: inShape, axis: a, at: range.lowerBound)]
        }
    }

    /// Zeros of `target` shape with this tensor placed at `offset` along `axis`:
    /// the gradient of ``sliced(axis:_:)``, whose own gradient is a slice.
    func padded(into target: [Int], axis a: Int, at offset: Int) -> Tensor {
        let outer = target[..<a].reduce(1, *), inner = target[(a + 1)...].reduce(1, *)
        let storage = TensorStorage<Scalar>.make(zeroedCount: Shape.count(target))
        for o in 0..<outer {
            (storage.base + (o * target[a] + offset) * inner).update(from: base + o * shape[a] * inner, count: shape[a] * inner)
        }
        let length = shape[a]
        return Tensor.record("pad", [self], storage, shape: target) { g, _, _ in
            [g.sliced(axis: a, offset..<offset + length)]
        }
    }

    /// Row `i` along the first axis, with that axis removed (PyTorch's `x[i]`).
    public subscript(index: Int) -> Tensor {
        precondition(rank > 0, "index: cannot index a scalar tensor")
        let i = index < 0 ? index + shape[0] : index
        precondition(i >= 0 && i < shape[0], "index: \(index) out of range for axis 0 of size \(shape[0])")
        return sliced(axis: 0, i..<i + 1).squeezed(axis: 0)
    }

    /// Rows `range` along the first axis (PyTorch's `x[a:b]`).
    public subscript(range: Range<Int>) -> Tensor { sliced(axis: 0, range) }

    /// For each position of the leading axes, the element at `indices[k]` of
    /// the last axis: `x[k, indices[k]]` for logits of shape [N, C], the pick
    /// that cross-entropy and NLL need. Its gradient scatters back.
    ///
    /// ```swift
    /// logits.gathered(classIndices: [2, 0, 1])   // shape [3]
    /// ```
    public func gathered(classIndices indices: [Int]) -> Tensor {
        precondition(rank >= 1, "gather: tensor of shape \(shape) has no class axis")
        let classes = shape[rank - 1]
        let rows = count / Swift.max(classes, 1)
        precondition(indices.count == rows, "gather: \(indices.count) indices for \(rows) rows of shape \(shape)")
        let storage = TensorStorage<Scalar>.make(uninitializedCount: rows)
        for (k, c) in indices.enumerated() {
            precondition(c >= 0 && c < classes, "gather: class index \(c) at position \(k) out of range 0..<\(classes)")
            storage.base[k] = base[k * classes + c]
        }
        let inShape = shape
        return Tensor.record("gather", [self], storage, shape: Array(shape.dropLast())) { g, _, _ in
            [g.scattered(into: inShape, classIndices: indices)]
        }
    }

    /// Zeros of `target` shape with this tensor's elements at the class
    /// indices: the gradient of ``gathered(classIndices:)``.
    func scattered(into target: [Int], classIndices indices: [Int]) -> Tensor {
        let classes = target.last!
        let storage = TensorStorage<Scalar>.make(zeroedCount: Shape.count(target))
        for (k, c) in indices.enumerated() { storage.base[k * classes + c] = base[k] }
        return Tensor.record("scatter", [self], storage, shape: target) { g, _, _ in
            [g.gathered(classIndices: indices)]
        }
    }

    /// Joins tensors along an existing axis; all other axes must agree.
    ///
    /// ```swift
    /// Tensor.concatenated([a, b], axis: 0)
    /// ```
    public static func concatenated(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let a = Shape.normalize(axis: axis, rank: first.rank, op: "concatenate")
        for (i, t) in tensors.enumerated() {
            var s1 = first.shape, s2 = t.shape
            precondition(s1.count == s2.count, "concatenate: tensor \(i) has shape \(t.shape), tensor 0 has shape \(first.shape)")
            s1[a] = 0; s2[a] = 0
            precondition(s1 == s2, "concatenate: tensor \(i) has shape \(t.shape), tensor 0 has shape \(first.shape); they differ outside axis \(a)")
        }
        let sizes = tensors.map { $0.shape[a] }
        var outShape = first.shape; outShape[a] = sizes.reduce(0, +)
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: Shape.count(outShape))
        var offset = 0
        for t in tensors {
            let len = t.shape[a] * inner
            for o in 0..<outer {
                (storage.base + o * outShape[a] * inner + offset).update(from: t.base + o * len, count: len)
            }
            offset += len
        }
        return record("concatenate", tensors, storage, shape: outShape) { g, _, _ in
            var start = 0
            return sizes.map { size in
                defer { start += size }
                return g.sliced(axis: a, start..<start + size)
            }
        }
    }

    /// Joins tensors of one shape along a new axis.
    public static func stacked(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        for (i, t) in tensors.enumerated() where t.shape != tensors[0].shape {
            preconditionFailure("stack: tensor \(i) has shape \(t.shape), tensor 0 has shape \(tensors[0].shape)")
        }
        return concatenated(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }
}

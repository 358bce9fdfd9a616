// Reductions over axes. `sum` and `max`/`min` are primitives; `mean` and
// `logSumExp` are composed from them and carry no gradient code.

extension Tensor {
    /// Sorted, non-negative, distinct axes; all axes when `axes` is nil.
    func normalizedAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let normalized = axes.map { Shape.normalize(axis: $0, rank: rank, op: op) }
        precondition(Set(normalized).count == normalized.count, "\(op): repeated axis in \(axes)")
        return normalized.sorted()
    }

    func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                 : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// Reduces axes one at a time, last first, as [outer, axis, inner] blocks.
    func reduceStorage(_ kind: Kernels.Reduction, _ axes: [Int]) -> TensorStorage<Scalar> {
        var current = handle.storage
        var currentShape = shape
        if axes.isEmpty { return TensorStorage.make(copying: base, count: count) }
        for axis in axes.reversed() {
            let outer = currentShape[..<axis].reduce(1, *)
            let reduced = currentShape[axis]
            let inner = currentShape[(axis + 1)...].reduce(1, *)
            let out = TensorStorage<Scalar>.make(uninitializedCount: outer * inner)
            Kernels.reduce(kind, current.base, outer: outer, reduced: reduced, inner: inner, out.base)
            current = out
            currentShape[axis] = 1
        }
        return current
    }

    /// The sum over `axes` (all axes when nil).
    ///
    /// ```swift
    /// let x: Tensor<Float> = [[1, 2], [3, 4]]
    /// x.sum()               // tensor(10.)
    /// x.sum(axes: [0])      // tensor([4., 6.])
    /// ```
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "sum")
        let outShape = reducedShape(axes, keepDims: keepDims)
        let inShape = shape
        let keptShape = reducedShape(axes, keepDims: true)
        return Tensor.record("sum", [self], reduceStorage(.sum, axes), shape: outShape) { g, _, _ in
            [g.reshaped(to: keptShape).expanded(to: inShape)]
        }
    }

    /// The sum along one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Scalar(n)
    }

    /// The mean along one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// The largest element over `axes`. Gradient flows to the maxima, split
    /// evenly among ties (PyTorch's `amax`).
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(.max, "max", axes, keepDims) }

    /// The largest element along one axis.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// The smallest element over `axes`.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { extremum(.min, "min", axes, keepDims) }

    /// The smallest element along one axis.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    private func extremum(_ kind: Kernels.Reduction, _ name: String, _ axes: [Int]?, _ keepDims: Bool) -> Tensor {
        let axes = normalizedAxes(axes, op: name)
        precondition(axes.allSatisfy { shape[$0] > 0 }, "\(name): cannot reduce an empty axis of shape \(shape)")
        let keptShape = reducedShape(axes, keepDims: true)
        return Tensor.record(name, [self], reduceStorage(kind, axes), shape: reducedShape(axes, keepDims: keepDims)) { g, x, y in
            let kept = y.reshaped(to: keptShape)
            let hits = x[0] .== kept.detached()
            let share = hits / hits.sum(axes: axes, keepDims: true)
            return [g.reshaped(to: keptShape) * share]
        }
    }

    /// Index of the largest element along `axis` (the first one at a tie), as
    /// a tensor of whole numbers. Not differentiable.
    ///
    /// ```swift
    /// logits.argmax(axis: -1)   // predicted classes
    /// ```
    public func argmax(axis: Int = -1, keepDims: Bool = false) -> Tensor { argExtremum(axis, keepDims, largest: true) }

    /// Index of the smallest element along `axis`.
    public func argmin(axis: Int = -1, keepDims: Bool = false) -> Tensor { argExtremum(axis, keepDims, largest: false) }

    private func argExtremum(_ axis: Int, _ keepDims: Bool, largest: Bool) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, op: "argmax")
        precondition(rank > 0 && shape[a] > 0, "argmax: empty axis in shape \(shape)")
        let outShape = reducedShape([a], keepDims: keepDims)
        let out = TensorStorage<Scalar>.make(uninitializedCount: Shape.count(outShape))
        Kernels.argmax(base, outer: shape[..<a].reduce(1, *), reduced: shape[a],
                       inner: shape[(a + 1)...].reduce(1, *), largest: largest, out.base)
        return Tensor(storage: out, shape: outShape)
    }

    /// log Σ exp(x) over `axes`, computed stably by shifting by the maximum.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "logSumExp")
        // The shift is a constant: its gradient cancels exactly, so detach it.
        // A finite shift keeps rows of -inf from turning into NaN.
        let m = max(axes: axes, keepDims: true).mapped(.clamp(-Double(Scalar.greatestFiniteMagnitude), Double(Scalar.greatestFiniteMagnitude)))
        let s = log(exp(self - m).sum(axes: axes, keepDims: true)) + m
        return keepDims ? s : s.reshaped(to: reducedShape(axes, keepDims: false))
    }

    /// log Σ exp(x) along one axis.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }

    /// Sums over broadcast axes so that the result has `target`'s shape: the
    /// gradient of a broadcast. `target` must broadcast to this shape.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Shape.broadcast(target, shape) == shape, "sum(toShape:): \(target) does not broadcast to \(shape)")
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDims: true).reshaped(to: target)
    }

    /// Repeats size-1 (and missing leading) axes to reach `target`, NumPy style.
    /// Its gradient is ``sum(toShape:)``.
    public func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Shape.broadcast(shape, target) == target, "expand: shape \(shape) cannot be expanded to \(target)")
        let storage = TensorStorage<Scalar>.make(uninitializedCount: Shape.count(target))
        Kernels.gather(base, shape: target, srcStrides: Shape.broadcastStrides(shape, to: target), storage.base)
        let inShape = shape
        return Tensor.record("expand", [self], storage, shape: target) { g, _, _ in [g.sum(toShape: inShape)] }
    }
}

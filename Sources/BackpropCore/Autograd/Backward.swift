import Synchronization

/// Numbers the graph traversals of backward passes (see `visitMark`).
private let traversalCounter = Atomic<Int>(0)

extension Tensor {
    /// Whether gradients flow to this tensor. Set it on a leaf to make the
    /// leaf a variable; results of ops on such tensors require it too.
    ///
    /// ```swift
    /// var w = Tensor<Float>.zeros([2, 3])
    /// w.requiresGrad = true
    /// ```
    public var requiresGrad: Bool {
        get { handle.requiresGrad }
        nonmutating set {
            precondition(handle.gradFn == nil || newValue,
                         "requiresGrad: only a leaf can stop requiring a gradient; use detached()")
            handle.requiresGrad = newValue
        }
    }

    /// Returns this tensor with `requiresGrad` set, for chaining.
    ///
    /// ```swift
    /// let x = Tensor<Double>([1, 2]).requiringGrad()
    /// ```
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        handle.requiresGrad = flag
        return self
    }

    /// The accumulated gradient of a leaf (or of a tensor that called
    /// ``retainGrad()``), in the tensor's shape; `nil` before any backward.
    public var grad: Tensor? {
        get { handle.grad }
        nonmutating set {
            if let g = newValue {
                precondition(g.shape == shape, "grad: gradient shape \(g.shape) does not match tensor shape \(shape)")
            }
            handle.grad = newValue
        }
    }

    /// `true` when this tensor was not computed by a recorded op.
    public var isLeaf: Bool { handle.gradFn == nil }

    /// The name of the op that computed this tensor (`"mul"`), or `nil` for a leaf.
    public var gradFunctionName: String? { handle.gradFn?.name }

    /// Clears `.grad` (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() { handle.grad = nil }

    /// Keep `.grad` on this intermediate result too.
    public func retainGrad() { handle.retainsGrad = true }

    /// The same values, cut off from the graph: no gradient flows through.
    public func detached() -> Tensor {
        Tensor(storage: handle.storage, shape: shape)
    }

    /// The tensors this one was computed from, in the op's argument order
    /// (empty for a leaf or after the graph was freed).
    public var graphInputs: [Tensor] { handle.gradFn?.inputs ?? [] }

    /// `true` when both are the same variable (share one handle).
    public func isIdentical(to other: Tensor) -> Bool { handle === other.handle }

    /// Backpropagates from a scalar, accumulating into the `.grad` of every
    /// leaf that requires one. Gradients add up across calls, as in PyTorch.
    ///
    /// - Parameters:
    ///   - retainGraph: keep the graph so that `backward` may run again.
    ///   - createGraph: record the backward pass itself, for higher-order
    ///     gradients. Implies `retainGraph`.
    ///
    /// ```swift
    /// let loss = ((w * x).sum() - 1).squared()
    /// loss.backward()
    /// ```
    public func backward(retainGraph: Bool = false, createGraph: Bool = false) {
        precondition(count == 1,
                     "backward: output has shape \(shape); a non-scalar needs a seed gradient: backward(seed)")
        backward(seed: Tensor(repeating: 1, shape: shape), retainGraph: retainGraph, createGraph: createGraph)
    }

    /// Backpropagates from a non-scalar, given dJ/d(self) (the lab's
    /// "assume dJ/dz = (1, 1)").
    ///
    /// ```swift
    /// z.backward(seed: [1, 1])
    /// ```
    public func backward(seed: Tensor, retainGraph: Bool = false, createGraph: Bool = false) {
        _ = runBackward(seed: seed, retainGraph: retainGraph, createGraph: createGraph, capturing: nil)
    }

    /// The engine behind `backward` and ``gradients(of:wrt:seed:retainGraph:createGraph:)``.
    /// With `capturing` nil, leaf gradients accumulate into `.grad`; otherwise
    /// the gradients of the captured handles are returned and no `.grad` changes.
    func runBackward(seed: Tensor, retainGraph: Bool, createGraph: Bool,
                     capturing: Set<ObjectIdentifier>?) -> [ObjectIdentifier: Tensor] {
        precondition(seed.shape == shape, "backward: seed shape \(seed.shape) does not match output shape \(shape)")
        precondition(handle.requiresGrad,
                     "backward: this tensor does not require a gradient (no input had requiresGrad, or it was computed under noGrad)")
        let order = topologicalOrder()
        var captured: [ObjectIdentifier: Tensor] = [:]
        handle.pendingGrad = seed
        GradMode.$isEnabled.withValue(createGraph) {
            for node in order.reversed() {
                guard let g = node.pendingGrad else { continue }
                node.pendingGrad = nil
                if let capturing {
                    let id = ObjectIdentifier(node)
                    if capturing.contains(id) { captured[id] = createGraph ? g : g.detached() }
                } else if node.gradFn == nil || node.retainsGrad {
                    node.accumulateGrad(g, keepGraph: createGraph)
                }
                guard let fn = node.gradFn else { continue }
                let inputs = fn.inputs
                let grads = fn.vjp!(g, inputs, Tensor(handle: node))
                for (input, ig) in zip(inputs, grads) {
                    guard input.handle.requiresGrad, let ig else { continue }
                    precondition(ig.shape == input.shape,
                                 "internal: \(fn.name) vjp returned shape \(ig.shape) for input of shape \(input.shape)")
                    if let p = input.handle.pendingGrad { input.handle.pendingGrad = p + ig } else { input.handle.pendingGrad = ig }
                }
                if !(retainGraph || createGraph) { fn.release() }
            }
        }
        return captured
    }

    /// Every handle reachable from this one through recorded ops that need a
    /// gradient, inputs before the results computed from them.
    private func topologicalOrder() -> [TensorHandle<Scalar>] {
        // Each traversal marks handles with a fresh number instead of filling
        // a Set: no hashing, no allocation per node.
        let mark = traversalCounter.add(1, ordering: .relaxed).newValue
        var order: [TensorHandle<Scalar>] = []
        var stack: [(TensorHandle<Scalar>, Bool)] = [(handle, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard node.visitMark != mark else { continue }
            node.visitMark = mark
            stack.append((node, true))
            if let fn = node.gradFn {
                precondition(!fn.isReleased,
                             "backward: trying to backward through the graph a second time; use backward(retainGraph: true) the first time")
                for input in fn.inputs where input.handle.requiresGrad && input.handle.visitMark != mark {
                    stack.append((input.handle, false))
                }
            }
        }
        return order
    }
}

extension TensorHandle {
    func accumulateGrad(_ g: Tensor<Scalar>, keepGraph: Bool) {
        let g = keepGraph ? g : g.detached()
        if let old = grad {
            grad = keepGraph ? old + g : noGrad { old + g }
        } else {
            // Tensors are values, so sharing `g`'s storage with another leaf
            // (an add passes its gradient through unchanged) is safe.
            grad = g
        }
    }
}

/// The gradients of `output` with respect to `inputs`, without touching any
/// `.grad` (PyTorch's `torch.autograd.grad`). An input that `output` does not
/// depend on gets zeros.
///
/// ```swift
/// let x = Tensor<Double>([1, 2]).requiringGrad()
/// let (dx) = gradients(of: (x * x).sum(), wrt: [x])[0]   // [2, 4]
/// ```
public func gradients<S: TensorScalar>(of output: Tensor<S>, wrt inputs: [Tensor<S>], seed: Tensor<S>? = nil,
                                       retainGraph: Bool = false, createGraph: Bool = false) -> [Tensor<S>] {
    guard output.requiresGrad else { return inputs.map { Tensor.zeros($0.shape) } }
    if seed == nil {
        precondition(output.count == 1, "gradients: output has shape \(output.shape); a non-scalar needs a seed")
    }
    let ids = Set(inputs.map { ObjectIdentifier($0.handle) })
    let captured = output.runBackward(seed: seed ?? Tensor(repeating: 1, shape: output.shape),
                                      retainGraph: retainGraph, createGraph: createGraph, capturing: ids)
    return inputs.map { captured[ObjectIdentifier($0.handle)] ?? Tensor.zeros($0.shape) }
}

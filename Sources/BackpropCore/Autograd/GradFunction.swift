/// A vector-Jacobian product: given the gradient of the final output with
/// respect to an op's output, the op's inputs and its output, the gradients
/// with respect to each input (`nil` where an input needs none).
///
/// Every vjp is written with public `Tensor` ops, so when the backward pass
/// itself is recorded (`createGraph: true`) a gradient can be differentiated
/// again.
typealias VJP<Scalar: TensorScalar> = (
    _ grad: Tensor<Scalar>, _ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>
) -> [Tensor<Scalar>?]

/// The record of how a tensor was computed: PyTorch's `grad_fn`.
final class GradFunction<Scalar: TensorScalar> {
    /// The op's name, shown in printing and graph drawings ("mul", "matmul").
    let name: String
    private(set) var inputs: [Tensor<Scalar>]
    private(set) var vjp: VJP<Scalar>?

    init(name: String, inputs: [Tensor<Scalar>], vjp: @escaping VJP<Scalar>) {
        self.name = name
        self.inputs = inputs
        self.vjp = vjp
    }

    /// Frees the saved inputs after a backward pass without `retainGraph`.
    func release() {
        inputs = []
        vjp = nil
    }

    var isReleased: Bool { vjp == nil }

    /// Frees a long chain of recorded ops without recursion. Releasing the
    /// last tensor of `x+x+...+x` (100,000 ops) would otherwise free each
    /// grad function from inside the previous one's deinit, one stack frame
    /// per op, and overflow the stack. Instead every input that dies with this
    /// function first gives up its own grad function to a worklist, which this
    /// loop frees one at a time.
    deinit {
        // A deinit of a generic class runs unspecialised code (a metadata
        // lookup per generic type it touches: 2,600 instructions per node
        // even with nothing to free, a tenth of the tiny step); this call
        // jumps to the specialisation first.
        GradFunction.freeChain(&inputs, &vjp)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private static func freeChain(_ inputs: inout [Tensor<Scalar>], _ vjp: inout VJP<Scalar>?) {
        vjp = nil
        // After a backward pass without `retainGraph` the inputs are already gone.
        guard !inputs.isEmpty else { return }
        var pending: [GradFunction] = []
        detachDying(&inputs, into: &pending)
        while var fn = pending.popLast() {
            guard isKnownUniquelyReferenced(&fn) else { continue }
            fn.vjp = nil
            detachDying(&fn.inputs, into: &pending)
        }
    }

    /// Empties `inputs`; the grad function of each input handle that nothing
    /// else holds moves to `pending` instead of being freed here.
    private static func detachDying(_ inputs: inout [Tensor<Scalar>], into pending: inout [GradFunction]) {
        guard !inputs.isEmpty else { return }
        var handles: [TensorHandle<Scalar>] = []
        for t in inputs where !handles.contains(where: { $0 === t.handle }) { handles.append(t.handle) }
        inputs = []
        for i in handles.indices where isKnownUniquelyReferenced(&handles[i]) {
            if let fn = handles[i].gradFn {
                handles[i].gradFn = nil
                pending.append(fn)
            }
        }
    }
}

extension Tensor {
    /// Wraps freshly computed storage as the result of an op, recording the op
    /// for the backward pass when gradients are enabled and an input needs one.
    /// This is the only place where graph edges are made.
    static func record(_ name: String, _ inputs: [Tensor], _ storage: TensorStorage<Scalar>,
                       shape: [Int], vjp: @escaping VJP<Scalar>) -> Tensor {
        let out = Tensor(storage: storage, shape: shape)
        if GradMode.isEnabled, inputs.contains(where: { $0.handle.requiresGrad }) {
            out.handle.requiresGrad = true
            out.handle.gradFn = GradFunction(name: name, inputs: inputs, vjp: vjp)
        }
        return out
    }
}

/// Whether ops record a graph. Off inside ``noGrad(_:)`` and during a
/// backward pass that does not create a graph.
enum GradMode {
    @TaskLocal static var isEnabled = true
}

/// Runs `body` without recording a graph, like `with torch.no_grad():`.
///
/// ```swift
/// let y = noGrad { model(x) }   // y.requiresGrad == false
/// ```
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

/// Runs `body` with graph recording on, even inside ``noGrad(_:)``.
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(true, operation: body)
}

/// `true` when ops record a graph here.
public var isGradEnabled: Bool { GradMode.isEnabled }

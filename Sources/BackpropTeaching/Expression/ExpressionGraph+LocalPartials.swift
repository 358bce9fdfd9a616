import BackpropCore
// The local partial derivatives of one node: its op differentiated alone at
// its inputs' values, by the op's own autograd. They are computed when first
// read: `graph --json` prints only values and gradients, and for a chain of
// 100,000 ops the 200,000 partials were half of the work.

/// Computes a node's ``LocalPartial``s on first use and keeps them.
///
/// A graph is not shared between threads while it is read (its tensors are
/// not `Sendable`), so the cache needs no lock.
final class LocalPartialsCache {
    private let operation: ExpressionOperation
    private let inputs: [Int]
    /// The input nodes' values, in argument order.
    private let arguments: [Tensor<Double>]
    /// The node's value.
    private let output: Tensor<Double>
    private var computed: [LocalPartial]?

    init(operation: ExpressionOperation, inputs: [Int], arguments: [Tensor<Double>], value: Tensor<Double>) {
        self.operation = operation
        self.inputs = inputs
        self.arguments = arguments
        output = value
    }

    /// The partials, computed on the first call.
    var value: [LocalPartial] {
        if let computed { return computed }
        let partials = inputs.isEmpty ? [] : compute()
        computed = partials
        return partials
    }

    /// Differentiates the op alone at its inputs' values.
    ///
    /// A scalar partial (scalar node, scalar input) and an elementwise one
    /// (the diagonal of the Jacobian, for an input of the node's shape) are
    /// both a vjp with a cotangent of ones, so all of a node's such inputs are
    /// read off one backward pass through the op: each input's gradient
    /// comes from its own vjp, the same numbers as differentiating the op
    /// once per input. Only a full Jacobian needs a pass per input (and per
    /// output element).
    private func compute() -> [LocalPartial] {
        let args = arguments.map { $0.detached() }
        let outShape = output.shape
        let kinds: [LocalPartial.Kind] = args.map { x in
            if outShape.isEmpty && x.shape.isEmpty { return .scalar }
            if operation.isElementwise && x.shape == outShape { return .elementwise }
            return output.count * x.count > 4096 ? .omitted : .jacobian
        }
        // One pass for the scalar and elementwise partials.
        let diagonal = kinds.indices.filter { kinds[$0] == .scalar || kinds[$0] == .elementwise }
        var diagonalPartials: [Tensor<Double>] = []
        if !diagonal.isEmpty {
            diagonalPartials = enableGrad {
                var a = args
                for j in diagonal { a[j] = a[j].detached().requiringGrad() }
                let y = GraphBuilder.apply(operation, a)
                return gradients(of: y, wrt: diagonal.map { a[$0] }, seed: Tensor(repeating: 1, shape: outShape))
            }
        }
        return inputs.enumerated().map { j, inputID in
            switch kinds[j] {
            case .scalar, .elementwise:
                return LocalPartial(input: inputID, kind: kinds[j], value: diagonalPartials[diagonal.firstIndex(of: j)!])
            case .omitted:
                return LocalPartial(input: inputID, kind: .omitted, value: Tensor.zeros([0]))
            case .jacobian:
                let f: (Tensor<Double>) -> Tensor<Double> = { t in
                    var a = args
                    a[j] = t
                    return GraphBuilder.apply(self.operation, a)
                }
                return LocalPartial(input: inputID, kind: .jacobian, value: jacobian(of: f, at: args[j]))
            }
        }
    }
}

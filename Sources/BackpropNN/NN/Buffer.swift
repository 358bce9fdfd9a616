import BackpropCore

// Buffers: a module's state that is saved with it but not trained by
// gradient (PyTorch's `register_buffer`), such as batch norm's running
// statistics. A module declares a `Buffer` property; reflection finds it as
// it finds parameters, and `stateDict`/`loadStateDict` and checkpoints
// include it under its PyTorch name.

/// A named tensor of a module that is not a parameter: no gradient, not
/// seen by optimizers, but part of the state dict (`running_mean`,
/// `running_var`, `num_batches_tracked`).
///
/// ```swift
/// final class Counter: Module {
///     var isTraining = true
///     let calls = Buffer<Float>(name: "calls", Tensor(0), isInteger: true)
///     func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { calls.value = calls.value + 1; return x }
/// }
/// Counter().namedBuffers().map(\.name)   // ["calls"]
/// ```
public final class Buffer<Scalar: TensorScalar> {
    /// The state_dict name inside its module (PyTorch's, e.g. `running_mean`).
    public let name: String
    /// The current value; never requires a gradient.
    public var value: Tensor<Scalar>
    /// Whole numbers stored as int64 in checkpoints (PyTorch's `num_batches_tracked` is a LongTensor).
    public let isInteger: Bool

    /// A buffer holding `value` (detached).
    public init(name: String, _ value: Tensor<Scalar>, isInteger: Bool = false) {
        self.name = name
        self.value = value.detached()
        self.isInteger = isInteger
    }
}

import BackpropCore

// Pooling and flattening layers: thin shells over the functions of
// Ops/Pooling.swift, with PyTorch's names and defaults.

/// Max pooling over [N, C, H, W], like `torch.nn.MaxPool2d` (stride
/// defaults to the kernel size).
///
/// ```swift
/// MaxPool2d<Float>(kernelSize: 2)(Tensor<Float>.zeros([64, 32, 26, 26]))   // [64, 32, 13, 13]
/// ```
public final class MaxPool2d<Scalar: TensorScalar>: Module {
    /// The window size.
    public let kernelSize: Size2
    /// Step between windows (the kernel size by default).
    public let stride: Size2
    /// Implicit -∞ padding on each side.
    public let padding: Size2
    /// Spacing of the window taps.
    public let dilation: Size2
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer; `stride` nil means the kernel size, as in PyTorch.
    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1) {
        (self.kernelSize, self.stride, self.padding, self.dilation) = (kernelSize, stride ?? kernelSize, padding, dilation)
    }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        maxPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }
}

/// Average pooling over [N, C, H, W], like `torch.nn.AvgPool2d` (padded
/// zeros count in the mean, as PyTorch's default `count_include_pad=True`).
///
/// ```swift
/// AvgPool2d<Float>(kernelSize: 2)(Tensor<Float>.ones([1, 3, 4, 4]))   // ones [1, 3, 2, 2]
/// ```
public final class AvgPool2d<Scalar: TensorScalar>: Module {
    /// The window size.
    public let kernelSize: Size2
    /// Step between windows (the kernel size by default).
    public let stride: Size2
    /// Zeros on each side.
    public let padding: Size2
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer; `stride` nil means the kernel size, as in PyTorch.
    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
    }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        avgPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling to a fixed output size, like `torch.nn.AdaptiveAvgPool2d`.
///
/// ```swift
/// AdaptiveAvgPool2d<Float>(outputSize: 1)(features)   // [N, C, 1, 1]
/// ```
public final class AdaptiveAvgPool2d<Scalar: TensorScalar>: Module {
    /// The output height and width.
    public let outputSize: Size2
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer.
    public init(outputSize: Size2) { self.outputSize = outputSize }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { adaptiveAvgPool2d(x, outputSize: outputSize) }
}

/// Joins axes `startAxis...endAxis` (by default all but the batch axis),
/// like `torch.nn.Flatten`.
///
/// ```swift
/// Flatten<Float>()(Tensor<Float>.zeros([64, 64, 5, 5]))   // [64, 1600]
/// ```
public final class Flatten<Scalar: TensorScalar>: Module {
    /// The first axis joined.
    public let startAxis: Int
    /// The last axis joined.
    public let endAxis: Int
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true
    /// The layer (PyTorch's defaults: start_dim=1, end_dim=-1).
    public init(startAxis: Int = 1, endAxis: Int = -1) { (self.startAxis, self.endAxis) = (startAxis, endAxis) }
    /// The forward pass.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { flatten(x, startAxis: startAxis, endAxis: endAxis) }
}

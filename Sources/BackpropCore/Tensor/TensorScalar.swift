import RealModule

/// The element types a ``Tensor`` can hold: `Float` (the default in layers and
/// the command-line tool) and `Double` (gradient checking, `backprop explain`).
///
/// Kernels are specialised for both, so generic code never boxes a scalar or
/// calls a closure per element.
///
/// ```swift
/// let a = Tensor<Float>([1, 2, 3])
/// let b = Tensor<Double>([1, 2, 3])
/// ```
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Sendable,
    LosslessStringConvertible, Codable
where RawSignificand: FixedWidthInteger {
    /// PyTorch's name for the type: `"float32"` or `"float64"`.
    static var dtypeName: String { get }
}

extension Float: TensorScalar {
    /// `"float32"`, as `torch.float32`.
    public static var dtypeName: String { "float32" }
}

extension Double: TensorScalar {
    /// `"float64"`, as `torch.float64`.
    public static var dtypeName: String { "float64" }
}

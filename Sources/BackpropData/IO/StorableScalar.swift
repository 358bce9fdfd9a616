import BackpropCore

/// A ``TensorScalar`` that the file formats write: its safetensors dtype, its
/// NumPy type string and its IEEE bit pattern (stored little-endian). `Float`
/// and `Double` conform; each answers once, so the writers need no test of
/// the scalar type.
///
/// ```swift
/// print(Float.safetensorsDType.rawValue, Double.npyDescr)   // F32 <f8
/// let bytes = Npy.encode(Tensor<Double>([1, 2]))            // descr '<f8'
/// ```
public protocol StorableScalar: TensorScalar {
    /// The unsigned integer of the same width as the scalar (`UInt32`, `UInt64`).
    associatedtype BitPattern: FixedWidthInteger & UnsignedInteger

    /// The dtype a tensor of this type is written as in safetensors: `F32` or `F64`.
    static var safetensorsDType: SafetensorsDType { get }

    /// NumPy's type string for this type in a `.npy` header: `<f4` or `<f8`.
    static var npyDescr: String { get }

    /// The IEEE 754 encoding of the value (`Float.bitPattern`, `Double.bitPattern`).
    var bitPattern: BitPattern { get }
}

extension Float: StorableScalar {
    /// `F32`.
    public static var safetensorsDType: SafetensorsDType { .f32 }
    /// `<f4`: little-endian, 4-byte float.
    public static var npyDescr: String { "<f4" }
}

extension Double: StorableScalar {
    /// `F64`.
    public static var safetensorsDType: SafetensorsDType { .f64 }
    /// `<f8`: little-endian, 8-byte float.
    public static var npyDescr: String { "<f8" }
}

extension Array where Element == UInt8 {
    /// Appends the scalars' little-endian IEEE bytes.
    mutating func appendLittleEndian<S: StorableScalar>(_ values: UnsafeBufferPointer<S>) {
        reserveCapacity(count + values.count * MemoryLayout<S>.size)
        for v in values { appendLittleEndian(v.bitPattern) }
    }
}

import BackpropCore
/// The element types of a safetensors file that this library reads. The
/// floating-point types are the ones weights use; `F32` and `F64` are also
/// written. Integer and boolean tensors (labels, counters) read as their
/// values converted to floating point.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    /// IEEE half precision.
    case f16 = "F16"
    /// bfloat16: float32's exponent with a 7-bit mantissa.
    case bf16 = "BF16"
    /// IEEE single precision (`Float`).
    case f32 = "F32"
    /// IEEE double precision (`Double`).
    case f64 = "F64"
    /// One byte per value, 0 or 1.
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// Unsigned 16-bit integer.
    case u16 = "U16"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Unsigned 32-bit integer.
    case u32 = "U32"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Unsigned 64-bit integer.
    case u64 = "U64"
    /// Signed 64-bit integer.
    case i64 = "I64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .u8, .i8: return 1
        case .f16, .bf16, .u16, .i16: return 2
        case .f32, .u32, .i32: return 4
        case .f64, .u64, .i64: return 8
        }
    }

    /// The dtype a tensor of `Scalar` is written as (``StorableScalar/safetensorsDType``).
    ///
    /// ```swift
    /// SafetensorsDType.of(Double.self)   // .f64
    /// ```
    public static func of<Scalar: StorableScalar>(_: Scalar.Type) -> SafetensorsDType {
        Scalar.safetensorsDType
    }
}

/// One tensor's entry in a safetensors header.
public struct SafetensorsEntry: Sendable, Equatable {
    /// The tensor's name (a state_dict key such as `0.weight`).
    public let name: String
    /// The element type stored in the file.
    public let dtype: SafetensorsDType
    /// The tensor's shape.
    public let shape: [Int]
    /// Byte range inside the data section (after the header), as in `data_offsets`.
    public let dataOffsets: Range<Int>
}

/// A safetensors file read into memory and validated: the format PyTorch and
/// Hugging Face use for weights.
///
/// ```
/// [8 bytes: header length N, little-endian u64]
/// [N bytes: JSON {"__metadata__": {..}, "0.weight": {"dtype": "F32", "shape": [8, 4], "data_offsets": [0, 128]}, ...}]
/// [data: raw little-endian elements, row-major]
/// ```
///
/// Reading checks everything a hostile or damaged file could get wrong:
/// the header length against the file size, that the header is a JSON
/// object, each entry's `dtype`, `shape` and `data_offsets`, that offsets lie
/// inside the data and do not overlap, and that each size is
/// `product(shape) * dtype size`. Every error is a ``DataError`` naming the file.
///
/// ```swift
/// let file = try SafetensorsFile(path: "model.safetensors")
/// let w: Tensor<Float> = try file.tensor(named: "0.weight")
/// print(file.metadata["architecture"] ?? "")
/// ```
public struct SafetensorsFile: Sendable {
    /// Where the file came from (used in error messages).
    public let path: String
    /// The string map stored under `__metadata__`.
    public let metadata: [String: String]
    /// The tensors, in the order of their data offsets.
    public let entries: [SafetensorsEntry]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Reads and validates a file.
    public init(path: String) throws {
        try self.init(bytes: FileIO.readBytes(path: path), path: path)
    }

    /// Validates bytes already in memory; `path` names them in errors.
    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        self.bytes = bytes
        func fail(_ message: String) -> DataError { DataError(path: path, message) }
        guard bytes.count >= 8 else {
            throw fail("not a safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = bytes.withUnsafeBytes { $0.littleEndian(UInt64.self, at: 0) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("header length \(headerLength) exceeds the file size (\(bytes.count) bytes)")
        }
        guard headerLength >= 2 else { throw fail("header length \(headerLength) is too short for a JSON object") }
        let n = Int(headerLength)
        dataStart = 8 + n
        let dataSize = bytes.count - dataStart
        let header: JSON
        do {
            header = try JSON.parse(bytes: bytes[8..<dataStart])
        } catch let e as DataError {
            throw fail("header is not JSON: \(e.message)")
        }
        guard let members = header.objectValue else {
            throw fail("header is \(header.kindName), not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard let pairs = value.objectValue else { throw fail("__metadata__ is \(value.kindName), not an object") }
                for (k, v) in pairs {
                    guard let s = v.stringValue else {
                        throw fail("__metadata__.\(DataError.excerpt(k)) is \(v.kindName), not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            let at = "tensor \(DataError.quote(name))"
            guard value.objectValue != nil else { throw fail("\(at): entry is \(value.kindName), not an object") }
            guard let dtypeValue = value["dtype"] else { throw fail("\(at): missing \"dtype\"") }
            guard let dtypeName = dtypeValue.stringValue else { throw fail("\(at): dtype is \(dtypeValue.kindName), not a string") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                if ["F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0"].contains(dtypeName) {
                    throw fail("\(at): dtype \(dtypeName) is not supported (F16, BF16, F32, F64 and integer types are)")
                }
                throw fail("\(at): unknown dtype \"\(dtypeName)\"")
            }
            guard let shapeValue = value["shape"] else { throw fail("\(at): missing \"shape\"") }
            guard let shapeItems = shapeValue.arrayValue else { throw fail("\(at): shape is \(shapeValue.kindName), not an array") }
            var shape: [Int] = []
            var elementCount = 1
            for (i, d) in shapeItems.enumerated() {
                guard let dim = d.intValue, dim >= 0 else { throw fail("\(at): shape[\(i)] is not a non-negative integer") }
                shape.append(dim)
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= dataSize else {
                    throw fail("\(at): shape \(shape) is larger than the data section (\(dataSize) bytes)")
                }
                elementCount = product
            }
            guard let offsetsValue = value["data_offsets"] else { throw fail("\(at): missing \"data_offsets\"") }
            guard let offsetItems = offsetsValue.arrayValue, offsetItems.count == 2,
                  let begin = offsetItems[0].intValue, let end = offsetItems[1].intValue, begin >= 0, end >= 0 else {
                throw fail("\(at): data_offsets must be two non-negative integers [begin, end]")
            }
            guard begin <= end else { throw fail("\(at): data_offsets [\(begin), \(end)] has begin after end") }
            guard end <= dataSize else {
                throw fail("\(at): data_offsets [\(begin), \(end)] run past the end of the data section (\(dataSize) bytes)")
            }
            let expected = elementCount * dtype.byteCount
            guard end - begin == expected else {
                throw fail("\(at): data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(shape) of \(dtype.rawValue) needs \(expected)")
            }
            entries.append(SafetensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end))
        }
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.dataOffsets.lowerBound < a.dataOffsets.upperBound && !b.dataOffsets.isEmpty {
            throw fail("tensors \"\(a.name)\" [\(a.dataOffsets.lowerBound), \(a.dataOffsets.upperBound)] and \"\(b.name)\" [\(b.dataOffsets.lowerBound), \(b.dataOffsets.upperBound)] overlap")
        }
        self.metadata = metadata
        self.entries = entries
    }

    /// The names of the tensors, in data order.
    public var names: [String] { entries.map(\.name) }

    /// The entry named `name`, or `nil`.
    public func entry(named name: String) -> SafetensorsEntry? { entries.first { $0.name == name } }

    /// The tensor named `name`, converted to `Scalar`. F16 and BF16 convert to
    /// `Float` and `Double` exactly; F64 to `Float` rounds to nearest.
    ///
    /// ```swift
    /// let b: Tensor<Double> = try file.tensor(named: "0.bias")
    /// ```
    public func tensor<Scalar: TensorScalar>(named name: String, as _: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        guard let e = entry(named: name) else {
            throw DataError(path: path, "no tensor named \(DataError.quote(name)) (the file has \(DataError.excerpt(names.map { DataError.quote($0) }.joined(separator: ", "), limit: 200)))")
        }
        let n = e.shape.reduce(1, *)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        let out = storage.base
        let start = dataStart + e.dataOffsets.lowerBound
        bytes.withUnsafeBytes { raw in
            switch e.dtype {
            case .f32:
                for i in 0..<n { out[i] = Scalar(Float(bitPattern: raw.littleEndian(UInt32.self, at: start + 4 * i))) }
            case .f64:
                for i in 0..<n { out[i] = Scalar(Double(bitPattern: raw.littleEndian(UInt64.self, at: start + 8 * i))) }
            case .f16:
                for i in 0..<n { out[i] = Scalar(halfToFloat(raw.littleEndian(UInt16.self, at: start + 2 * i))) }
            case .bf16:
                for i in 0..<n { out[i] = Scalar(Float(bitPattern: UInt32(raw.littleEndian(UInt16.self, at: start + 2 * i)) << 16)) }
            case .bool: for i in 0..<n { out[i] = raw[start + i] != 0 ? 1 : 0 }
            case .u8: for i in 0..<n { out[i] = Scalar(raw[start + i]) }
            case .i8: for i in 0..<n { out[i] = Scalar(Int8(bitPattern: raw[start + i])) }
            case .u16: for i in 0..<n { out[i] = Scalar(raw.littleEndian(UInt16.self, at: start + 2 * i)) }
            case .i16: for i in 0..<n { out[i] = Scalar(raw.littleEndian(Int16.self, at: start + 2 * i)) }
            case .u32: for i in 0..<n { out[i] = Scalar(raw.littleEndian(UInt32.self, at: start + 4 * i)) }
            case .i32: for i in 0..<n { out[i] = Scalar(raw.littleEndian(Int32.self, at: start + 4 * i)) }
            case .u64: for i in 0..<n { out[i] = Scalar(raw.littleEndian(UInt64.self, at: start + 8 * i)) }
            case .i64: for i in 0..<n { out[i] = Scalar(raw.littleEndian(Int64.self, at: start + 8 * i)) }
            }
        }
        return Tensor(storage: storage, shape: e.shape)
    }

    /// Every tensor, converted to `Scalar`.
    public func tensors<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) throws -> [String: Tensor<Scalar>] {
        var out: [String: Tensor<Scalar>] = [:]
        for e in entries { out[e.name] = try tensor(named: e.name) }
        return out
    }
}

/// IEEE 754 binary16 to binary32, exactly (every half is a float).
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F {   // infinity or NaN; keep the payload
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {      // zero or subnormal: mantissa * 2^-24
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}

/// Writing safetensors files.
public enum Safetensors {
    /// The bytes of a safetensors file holding `tensors` in the given order,
    /// as F32 (`Float`) or F64 (`Double`). The header is compact JSON with
    /// `__metadata__` first (keys sorted), then the tensors in order, padded
    /// with spaces to a multiple of 8 bytes as the reference implementation
    /// does, so the output is the same byte for byte on every run.
    ///
    /// `dtypes` writes chosen tensors as another type: `F32`, `F64`, or `I64`
    /// (whole numbers, such as batch norm's `num_batches_tracked`, which PyTorch keeps as int64).
    ///
    /// ```swift
    /// let bytes = Safetensors.encode([("w", Tensor<Float>([1, 2]))], metadata: ["format": "pt"])
    /// let counter = Safetensors.encode([("n", Tensor<Float>(3))], dtypes: ["n": .i64])
    /// ```
    public static func encode<Scalar: StorableScalar>(_ tensors: [(name: String, tensor: Tensor<Scalar>)],
                                                   dtypes: [String: SafetensorsDType] = [:],
                                                   metadata: [String: String] = [:]) -> [UInt8] {
        let defaultType = SafetensorsDType.of(Scalar.self)
        for (name, t) in dtypes {
            precondition([.f32, .f64, .i64].contains(t), "Safetensors.encode: \(name): cannot write \(t.rawValue) (F32, F64 and I64 are written)")
        }
        var names = Set<String>()
        var members: [(String, JSON)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        for (name, t) in tensors {
            precondition(name != "__metadata__" && names.insert(name).inserted,
                         "Safetensors.encode: duplicate or reserved tensor name \"\(name)\"")
            let dtype = dtypes[name] ?? defaultType
            let size = t.count * dtype.byteCount
            members.append((name, .object([
                ("dtype", .string(dtype.rawValue)),
                ("shape", .array(t.shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + size))])),
            ])))
            offset += size
        }
        var header = Array(JSON.object(members).compactText.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        out.appendLittleEndian(UInt64(header.count))
        out.append(contentsOf: header)
        for (name, t) in tensors {
            let dtype = dtypes[name] ?? defaultType
            t.withUnsafeBufferPointer { buf in
                switch dtype {
                case defaultType: out.appendLittleEndian(buf)   // the scalar's own bits, in bulk
                case .f64: for v in buf { out.appendLittleEndian(Double(v).bitPattern) }
                case .i64:
                    for v in buf {
                        let d = Double(v)
                        precondition(d.rounded() == d && abs(d) < 0x1p63, "Safetensors.encode: \(name): \(d) is not an int64")
                        out.appendLittleEndian(UInt64(bitPattern: Int64(d)))
                    }
                default: for v in buf { out.appendLittleEndian(Float(v).bitPattern) }
                }
            }
        }
        return out
    }

    /// Writes a safetensors file atomically (see ``FileIO/writeAtomically(_:to:)``):
    /// an existing file at `path` is replaced only once the new one is complete.
    ///
    /// ```swift
    /// try Safetensors.write(model.namedParameters(), metadata: ["format": "pt"], to: "model.safetensors")
    /// ```
    public static func write<Scalar: StorableScalar>(_ tensors: [(name: String, tensor: Tensor<Scalar>)],
                                                  dtypes: [String: SafetensorsDType] = [:],
                                                  metadata: [String: String] = [:], to path: String) throws {
        try FileIO.writeAtomically(encode(tensors, dtypes: dtypes, metadata: metadata), to: path)
    }
}

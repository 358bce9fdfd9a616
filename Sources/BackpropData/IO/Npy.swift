import BackpropCore
/// NumPy's `.npy` format for one tensor: `\x93NUMPY`, a version, a Python
/// dict header (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`),
/// then the raw little-endian data in C order. Reads versions 1.0, 2.0 and
/// 3.0 with `<f4` or `<f8`; writes version 1.0, header padded to 64 bytes as
/// NumPy does.
///
/// ```swift
/// try Npy.write(Tensor<Float>([[1, 2], [3, 4]]), to: "w.npy")
/// let w: Tensor<Float> = try Npy.read(path: "w.npy")   // np.load("w.npy") in Python
/// ```
public enum Npy {
    /// The bytes of a `.npy` file holding `tensor`.
    public static func encode<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) -> [UInt8] {
        let descr = Scalar.self == Double.self ? "<f8" : "<f4"
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        // magic (6) + version (2) + length (2) + header, ending in '\n', a multiple of 64.
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out.appendLittleEndian(UInt16(header.count))
        out.append(contentsOf: header)
        tensor.withUnsafeBufferPointer { buf in
            if Scalar.self == Double.self {
                for v in buf { out.appendLittleEndian(Double(v).bitPattern) }
            } else {
                for v in buf { out.appendLittleEndian(Float(v).bitPattern) }
            }
        }
        return out
    }

    /// Writes a `.npy` file atomically.
    public static func write<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, to path: String) throws {
        try FileIO.writeAtomically(encode(tensor), to: path)
    }

    /// Reads a `.npy` file; `<f4` and `<f8` data convert to `Scalar`.
    public static func read<Scalar: TensorScalar>(path: String, as _: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        try decode(FileIO.readBytes(path: path), path: path)
    }

    /// Parses `.npy` bytes; `path` names them in errors.
    public static func decode<Scalar: TensorScalar>(_ bytes: [UInt8], path: String, as _: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        func fail(_ m: String) -> DataError { DataError(path: path, m) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes.withUnsafeBytes { $0.littleEndian(UInt16.self, at: 8) })
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes.withUnsafeBytes { $0.littleEndian(UInt32.self, at: 8) })
            headerStart = 12
        default:
            throw fail("unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw fail("header length \(headerLength) exceeds the file size (\(bytes.count) bytes)")
        }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let descr = try value(of: "descr", in: header, path: path)
        let fortran = try value(of: "fortran_order", in: header, path: path)
        let shapeText = try value(of: "shape", in: header, path: path)
        let elementSize: Int
        switch descr {
        case "'<f4'": elementSize = 4
        case "'<f8'": elementSize = 8
        default: throw fail("dtype \(descr) is not supported ('<f4' and '<f8' are)")
        }
        guard fortran == "False" else { throw fail("fortran_order \(fortran) is not supported (C order only)") }
        guard shapeText.hasPrefix("("), shapeText.hasSuffix(")") else { throw fail("shape \(shapeText) is not a tuple") }
        var shape: [Int] = []
        for part in shapeText.dropFirst().dropLast().split(separator: ",") {
            let t = part.trimmed(of: " ")
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw fail("shape \(shapeText) has a bad dimension '\(t)'") }
            shape.append(d)
        }
        let n = shape.reduce(1, *)
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == n * elementSize else {
            throw fail("shape \(shape) needs \(n * elementSize) data bytes, the file has \(bytes.count - dataStart)")
        }
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        let out = storage.base
        bytes.withUnsafeBytes { raw in
            if elementSize == 4 {
                for i in 0..<n { out[i] = Scalar(Float(bitPattern: raw.littleEndian(UInt32.self, at: dataStart + 4 * i))) }
            } else {
                for i in 0..<n { out[i] = Scalar(Double(bitPattern: raw.littleEndian(UInt64.self, at: dataStart + 8 * i))) }
            }
        }
        return Tensor(storage: storage, shape: shape)
    }

    /// The text of `'key': value` in the header dict, up to the next top-level comma or brace.
    private static func value(of key: String, in header: String, path: String) throws -> String {
        guard let r = header.firstRange(of: "'\(key)':") else {
            throw DataError(path: path, "header has no '\(key)': \(header.trimmed(of: " \n"))")
        }
        var depth = 0
        var out = ""
        for c in header[r.upperBound...] {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if depth == 0 && (c == "," || c == "}") { break }
            out.append(c)
            if depth < 0 { break }
        }
        return out.trimmed(of: " ")
    }
}

extension StringProtocol {
    /// Without leading and trailing characters from `set` (no Foundation needed).
    func trimmed(of set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

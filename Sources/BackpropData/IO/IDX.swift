import BackpropCore
/// The IDX format of MNIST and Fashion-MNIST: a big-endian header
/// `00 00 <type> <rank>`, `rank` big-endian UInt32 dimensions, then the data.
/// Only unsigned bytes (type 0x08) are read: magic 0x00000801 for labels
/// (rank 1) and 0x00000803 for images (rank 3). A file starting with the gzip
/// magic `1f 8b` is decompressed first.
///
/// ```swift
/// let labels = try IDXFile(path: "t10k-labels-idx1-ubyte.gz")
/// labels.shape   // [10000]
/// ```
public struct IDXFile: Sendable {
    /// The dimensions from the header.
    public let shape: [Int]
    /// The elements in row-major order.
    public let bytes: [UInt8]

    /// Reads a raw or gzip-compressed IDX file of unsigned bytes.
    public init(path: String) throws {
        var data = try FileIO.readBytes(path: path)
        if Gzip.isGzip(data) { data = try Gzip.decompress(data, path: path) }
        try self.init(bytes: data, path: path)
    }

    /// Parses IDX bytes (already decompressed); `path` names them in errors.
    public init(bytes data: [UInt8], path: String) throws {
        func fail(_ m: String) -> DataError { DataError(path: path, "IDX: \(m)") }
        guard data.count >= 4 else { throw fail("file is \(data.count) bytes, too short for the 4-byte magic number") }
        let magic = data.withUnsafeBytes { $0.bigEndian(UInt32.self, at: 0) }
        let magicText = "0x" + String(repeating: "0", count: 8 - String(magic, radix: 16).count) + String(magic, radix: 16)
        guard data[0] == 0, data[1] == 0 else {
            throw fail("wrong magic number \(magicText) (expected 0x00000801 for labels or 0x00000803 for images)")
        }
        guard data[2] == 0x08 else {
            throw fail("magic number \(magicText) has element type \(Gzip.hex(data[2])); only unsigned bytes (0x08) are supported")
        }
        let rank = Int(data[3])
        guard (1...4).contains(rank) else { throw fail("magic number \(magicText) gives rank \(rank); expected 1 to 4") }
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw fail("truncated header: \(data.count) bytes, rank \(rank) needs \(headerSize)")
        }
        var shape: [Int] = []
        var count = 1
        for i in 0..<rank {
            let d = Int(data.withUnsafeBytes { $0.bigEndian(UInt32.self, at: 4 + 4 * i) })
            shape.append(d)
            count *= d
            guard count <= 1 << 40 else { throw fail("dimensions \(shape) are implausibly large") }
        }
        let available = data.count - headerSize
        guard available >= count else {
            throw fail("truncated data: dimensions \(shape) need \(count) bytes after the header, the file has \(available)")
        }
        guard available == count else {
            throw fail("dimensions \(shape) need \(count) bytes after the header, the file has \(available) (extra data)")
        }
        self.shape = shape
        self.bytes = Array(data[headerSize...])
    }

    /// The bytes of an IDX file of unsigned bytes with the given shape.
    ///
    /// ```swift
    /// let file = IDXFile.encode(shape: [2], bytes: [3, 7])   // 00 00 08 01 00 00 00 02 03 07
    /// ```
    public static func encode(shape: [Int], bytes: [UInt8]) -> [UInt8] {
        precondition(shape.reduce(1, *) == bytes.count, "IDXFile.encode: shape \(shape) needs \(shape.reduce(1, *)) bytes, got \(bytes.count)")
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for d in shape { out.append(contentsOf: withUnsafeBytes(of: UInt32(d).bigEndian, Array.init)) }
        return out + bytes
    }
}

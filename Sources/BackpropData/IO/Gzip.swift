import BackpropCore
/// A gzip (RFC 1952) and DEFLATE (RFC 1951) decoder in plain Swift, so that
/// `.gz` datasets load with no zlib dependency. Handles stored, fixed-Huffman
/// and dynamic-Huffman blocks, multi-member files, and checks each member's
/// CRC-32 and length.
///
/// ```swift
/// let raw = try Gzip.decompress(FileIO.readBytes(path: "train-images-idx3-ubyte.gz"),
///                               path: "train-images-idx3-ubyte.gz")
/// ```
public enum Gzip {
    /// `true` when the bytes start with the gzip magic `1f 8b`.
    public static func isGzip<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var it = bytes.makeIterator()
        return it.next() == 0x1F && it.next() == 0x8B
    }

    /// The decompressed contents of a gzip file; `path` names it in errors.
    public static func decompress(_ bytes: [UInt8], path: String = "") throws -> [UInt8] {
        func fail(_ m: String) -> DataError { DataError(path: path, "gzip: \(m)") }
        var output: [UInt8] = []
        var pos = 0
        var member = 0
        while pos < bytes.count {
            if member > 0 && bytes[pos...].allSatisfy({ $0 == 0 }) { break }   // zero padding after the last member
            guard bytes.count - pos >= 18 else { throw fail("truncated header at byte \(pos)") }
            guard bytes[pos] == 0x1F, bytes[pos + 1] == 0x8B else {
                throw fail("bad magic \(hex(bytes[pos])) \(hex(bytes[pos + 1])) at byte \(pos) (expected 1f 8b)")
            }
            guard bytes[pos + 2] == 8 else { throw fail("compression method \(bytes[pos + 2]) is not DEFLATE (8)") }
            let flags = bytes[pos + 3]
            guard flags & 0xE0 == 0 else { throw fail("reserved header flags set (\(hex(flags)))") }
            var p = pos + 10
            if flags & 0x04 != 0 {   // FEXTRA
                guard p + 2 <= bytes.count else { throw fail("truncated extra field") }
                p += 2 + Int(bytes[p]) | Int(bytes[p + 1]) << 8
            }
            for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {   // FNAME, FCOMMENT: zero-terminated
                while p < bytes.count && bytes[p] != 0 { p += 1 }
                p += 1
            }
            if flags & 0x02 != 0 { p += 2 }   // FHCRC
            guard p < bytes.count else { throw fail("truncated header") }
            let start = output.count
            let end = try bytes.withUnsafeBufferPointer { buf in
                var inflater = Inflater(input: buf, position: p, path: path)
                try inflater.inflate(into: &output)
                return inflater.bytesConsumed
            }
            guard end + 8 <= bytes.count else { throw fail("truncated: missing the CRC-32 and length trailer") }
            let (crc, size) = bytes.withUnsafeBytes { ($0.littleEndian(UInt32.self, at: end), $0.littleEndian(UInt32.self, at: end + 4)) }
            let actualCRC = output[start...].withUnsafeBufferPointer { CRC32.checksum($0) }
            guard actualCRC == crc else {
                throw fail("CRC-32 mismatch: stored \(hex32(crc)), computed \(hex32(actualCRC)) (the data is corrupt)")
            }
            guard UInt32(truncatingIfNeeded: output.count - start) == size else {
                throw fail("length mismatch: stored \(size), decompressed \(output.count - start) bytes")
            }
            pos = end + 8
            member += 1
        }
        guard member > 0 else { throw fail("empty file") }
        return output
    }

    /// Decompresses a raw DEFLATE stream (no gzip header or trailer).
    public static func inflate(_ bytes: [UInt8], path: String = "") throws -> [UInt8] {
        var output: [UInt8] = []
        try bytes.withUnsafeBufferPointer { buf in
            var inflater = Inflater(input: buf, position: 0, path: path)
            try inflater.inflate(into: &output)
        }
        return output
    }

    static func hex(_ b: UInt8) -> String { (b < 16 ? "0" : "") + String(b, radix: 16) }
    static func hex32(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as gzip and zip use.
///
/// ```swift
/// CRC32.checksum(Array("123456789".utf8))   // 0xCBF43926
/// ```
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            return c ^ 0xFFFF_FFFF
        }
    }
}

/// A canonical Huffman code as a lookup table indexed by the next `maxLength`
/// input bits (LSB first): each entry holds `symbol << 4 | codeLength`; 0 marks
/// a bit pattern that is no code (an incomplete code).
struct HuffmanTable {
    let entries: [UInt32]
    let maxLength: Int

    /// `nil` when the lengths over-subscribe the code space.
    init?(lengths: [UInt8]) {
        var counts = [Int](repeating: 0, count: 16)
        for l in lengths { counts[Int(l)] += 1 }
        counts[0] = 0
        var left = 1
        for len in 1...15 {
            left = left * 2 - counts[len]
            if left < 0 { return nil }
        }
        let maxLength = max(1, lengths.map(Int.init).max() ?? 1)
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for len in 1...15 {
            code = (code + counts[len - 1]) << 1
            nextCode[len] = code
        }
        var entries = [UInt32](repeating: 0, count: 1 << maxLength)
        for (symbol, l) in lengths.enumerated() where l > 0 {
            let len = Int(l)
            let c = nextCode[len]
            nextCode[len] += 1
            var reversed = 0
            for i in 0..<len where c & (1 << i) != 0 { reversed |= 1 << (len - 1 - i) }
            let entry = UInt32(symbol) << 4 | UInt32(len)
            var i = reversed
            while i < entries.count {
                entries[i] = entry
                i += 1 << len
            }
        }
        self.entries = entries
        self.maxLength = maxLength
    }

    static let fixedLiteral = HuffmanTable(lengths: (0..<288).map { s -> UInt8 in
        s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8 })!
    static let fixedDistance = HuffmanTable(lengths: [UInt8](repeating: 5, count: 30))!
}

/// The state of one DEFLATE decode: input bits are read LSB first into a
/// 64-bit buffer; reading past the end feeds zeros and is caught as truncation.
struct Inflater {
    let input: UnsafeBufferPointer<UInt8>
    var position: Int
    let path: String
    var bitBuffer: UInt64 = 0
    var bitCount = 0

    init(input: UnsafeBufferPointer<UInt8>, position: Int, path: String) {
        self.input = input
        self.position = position
        self.path = path
    }

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                    67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                      1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                       11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    func fail(_ m: String) -> DataError { DataError(path: path, "deflate: \(m)") }

    /// Bytes of input used so far, counting a partly used byte as used.
    var bytesConsumed: Int { position - bitCount / 8 }

    mutating func refill() throws {
        while bitCount <= 56 {
            if position < input.count {
                bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            } else if position > input.count + 8 {
                throw fail("truncated stream")
            }
            position += 1
            bitCount += 8
        }
    }

    mutating func bits(_ n: Int) throws -> Int {
        if n == 0 { return 0 }
        if bitCount < n { try refill() }
        let v = Int(bitBuffer & ((1 << UInt64(n)) - 1))
        bitBuffer >>= UInt64(n)
        bitCount -= n
        return v
    }

    mutating func decode(_ table: HuffmanTable) throws -> Int {
        if bitCount < table.maxLength { try refill() }
        let entry = table.entries[Int(bitBuffer & ((1 << UInt64(table.maxLength)) - 1))]
        let len = Int(entry & 15)
        guard len > 0 else { throw fail("invalid Huffman code") }
        bitBuffer >>= UInt64(len)
        bitCount -= len
        return Int(entry >> 4)
    }

    func checkNotPastEnd() throws {
        if bytesConsumed > input.count { throw fail("truncated stream") }
    }

    mutating func inflate(into out: inout [UInt8]) throws {
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock(into: &out)
            case 1: try huffmanBlock(literal: .fixedLiteral, distance: .fixedDistance, into: &out)
            case 2:
                let (lit, dist) = try dynamicTables()
                try huffmanBlock(literal: lit, distance: dist, into: &out)
            default: throw fail("invalid block type 3")
            }
            try checkNotPastEnd()
        }
        // Drop the bits left in the last byte; the buffer may hold whole bytes read ahead.
        bitBuffer = 0
        position -= bitCount / 8
        bitCount = 0
    }

    mutating func storedBlock(into out: inout [UInt8]) throws {
        // Skip to a byte boundary, then give back whole buffered bytes.
        _ = try bits(bitCount % 8)
        position -= bitCount / 8
        bitBuffer = 0
        bitCount = 0
        guard position + 4 <= input.count else { throw fail("truncated stored block header") }
        let len = Int(input[position]) | Int(input[position + 1]) << 8
        let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard len == (~nlen & 0xFFFF) else { throw fail("stored block length \(len) does not match its complement") }
        position += 4
        guard position + len <= input.count else { throw fail("truncated stored block") }
        out.append(contentsOf: input[position..<position + len])
        position += len
    }

    mutating func dynamicTables() throws -> (HuffmanTable, HuffmanTable) {
        let nLiteral = try bits(5) + 257
        let nDistance = try bits(5) + 1
        let nCodeLength = try bits(4) + 4
        guard nLiteral <= 286, nDistance <= 30 else { throw fail("too many length or distance codes") }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<nCodeLength { codeLengthLengths[Inflater.codeLengthOrder[i]] = UInt8(try bits(3)) }
        guard let codeLengthTable = HuffmanTable(lengths: codeLengthLengths) else {
            throw fail("invalid code-length code")
        }
        var lengths: [UInt8] = []
        lengths.reserveCapacity(nLiteral + nDistance)
        while lengths.count < nLiteral + nDistance {
            let symbol = try decode(codeLengthTable)
            switch symbol {
            case 0...15: lengths.append(UInt8(symbol))
            case 16:
                guard let previous = lengths.last else { throw fail("repeat code with no previous length") }
                lengths.append(contentsOf: repeatElement(previous, count: 3 + (try bits(2))))
            case 17: lengths.append(contentsOf: repeatElement(0, count: 3 + (try bits(3))))
            default: lengths.append(contentsOf: repeatElement(0, count: 11 + (try bits(7))))
            }
        }
        guard lengths.count == nLiteral + nDistance else { throw fail("code lengths overrun the table") }
        guard lengths[256] > 0 else { throw fail("no end-of-block code") }
        guard let literal = HuffmanTable(lengths: Array(lengths[0..<nLiteral])),
              let distance = HuffmanTable(lengths: Array(lengths[nLiteral...])) else {
            throw fail("over-subscribed Huffman code")
        }
        return (literal, distance)
    }

    mutating func huffmanBlock(literal: HuffmanTable, distance: HuffmanTable, into out: inout [UInt8]) throws {
        while true {
            let symbol = try decode(literal)
            if symbol < 256 {
                out.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < 29 else { throw fail("invalid length symbol \(symbol)") }
            let length = Inflater.lengthBase[lengthIndex] + (try bits(Inflater.lengthExtra[lengthIndex]))
            let distanceSymbol = try decode(distance)
            guard distanceSymbol < 30 else { throw fail("invalid distance symbol \(distanceSymbol)") }
            let dist = Inflater.distanceBase[distanceSymbol] + (try bits(Inflater.distanceExtra[distanceSymbol]))
            guard dist <= out.count else { throw fail("distance \(dist) reaches before the start of the output") }
            let from = out.count - dist
            if dist >= length {
                out.append(contentsOf: out[from..<from + length])
            } else {
                for i in 0..<length { out.append(out[from + i]) }
            }
        }
    }
}

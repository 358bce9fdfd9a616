import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

@Suite("Gzip")
struct GzipTests {
    let plain = try! FileIO.readBytes(path: DataTestSupport.fixture("gzip/plain.bin"))

    @Test("CRC-32 check value", arguments: [("123456789", UInt32(0xCBF4_3926)), ("", UInt32(0))])
    func crc(_ text: String, _ expected: UInt32) {
        #expect(CRC32.checksum(Array(text.utf8)) == expected)
    }

    @Test("decodes zlib's stored, fixed, dynamic and multi-member files",
          arguments: ["dynamic.gz", "fast.gz", "stored.gz", "fixed.gz", "huffman-only.gz", "named.gz", "multi-member.gz"])
    func decodes(_ name: String) throws {
        let path = DataTestSupport.fixture("gzip/" + name)
        let out = try Gzip.decompress(FileIO.readBytes(path: path), path: path)
        #expect(out.count == plain.count)
        #expect(out == plain)
    }

    @Test("empty member")
    func empty() throws {
        let path = DataTestSupport.fixture("gzip/empty.gz")
        #expect(try Gzip.decompress(FileIO.readBytes(path: path), path: path) == [])
    }

    @Test("corrupt CRC and truncation are errors naming the file")
    func corrupt() throws {
        let badCRC = DataTestSupport.fixture("gzip/bad-crc.gz")
        let m1 = DataTestSupport.dataErrorMessage { _ = try Gzip.decompress(FileIO.readBytes(path: badCRC), path: badCRC) }
        #expect(m1?.contains("bad-crc.gz: gzip: CRC-32 mismatch") == true, "\(m1 ?? "no error")")
        let truncated = DataTestSupport.fixture("gzip/truncated.gz")
        let m2 = DataTestSupport.dataErrorMessage { _ = try Gzip.decompress(FileIO.readBytes(path: truncated), path: truncated) }
        #expect(m2?.contains("truncated.gz") == true && m2?.contains("truncated") == true, "\(m2 ?? "no error")")
        let m3 = DataTestSupport.dataErrorMessage { _ = try Gzip.decompress([0x1F, 0x8C] + [UInt8](repeating: 0, count: 30), path: "x.gz") }
        #expect(m3 == "x.gz: gzip: bad magic 1f 8c at byte 0 (expected 1f 8b)")
    }

    @Test("a hand-made fixed-Huffman stream: 'a' then a copy of length 5 at distance 1")
    func handMade() throws {
        // Written out bit by bit from RFC 1951 §3.2.6: BFINAL=1, BTYPE=01,
        // literal 'a' (0x61: 8-bit code 0x91), length 5 (symbol 259: 7-bit code 3),
        // distance 1 (code 0: 5 bits), end of block (symbol 256: 7 zero bits).
        var bits: [Int] = [1, 1, 0]
        func code(_ value: Int, _ length: Int) { for i in stride(from: length - 1, through: 0, by: -1) { bits.append((value >> i) & 1) } }
        code(0x30 + 0x61, 8)
        code(259 - 256, 7)
        code(0, 5)
        code(0, 7)
        var bytes = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (i, b) in bits.enumerated() where b == 1 { bytes[i / 8] |= 1 << (i % 8) }
        #expect(try Gzip.inflate(bytes) == Array("aaaaaa".utf8))
    }
}

@Suite("Safetensors")
struct SafetensorsTests {
    @Test("PyTorch's MLP in every dtype gives PyTorch's weights and predictions", arguments: ["F32", "F64", "F16", "BF16"])
    func torchMLP(_ dtype: String) throws {
        let expected = try DataTestSupport.json("safetensors/torch_mlp_expected.json")
        let variant = try #require(expected["variants"]?[dtype])
        let file = try SafetensorsFile(path: DataTestSupport.fixture("safetensors/" + variant["file"]!.stringValue!))
        #expect(file.metadata["format"] == "pt")
        #expect(Set(file.names) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        var weights: [String: Tensor<Double>] = [:]
        for key in ["0.weight", "0.bias", "2.weight", "2.bias"] {
            let t: Tensor<Double> = try file.tensor(named: key)
            #expect(t.shape == variant["shapes"]![key]!.arrayValue!.map { $0.intValue! })
            // Widening from any dtype is exact: equality, not closeness.
            #expect(t.scalars == variant["weights_as_float64"]![key]!.flatNumbers)
            weights[key] = t
        }
        let x = Tensor<Double>(shape: [5, 4], scalars: expected["x"]!.flatNumbers)
        let h = relu(matmul(x, weights["0.weight"]!.T) + weights["0.bias"]!)
        let y = matmul(h, weights["2.weight"]!.T) + weights["2.bias"]!
        let want = Tensor<Double>(shape: [5, 3], scalars: variant["outputs"]!.flatNumbers)
        #expect(y.isClose(to: want, rtol: 1e-12, atol: 1e-14))
    }

    @Test("tiny_mixed: scalars, empty tensors and integer dtypes")
    func tinyMixed() throws {
        let expected = try DataTestSupport.json("safetensors/torch_mlp_expected.json")["tiny_mixed"]!["tensors"]!
        let file = try SafetensorsFile(path: DataTestSupport.fixture("safetensors/tiny_mixed.safetensors"))
        #expect(file.metadata.isEmpty)
        for (name, spec) in expected.objectValue! {
            let t: Tensor<Double> = try file.tensor(named: name)
            #expect(t.shape == spec["shape"]!.arrayValue!.map { $0.intValue! }, "\(name)")
            #expect(t.scalars == spec["values"]!.flatNumbers, "\(name)")
            #expect(file.entry(named: name)?.dtype.rawValue == spec["dtype"]!.stringValue)
        }
    }

    @Test("bad files are rejected with a message naming the file and the problem", arguments: [
        ("bad_header_too_large.safetensors", "header length 1000000 exceeds the file size"),
        ("bad_header_not_json.safetensors", "header is not JSON"),
        ("bad_unknown_dtype.safetensors", "unknown dtype \"F8_E9\""),
        ("bad_overlapping_offsets.safetensors", "overlap"),
        ("bad_offsets_past_end.safetensors", "run past the end of the data section (8 bytes)"),
        ("bad_shape_mismatch.safetensors", "shape [3] of F32 needs 12"),
        ("bad_truncated_length.safetensors", "shorter than the 8-byte header length"),
    ])
    func badFiles(_ name: String, _ fragment: String) {
        let path = DataTestSupport.fixture("safetensors/" + name)
        let message = DataTestSupport.dataErrorMessage { _ = try SafetensorsFile(path: path) }
        #expect(message?.hasPrefix(path + ": ") == true, "\(message ?? "no error")")
        #expect(message?.contains(fragment) == true, "\(message ?? "no error")")
    }

    @Test("F16 conversion is exact for normals, subnormals, zeros, infinities")
    func half() {
        #expect(halfToFloat(0x3C00) == 1)
        #expect(halfToFloat(0xC000) == -2)
        #expect(halfToFloat(0x7BFF) == 65504)
        #expect(halfToFloat(0x0001) == 0x1p-24)
        #expect(halfToFloat(0x03FF) == Float(1023) * 0x1p-24)
        #expect(halfToFloat(0x8000).sign == .minus && halfToFloat(0x8000) == 0)
        #expect(halfToFloat(0x7C00) == .infinity)
        #expect(halfToFloat(0x7E00).isNaN)
    }

    @Test("write then read: same names, shapes, values and metadata, for Float and Double")
    func roundTrip() throws {
        let dir = DataTestSupport.temporaryDirectory("st")
        let a = Tensor<Float>([[1.5, -2, 0.25], [3, 0, -0.125]])
        let b = Tensor<Float>(0.1)
        let path = dir + "/m.safetensors"
        try Safetensors.write([("a", a), ("b", b)], metadata: ["k": "v \"quoted\"\n"], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.names == ["a", "b"])
        #expect(file.metadata == ["k": "v \"quoted\"\n"])
        #expect(try file.tensor(named: "a", as: Float.self) == a)
        #expect(try file.tensor(named: "b", as: Float.self) == b)
        let d = Tensor<Double>([0.1, 1e-300, -3])
        try Safetensors.write([("d", d)], to: path)
        let file2 = try SafetensorsFile(path: path)
        #expect(file2.entry(named: "d")?.dtype == .f64)
        #expect(try file2.tensor(named: "d", as: Double.self) == d)
        // Header: length is a multiple of 8 and the layout is the documented one.
        let bytes = try FileIO.readBytes(path: path)
        let n = bytes.withUnsafeBytes { $0.littleEndian(UInt64.self, at: 0) }
        #expect(n % 8 == 0)
        #expect(String(decoding: bytes[8..<Int(8 + n)], as: UTF8.self)
            .hasPrefix(#"{"d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}}"#))
    }

    @Test("a missing tensor name is an error listing the names")
    func missingName() throws {
        let path = DataTestSupport.fixture("safetensors/torch_mlp_f32.safetensors")
        let file = try SafetensorsFile(path: path)
        let m = DataTestSupport.dataErrorMessage { _ = try file.tensor(named: "1.weight", as: Float.self) }
        #expect(m?.contains("no tensor named \"1.weight\"") == true)
    }
}

@Suite("IDX")
struct IDXTests {
    @Test("the 20-image fixture, raw and gzip, matches the JSON", arguments: ["", ".gz"])
    func digits20(_ suffix: String) throws {
        let expected = try DataTestSupport.json("idx/digits20_expected.json")
        let images = try IDXFile(path: DataTestSupport.fixture("idx/digits20-images.idx3-ubyte" + suffix))
        let labels = try IDXFile(path: DataTestSupport.fixture("idx/digits20-labels.idx1-ubyte" + suffix))
        #expect(images.shape == [20, 8, 8])
        #expect(labels.shape == [20])
        #expect(images.bytes.map(Double.init) == expected["images"]!.flatNumbers)
        #expect(labels.bytes.map(Double.init) == expected["labels"]!.flatNumbers)
    }

    @Test("the shipped digits dataset has 1,797 images with the published class counts")
    func fullDigits() throws {
        let expected = try DataTestSupport.json("idx/digits20_expected.json")["full_dataset"]!
        let root = DataTestSupport.repositoryRoot + "/Data/digits/"
        let images = try IDXFile(path: root + "digits-images.idx3-ubyte")
        let labels = try IDXFile(path: root + "digits-labels.idx1-ubyte")
        #expect(images.shape == [1797, 8, 8])
        #expect(labels.shape == [expected["count"]!.intValue!])
        var counts = [Double](repeating: 0, count: 10)
        for l in labels.bytes { counts[Int(l)] += 1 }
        #expect(counts == expected["label_counts"]!.flatNumbers)
        #expect(Double(images.bytes.reduce(0) { $0 + Int($1) }) == expected["pixel_sum"]!.numberValue!)
    }

    @Test("wrong magic and truncation are clear errors", arguments: [
        ("wrong-magic-images.idx3-ubyte", "magic number 0x00000d03 has element type 0d"),
        ("wrong-magic-labels.idx1-ubyte", "wrong magic number 0x01080000"),
        ("truncated-images.idx3-ubyte", "truncated data: dimensions [20, 8, 8] need 1280 bytes after the header, the file has 330"),
        ("truncated-header.idx1-ubyte", "truncated header: 6 bytes, rank 1 needs 8"),
    ])
    func bad(_ name: String, _ fragment: String) {
        let path = DataTestSupport.fixture("idx/" + name)
        let m = DataTestSupport.dataErrorMessage { _ = try IDXFile(path: path) }
        #expect(m == "\(path): IDX: " + fragment || m?.hasPrefix("\(path): IDX: \(fragment)") == true, "\(m ?? "no error")")
    }

    @Test("encode then parse")
    func roundTrip() throws {
        let bytes = IDXFile.encode(shape: [2, 3], bytes: [1, 2, 3, 4, 5, 6])
        #expect(Array(bytes[0..<4]) == [0, 0, 8, 2])
        let f = try IDXFile(bytes: bytes, path: "mem")
        #expect(f.shape == [2, 3] && f.bytes == [1, 2, 3, 4, 5, 6])
    }
}

@Suite("Npy IO")
struct NpyIOTests {
    @Test("a header NumPy writes is read; written files round-trip")
    func roundTrip() throws {
        // np.save of np.arange(6, dtype='<f4').reshape(2, 3): v1.0, header padded to 64 bytes.
        var numpyBytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0]
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".utf8)
        while header.count < 117 { header.append(0x20) }
        header.append(0x0A)
        numpyBytes += header
        for v in 0..<6 { numpyBytes.appendLittleEndian(Float(v).bitPattern) }
        let t: Tensor<Float> = try Npy.decode(numpyBytes, path: "np.npy")
        #expect(t == Tensor<Float>([[0, 1, 2], [3, 4, 5]]))
        #expect(Npy.encode(t) == numpyBytes)

        let dir = DataTestSupport.temporaryDirectory("npy")
        for shape in [[], [0], [5], [2, 1, 3]] {
            let n = shape.reduce(1, *)
            let d = Tensor<Double>(shape: shape, scalars: (0..<n).map { Double($0) * 0.1 - 0.2 })
            try Npy.write(d, to: dir + "/d.npy")
            #expect(try Npy.read(path: dir + "/d.npy", as: Double.self) == d)
            #expect(try FileIO.readBytes(path: dir + "/d.npy").count % 64 == (n * 8) % 64)
        }
    }

    @Test("unsupported dtype and size mismatch are errors")
    func bad() {
        var bytes = Npy.encode(Tensor<Float>([1, 2]))
        bytes.removeLast()
        let m = DataTestSupport.dataErrorMessage { _ = try Npy.decode(bytes, path: "a.npy", as: Float.self) }
        #expect(m == "a.npy: shape [2] needs 8 data bytes, the file has 7")
        let header = Array("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n".utf8)
        let intBytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header + [UInt8](repeating: 0, count: 8)
        let m2 = DataTestSupport.dataErrorMessage { _ = try Npy.decode(intBytes, path: "i.npy", as: Float.self) }
        #expect(m2 == "i.npy: dtype '<i8' is not supported ('<f4' and '<f8' are)")
    }
}

@Suite("Atomic write IO")
struct AtomicWriteIOTests {
    @Test("replaces a file completely and leaves no temporary file")
    func replaces() throws {
        let dir = DataTestSupport.temporaryDirectory("atomic")
        let path = dir + "/out.bin"
        try FileIO.writeAtomically([1, 2, 3], to: path)
        try FileIO.writeAtomically([9], to: path)
        #expect(try FileIO.readBytes(path: path) == [9])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])
    }

    @Test("an unwritable path is an error naming it, and an existing file survives")
    func unwritable() throws {
        let dir = DataTestSupport.temporaryDirectory("atomic")
        let missing = dir + "/no-such-folder/model.safetensors"
        let m = DataTestSupport.dataErrorMessage {
            try Safetensors.write([("w", Tensor<Float>([1]))], to: missing)
        }
        #expect(m?.hasPrefix(missing + ": cannot write: ") == true, "\(m ?? "no error")")

        // A directory in place of the file: the write fails and the directory is untouched.
        let asDir = dir + "/taken"
        try FileManager.default.createDirectory(atPath: asDir, withIntermediateDirectories: false)
        #expect(DataTestSupport.dataErrorMessage { try FileIO.writeAtomically([1], to: asDir) } == asDir + ": cannot write: is a directory")

        // A read-only directory holding a checkpoint: the new write fails, the old file keeps its bytes.
        let locked = dir + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        let checkpoint = locked + "/model.safetensors"
        try Safetensors.write([("w", Tensor<Float>([1, 2]))], to: checkpoint)
        let before = try FileIO.readBytes(path: checkpoint)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        if access(locked, W_OK) != 0 {   // root can write anywhere; the check only means something otherwise
            let m2 = DataTestSupport.dataErrorMessage { try Safetensors.write([("w", Tensor<Float>([3]))], to: checkpoint) }
            #expect(m2?.hasPrefix(checkpoint + ": cannot write") == true)
            #expect(try FileIO.readBytes(path: checkpoint) == before)
        }
        // A file whose parent is a regular file cannot be written either; the regular file survives.
        let blocker = dir + "/file"
        try FileIO.writeAtomically([7, 7], to: blocker)
        let m3 = DataTestSupport.dataErrorMessage { try FileIO.writeAtomically([1], to: blocker + "/x") }
        #expect(m3?.hasPrefix(blocker + "/x: cannot write: ") == true)
        #expect(try FileIO.readBytes(path: blocker) == [7, 7])
    }

    @Test("reading a missing file names it")
    func missingRead() {
        let m = DataTestSupport.dataErrorMessage { _ = try FileIO.readBytes(path: "/nonexistent/x.bin") }
        #expect(m == "/nonexistent/x.bin: cannot open for reading: No such file or directory")
    }
}

@Suite("JSON IO")
struct JSONIOTests {
    @Test("parse and write back")
    func roundTrip() throws {
        let text = #"{"a":[1,2.5,-3e-7],"b":{"c":null,"d":true},"e":"x\"\n\u00e9"}"#
        let v = try JSON.parse(text)
        #expect(v["a"]?.arrayValue?.count == 3)
        #expect(v["e"]?.stringValue == "x\"\né")
        #expect(try JSON.parse(v.compactText) == v)
        #expect(try JSON.parse(v.prettyText) == v)
    }

    @Test("errors give the line, the column (in characters) and the byte offset",
          arguments: [("{\"a\": }", 1, 7, 6), ("[1, 2", 1, 6, 5), ("{} x", 1, 4, 3),
                      ("{\"é\": x}", 1, 7, 7), ("{\"é\": 1,\n  \"b\": x}", 2, 8, 17)])
    func errors(_ text: String, _ line: Int, _ column: Int, _ offset: Int) {
        let m = DataTestSupport.dataErrorMessage { _ = try JSON.parse(text, source: "s.json") }
        #expect(m?.hasPrefix("s.json: invalid JSON at line \(line), column \(column) (byte \(offset)):") == true, "\(m ?? "")")
    }

    @Test("layouts: compact, one line, pretty with tensors on one line; NaN and infinities as null")
    func layouts() throws {
        let v = JSON.object([("a", .number(1)), ("b", .tensor(shape: [2, 2], scalars: [1, 2.5, -0.0, 1e-7])),
                             ("c", .array([.string("x\"y"), .array([])])), ("d", .object([])),
                             ("e", .array([.number(.nan), .number(-.infinity), .number(0.1)]))])
        #expect(v.text(.compact) == #"{"a":1,"b":[[1,2.5],[0,1e-07]],"c":["x\"y",[]],"d":{},"e":[null,null,0.1]}"#)
        #expect(v.text(.line) == #"{"a": 1, "b": [[1, 2.5], [0, 1e-07]], "c": ["x\"y", []], "d": {}, "e": [null, null, 0.1]}"#)
        #expect(v.text(.pretty) == """
            {
              "a": 1,
              "b": [[1, 2.5], [0, 1e-07]],
              "c": [
                "x\\"y",
                []
              ],
              "d": {},
              "e": [null, null, 0.1]
            }
            """)
        // A ragged array is not a tensor: one item per line.
        #expect(JSON.array([.array([.number(1)]), .array([.number(2), .number(3)])]).text(.pretty) == "[\n  [1],\n  [2, 3]\n]")
        #expect(JSON.tensor(shape: [], scalars: [0.3]).text(.compact) == "0.3")
    }
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

// Issue 14: bad input that crashed, hung or was accepted, each now a clear
// error (or a linear-time result), with the message it gives.

private func run(_ arguments: [String]) -> (code: Int32, output: [String], errors: [String]) {
    var output: [String] = [], errors: [String] = []
    let code = BackpropCommand.runMain(arguments: arguments, output: { output.append($0) }, errorOutput: { errors.append($0) })
    return (code, output, errors)
}

/// Writes `text` to a fresh file and returns its path.
private func write(_ text: String, name: String = "data.csv") -> String {
    let path = DataTestSupport.temporaryDirectory("defects") + "/" + name
    try! FileIO.writeText(text, to: path)
    return path
}

@Suite("Gzip: linear back-references, byte offsets in errors")
struct GzipDefectTests {
    /// A fixed-Huffman DEFLATE stream (RFC 1951 §3.2.6): 258 literals, then
    /// `copies` back-references of length 258 at distance 258, then end of block.
    static func repeatingStream(copies: Int) -> (stream: [UInt8], literals: [UInt8]) {
        var bits: [UInt8] = [1, 1, 0]   // BFINAL = 1, BTYPE = 01 (fixed Huffman), LSB first
        func code(_ value: Int, _ length: Int) {   // Huffman codes: most significant bit first
            for i in stride(from: length - 1, through: 0, by: -1) { bits.append(UInt8((value >> i) & 1)) }
        }
        func extra(_ value: Int, _ length: Int) {  // extra bits: least significant bit first
            for i in 0..<length { bits.append(UInt8((value >> i) & 1)) }
        }
        let literals = (0..<258).map { UInt8($0 % 144) }   // 0...143 have 8-bit codes 0x30 + value
        for b in literals { code(0x30 + Int(b), 8) }
        for _ in 0..<copies {
            code(0xC0 + (285 - 280), 8)   // length 258: symbol 285, no extra bits
            code(16, 5)                   // distance code 16: 257 + 7 extra bits
            extra(1, 7)                   // distance 258
        }
        code(0, 7)                        // end of block (symbol 256)
        var bytes = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (i, b) in bits.enumerated() where b == 1 { bytes[i / 8] |= 1 << (i % 8) }
        return (bytes, literals)
    }

    @Test("40,000 back-references of 258 bytes (10 MB out) decode; each copy used to copy the whole output")
    func manyBackReferences() throws {
        let copies = 40_000
        let (stream, literals) = Self.repeatingStream(copies: copies)
        let out = try Gzip.inflate(stream)
        #expect(out.count == 258 * (copies + 1))
        #expect(out.indices.allSatisfy { out[$0] == literals[$0 % 258] })
    }

    @Test("deflate errors give the byte offset where decoding stopped")
    func offsets() {
        // Block type 3 is invalid: first byte 0b111 (BFINAL=1, BTYPE=11).
        let m = DataTestSupport.dataErrorMessage { _ = try Gzip.inflate([0x07, 0, 0], path: "x.deflate") }
        #expect(m?.hasPrefix("x.deflate: deflate: at byte ") == true && m?.hasSuffix(": invalid block type 3") == true, "\(m ?? "no error")")
        // A distance before the start of the output, one literal in.
        var stream = Self.repeatingStream(copies: 1).stream
        stream = Array(stream.prefix(3)) + [0xFF, 0xFF]
        let m2 = DataTestSupport.dataErrorMessage { _ = try Gzip.inflate(stream, path: "y") }
        #expect(m2?.contains("y: deflate: at byte ") == true, "\(m2 ?? "no error")")
    }
}

@Suite("IDX: sizes checked before use")
struct IDXDefectTests {
    @Test("dimensions whose product overflows Int are an error, not a trap")
    func overflow() {
        let header: [UInt8] = [0, 0, 0x08, 4] + [UInt8](repeating: 0xFF, count: 16)
        let m = DataTestSupport.dataErrorMessage { _ = try IDXFile(bytes: header, path: "huge.idx") }
        #expect(m == "huge.idx: IDX: dimensions [4294967295, 4294967295, 4294967295, 4294967295] multiply past \(Int.max) elements")
    }

    @Test("zero-width images are an error naming the images file")
    func zeroWidth() throws {
        let images = try IDXFile(bytes: IDXFile.encode(shape: [2, 0, 0], bytes: []), path: "images.idx")
        let labels = try IDXFile(bytes: IDXFile.encode(shape: [2], bytes: [1, 2]), path: "labels.idx")
        let m = DataTestSupport.dataErrorMessage {
            _ = try IDXDataset.classification(images: images, labels: labels, scale: 255, imagesPath: "images.idx", labelsPath: "labels.idx")
        }
        #expect(m == "images.idx: IDX: images have shape [2, 0, 0]; each image needs at least one pixel")
    }
}

@Suite("Sizes that cannot fit are refused before allocating")
struct MemoryBudgetTests {
    @Test("bytes with overflow checks; refusal names the size needed")
    func arithmetic() {
        #expect(MemoryBudget.bytes([100_000, 100_000], elementSize: 4) == 40_000_000_000)
        #expect(MemoryBudget.bytes([1 << 40, 1 << 40], elementSize: 4) == nil)
        #expect(MemoryBudget.bytes([-1], elementSize: 4) == nil)
        #expect(MemoryBudget.sum([1, nil]) == nil && MemoryBudget.sum([Int.max, 1]) == nil && MemoryBudget.sum([2, 3]) == 5)
        #expect(MemoryBudget.refusal(bytes: 1000, physicalBytes: 2000) == nil)
        #expect(MemoryBudget.refusal(bytes: 40_000_000_000, physicalBytes: 16_000_000_000)
                == "would need 40 GB (40000000000 bytes); this machine has 16 GB of memory")
        #expect(MemoryBudget.refusal(bytes: nil) == "would need more than \(Int.max) bytes")
        #expect(MemoryBudget.formatBytes(1_536_000) == "1.54 MB" && MemoryBudget.formatBytes(999) == "999 bytes")
    }

    @Test("a model spec with a layer of 10^12 units")
    func hugeSpec() {
        #expect(ModelSpec(widths: [64, 128, 10]).parameterBytes == 4 * (64 * 128 + 128 + 128 * 10 + 10))
        let m: String = DataTestSupport.dataErrorMessage {
            _ = try ModelSpec(json: #"{"layers": [64, 1000000000000, 10]}"#, source: "model.json")
        } ?? "no error"
        #expect(m.hasPrefix("model.json: layers: the network would have more than 2147483648 parameters"), "\(m)")
        let overflow: String = DataTestSupport.dataErrorMessage {
            _ = try ModelSpec(json: #"{"layers": [4000000000000000, 4000000000000000]}"#, source: "model.json")
        } ?? "no error"
        #expect(overflow.contains("too many to count"), "\(overflow)")
    }

    @Test("a checkpoint whose metadata describes a huge network is refused before the model is built")
    func hugeCheckpoint() throws {
        let spec = ModelSpec(widths: [4, 8, 3])
        let tensors = spec.makeModel(seed: 1).namedParameters().map { ($0.name, $0.tensor) }
        let path = DataTestSupport.temporaryDirectory("ckpt") + "/huge.safetensors"
        let huge = Safetensors.encode(tensors, metadata: ["architecture": #"{"layers":[64,1000000000000,10]}"#])
        try FileIO.writeAtomically(huge, to: path)
        let m: String = DataTestSupport.dataErrorMessage { _ = try Checkpoint.load(path: path) } ?? "no error"
        #expect(m.contains("__metadata__.architecture: layers: the network would have more than 2147483648 parameters"), "\(m)")
        // Fits in memory, but not the file's tensors: refused from the header, before building.
        let wide = Safetensors.encode(tensors, metadata: ["architecture": #"{"layers":[4,100000000,3]}"#])
        try FileIO.writeAtomically(wide, to: path)
        let m2 = DataTestSupport.dataErrorMessage { _ = try Checkpoint.load(path: path) }
        #expect(m2 == "\(path): the tensors do not fit the model: 0.weight: expected [100000000, 4], got [8, 4]; 0.bias: expected [100000000], got [8]; 2.weight: expected [3, 100000000], got [3, 8]")
    }

    @Test("bench --sgemm 100000 is refused with the bytes it would need")
    func benchSgemm() {
        let r = run(["bench", "--allow-debug", "--sgemm", "100000", "--workload", "tiny"])
        #expect(r.code == 1)
        #expect(r.errors.count == 1 && r.errors[0].hasPrefix("error: bench: --sgemm 100000: the three matrices would need 120 GB (120000000000 bytes)")
                || MemoryBudget.physicalBytes >= 120_000_000_000, "\(r.errors)")
        let r2 = run(["bench", "--allow-debug", "--sgemm", "4000000000", "--workload", "tiny"])
        #expect(r2.errors == ["error: bench: --sgemm 4000000000: the three matrices would need more than \(Int.max) bytes"])
    }
}

@Suite("Expression language: linear, bounded")
struct ExpressionLimitTests {
    @Test("100,000 terms x+x+...+x parse into 199,999 flat expressions")
    func longChain() throws {
        let source = Array(repeating: "x", count: 100_000).joined(separator: "+")
        let program = try ExpressionProgram(parsing: source)
        #expect(program.expressions.count == 199_999)
        #expect(program.statements[0].expression == 199_998)
        let label = program.text(of: 199_998)
        #expect(label.count == 80 && label.hasSuffix("…") && label.hasPrefix("x+x+x"))
    }

    @Test("a graph of 5,000 terms evaluates (a chain, without recursion) and backpropagates")
    func chainGraph() throws {
        let source = Array(repeating: "x", count: 5_000).joined(separator: "+")
        let graph = try ExpressionGraph(program: ExpressionProgram(parsing: source), at: Bindings.parse("x=1"))
        #expect(graph.nodes.count == 5_000)
        #expect(graph.nodes[graph.output].value.item == 5_000)
        #expect(graph.gradient(of: "x")?.item == 5_000)
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow",
          arguments: [String(repeating: "(", count: 5000) + "x" + String(repeating: ")", count: 5000),
                      String(repeating: "-", count: 5000) + "x",
                      String(repeating: "tanh(", count: 5000) + "x" + String(repeating: ")", count: 5000),
                      Array(repeating: "x", count: 5000).joined(separator: "^"),
                      String(repeating: "[", count: 5000) + "1" + String(repeating: "]", count: 5000)])
    func deepNesting(_ source: String) {
        do {
            _ = try ExpressionProgram(parsing: source)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("nested more than 200 levels deep"), "\(error)")
        }
    }

    @Test("nesting up to the limit parses and evaluates")
    func atTheLimit() throws {
        let source = String(repeating: "(", count: 199) + "x" + String(repeating: ")", count: 199)
        let graph = try ExpressionGraph(program: ExpressionProgram(parsing: source), at: Bindings.parse("x=2"))
        #expect(graph.nodes[graph.output].value.item == 2)
    }

    /// The graph command as `backprop ARGS` parses it.
    func parsed(_ arguments: [String]) throws -> GraphCommand {
        try #require(BackpropCommand.parseAsRoot(arguments) as? GraphCommand)
    }

    @Test("programs that start with a minus sign")
    func leadingMinus() throws {
        let c = try parsed(["graph", "-x", "--at", "x=1"])
        #expect(c.program == "-x" && c.at == ["x=1"])
        #expect(try GraphCommand.output(program: c.program, at: c.at).contains("-x    neg    -1     ∂/∂x = -1                    1"))
        let c2 = try parsed(["graph", "-tanh(x)", "--at", "x=0", "--json"])
        #expect(c2.program == "-tanh(x)" && c2.json)
        #expect(try GraphCommand.output(program: c2.program, at: c2.at, json: true)
                == #"{"values": {"x": 0, "-tanh(x)": 0}, "gradients": {"x": -1, "-tanh(x)": 1}}"# + "\n")
        let c3 = try parsed(["graph", "--at", "x=2", "-x*x", "--svg", "/dev/null"])
        #expect(c3.program == "-x*x" && c3.at == ["x=2"] && c3.svg == "/dev/null")
        #expect(run(["graph"]).errors == ["error: graph: no program given; e.g. backprop graph \"w = x*y + z\" --at x=1,y=2,z=3"])
    }

    @Test("log(x) at x = -1: NaN is reported, and in JSON it is \"NaN\", not null")
    func nanReported() throws {
        #expect(try GraphCommand.output(program: "log(x)", at: ["x=-1"])
                .contains("warning: log(x) = nan is not finite: log of a negative number; so is every node computed from it"))
        #expect(try GraphCommand.output(program: "y = log(x); z = 2*c", at: ["x=-1,c=1"], json: true)
                == #"{"values": {"x": -1, "c": 1, "y": "NaN", "z": 2}, "gradients": {"x": 0, "c": 2, "y": 0, "z": 1}}"# + "\n")
        #expect(try GraphCommand.output(program: "z = 2*3", at: [], json: true) == #"{"values": {"z": 6}, "gradients": {"z": null}}"# + "\n")
    }
}

@Suite("CSV and JSON: only finite decimal numbers")
struct StrictNumberTests {
    @Test("CSV cells that strtod would take are errors with file:line:column",
          arguments: [("2.\u{0}5", "\"2.\\05\" is not a number"), ("0x1F", "\"0x1F\" is not a number"),
                      ("nan", "\"nan\" is not a finite number"), ("-inf", "\"-inf\" is not a finite number"),
                      ("1e999", "\"1e999\" is not a finite number"), ("1e39", "\"1e39\" is out of the range of Float (±3.4e38)"),
                      ("1.2.3", "\"1.2.3\" is not a number"), ("1e", "\"1e\" is not a number")])
    func csvCells(_ cell: String, _ problem: String) {
        let path = write("a,b,label\n1,2,0\n3,\(cell),1\n")
        let m = DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: path, target: "label") }
        #expect(m == "\(path):3:3: column 2 (\"b\"): \(problem)")
    }

    @Test("a regression target of 1e39 or nan is refused")
    func csvTargets() {
        let path = write("a,y\n1,2.5\n3,1e39\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: path, target: "y", task: .regression) }
                == "\(path):3:3: column 2 (\"y\"): \"1e39\" is out of the range of Float (±3.4e38)")
        let nan = write("a,y\n1,2.5\n3,NaN\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: nan, target: "y") }
                == "\(nan):3:3: column 2 (\"y\"): \"NaN\" is not a finite number")
        #expect(CSVNumber.parse(" -1.5e+3 ").isValue && CSVNumber.parse(".5").isValue && CSVNumber.parse("+7.").isValue)
    }

    @Test("JSON: leading zeros and numbers beyond Double are errors with line and column")
    func json() {
        let m = DataTestSupport.dataErrorMessage { _ = try JSON.parse("{\"a\": [1,\n 032]}", source: "x.json") }
        #expect(m == "x.json: invalid JSON at line 2, column 2 (byte 11): number with a leading zero")
        let m2 = DataTestSupport.dataErrorMessage { _ = try JSON.parse("[1e999]", source: "x.json") }
        #expect(m2 == "x.json: invalid JSON at line 1, column 2 (byte 1): number 1e999 is out of the range of a Double")
        #expect((try? JSON.parse("[0, -0, 0.5, 10]", source: "ok")) != nil)
    }
}

@Suite("Error messages: echoed values cut and escaped")
struct ExcerptTests {
    @Test("control characters escaped, long values cut to 80 characters with …")
    func excerpt() {
        #expect(DataError.excerpt("a\u{0}b\n\t\u{1B}") == "a\\0b\\n\\t\\u{1b}")
        let long = String(repeating: "x", count: 5_000_000)
        let cut = DataError.excerpt(long)
        #expect(cut.count == 80 && cut.hasSuffix("…"))
        #expect(DataError.excerpt(String(repeating: "y", count: 80)) == String(repeating: "y", count: 80))
        #expect(DataError.quote("say \"hi\"") == #""say \"hi\"""#)
    }

    @Test("a 1 MB CSV field gives a one-line message of readable length")
    func hugeField() {
        let path = write("a,label\n" + String(repeating: "z", count: 1_000_000) + "\u{7},0\n1,1\n")
        let m = DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: path, target: "label") } ?? ""
        #expect(m.count < 200 && m.hasSuffix("…\" is not a number"), "\(m.prefix(300))")
        let r = run(["graph", "x $" + String(repeating: "\u{1}", count: 10_000)])
        #expect(r.errors == ["error: 1:3: unexpected character '$'"])
        // Found by the expression fuzzer: --at values were echoed whole, newlines included.
        var m2 = "no error"
        do { _ = try Bindings.parse("a\nb") } catch { m2 = "\(error)" }
        #expect(m2 == "values \"a\\nb\", column 2: expected '=' after 'a', found end of line", "\(m2)")
        let r2 = run(["graph", String(repeating: "q", count: 10_000), "--at", "x=1"])
        #expect(r2.errors.count == 1 && r2.errors[0].count < 300, "\(r2.errors.first?.prefix(300) ?? "")")
    }
}

@Suite("softmax: large β stays finite")
struct SoftmaxLargeBetaTests {
    @Test("softargmax and the smooth maximum at β = 1e308 and β = -1e308")
    func largeBeta() {
        let e = Tensor<Double>([1, 2, 3])
        #expect(softargmax(e, beta: 1e308).scalars == [0, 0, 1])
        #expect(smoothMaximum(e, beta: 1e308).item == 3)
        #expect(softargmax(e, beta: -1e308).scalars == [1, 0, 0])
        #expect(smoothMaximum(e, beta: -1e308).item == 1)
        // Unchanged where nothing overflows: (1/2) log(e^2 + e^4 + e^6).
        expectClose(smoothMaximum(e, beta: 2).item, 0.5 * Foundation.log(Foundation.exp(2) + Foundation.exp(4) + Foundation.exp(6)), tol: 1e-12)
        let out = try! SoftmaxCommand.output(values: "1,2,3", betas: "1e308")
        #expect(!out.contains("nan"), "\(out)")
    }

    @Test("gradients of the shifted forms match finite differences")
    func gradcheck() {
        expectGradcheck("smoothMaximum β=3", [Tensor<Double>([0.3, -1.2, 2.0])]) { smoothMaximum($0[0], beta: 3) }
        expectGradcheck("softargmax β=-2", [Tensor<Double>([0.3, -1.2, 2.0])]) { (softargmax($0[0], beta: -2) * Tensor([1, 2, 3])).sum() }
    }
}

@Suite("Version")
struct VersionTests {
    @Test("backprop --version prints the library's version")
    func version() {
        #expect(Backprop.version == "0.2.0")
        let r = run(["--version"])
        #expect(r.code == 0 && r.output == ["0.2.0"])
    }
}

extension CSVNumber.Result {
    var isValue: Bool { if case .value = self { return true }; return false }
}

@Suite("Synthetic data: no NaN noise")
struct NoiseTests {
    @Test("a NaN, infinite or negative noise level is an error", arguments: [Double.nan, .infinity, -0.5])
    func badNoise(_ noise: Double) {
        let m = DataTestSupport.dataErrorMessage { _ = try DatasetSpec.moons.load(.training, options: DatasetOptions(noise: noise)) }
        #expect(m == "noise: \(noise) must be a finite number, 0 or more")
    }
}

@Suite("Checkpoints: non-finite parameters are refused")
struct NonFiniteCheckpointTests {
    @Test("a checkpoint holding NaN weights does not load")
    func nanWeights() throws {
        let spec = ModelSpec(widths: [2, 3, 1], loss: .mse)
        var tensors = spec.makeModel(seed: 1).namedParameters().map { ($0.name, $0.tensor.detached()) }
        tensors[1] = ("0.bias", Tensor<Float>([0, .nan, 1]))
        let path = DataTestSupport.temporaryDirectory("ckpt") + "/nan.safetensors"
        try FileIO.writeAtomically(Safetensors.encode(tensors, metadata: ["architecture": spec.json.compactText]), to: path)
        let m = DataTestSupport.dataErrorMessage { _ = try Checkpoint.load(path: path) }
        #expect(m == "\(path): tensor \"0.bias\" holds nan at element 1; a checkpoint's parameters must be finite")
    }
}

@Suite("Fuzzer findings")
struct FuzzFindingTests {
    @Test("JSON: an invalid escape of a control character gives a one-line message")
    func jsonEscape() {
        let m = DataTestSupport.dataErrorMessage { _ = try JSON.parse("\"\\\n\"", source: "x.json") }
        #expect(m == "x.json: invalid JSON at line 2, column 1 (byte 3): invalid escape \"\\\\\\n\"", "\(m ?? "")")
    }

    @Test("npy: a shape whose product overflows is an error, not a trap")
    func npyOverflow() {
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        let m = DataTestSupport.dataErrorMessage { let _: Tensor<Float> = try Npy.decode(bytes, path: "x.npy") }
        #expect(m == "x.npy: shape [4294967296, 4294967296, 4294967296] multiplies past \(Int.max) bytes")
    }

    @Test("CSV: a header name with a line break is escaped in messages")
    func csvHeader() {
        let path = write("a,\"b\r\nc\",y\n1,x,0\n")
        let m = DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: path, target: "y") }
        #expect(m == "\(path):3:3: column 2 (\"b\\r\\nc\"): \"x\" is not a number")
    }
}

@Suite("Fuzzer findings: IDX")
struct FuzzFindingIDXTests {
    @Test("no images, but dimensions of one image that overflow: an error, not a trap")
    func emptyButHuge() throws {
        let images = try IDXFile(bytes: [0, 0, 8, 3, 0, 0, 0, 0, 0xE4, 0x3B, 0, 0x10, 0xA8, 0, 0, 0], path: "images.idx")
        let labels = try IDXFile(bytes: IDXFile.encode(shape: [0], bytes: []), path: "labels.idx")
        let m = DataTestSupport.dataErrorMessage {
            _ = try IDXDataset.classification(images: images, labels: labels, scale: 255, imagesPath: "images.idx", labelsPath: "labels.idx")
        }
        #expect(m == "images.idx: IDX: images have shape [0, 3829071888, 2818572288]; one image's pixels multiply past \(Int.max)")
    }
}

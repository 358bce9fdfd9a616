// libFuzzer entry point for every parser of outside data. One binary holds
// all targets; the environment variable BACKPROP_FUZZ_TARGET picks one
// (scripts/fuzz.sh runs each with its own corpus in Fuzz/corpus/NAME).
//
// A target feeds the bytes to a parser and checks what must hold for any
// input: either a thrown error (DataError, ExpressionError) whose message is
// one readable line, or a value that satisfies the format's invariants.
// A trap, a sanitizer report, a leak or a hang is a bug.

import Backprop
@testable import BackpropCore
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

#if canImport(Glibc)
import Glibc
#endif

let target: String = {
    guard let p = getenv("BACKPROP_FUZZ_TARGET") else {
        fputs("set BACKPROP_FUZZ_TARGET to one of: \(targets.keys.sorted().joined(separator: ", "))\n", stderr)
        exit(2)
    }
    return String(cString: p)
}()

/// Thrown errors must be single lines of bounded length (issue 14: no 5 MB echoes).
func checkMessage(_ error: any Error) {
    let text = "\(error)"
    precondition(!text.contains("\n"), "multi-line error message: \(text.prefix(200))")
    precondition(text.count < 2_000, "error message of \(text.count) characters: \(text.prefix(200))")
}

func run(_ body: () throws -> Void) {
    do { try body() } catch { checkMessage(error) }
}

let targets: [String: ([UInt8]) -> Void] = [
    "gzip": { bytes in
        run { _ = try Gzip.inflate(bytes, path: "fuzz") }
        run {
            let out = try Gzip.decompress(bytes, path: "fuzz.gz")
            precondition(Gzip.isGzip(bytes))
            _ = out.count
        }
    },
    "idx": { bytes in
        run {
            let data = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, path: "fuzz.idx") : bytes
            let file = try IDXFile(bytes: data, path: "fuzz.idx")
            precondition(file.shape.reduce(1, *) == file.bytes.count, "IDX shape \(file.shape) vs \(file.bytes.count) bytes")
            if file.shape.count >= 2, file.bytes.count < 1 << 20, file.shape[0] < 1 << 16 {
                let labels = try IDXFile(bytes: IDXFile.encode(shape: [file.shape[0]], bytes: [UInt8](repeating: 1, count: file.shape[0])),
                                         path: "labels")
                _ = try IDXDataset.classification(images: file, labels: labels, scale: 255, imagesPath: "fuzz.idx", labelsPath: "labels")
            }
        }
    },
    "safetensors": { bytes in
        run {
            let file = try SafetensorsFile(bytes: bytes, path: "fuzz.safetensors")
            for entry in file.entries where ["F16", "BF16", "F32", "F64"].contains(entry.dtype.rawValue) {
                let t = try file.tensor(named: entry.name, as: Float.self)
                precondition(t.shape == entry.shape)
            }
            if let architecture = file.metadata["architecture"] {
                let spec = try ModelSpec(json: architecture, source: "fuzz architecture")
                try spec.checkTensors(of: file)
            }
        }
    },
    "checkpoint": { bytes in
        // A checkpoint as eval/predict/explain --checkpoint read it: tensors, architecture, preprocessing and the
        // training metadata (dataset, seed, samples, validation split) that picks the examples.
        run {
            let file = try SafetensorsFile(bytes: bytes, path: "fuzz.safetensors")
            let checkpoint = try Checkpoint.load(file: file, path: "fuzz.safetensors")
            // Only the datasets that read no other file (a recorded csv:/mnist: path could name /dev/zero).
            if let recorded = checkpoint.training?["dataset"]?.stringValue {
                let spec = try DatasetSpec(parsing: recorded)
                if case .csv = spec { return }
                if case .mnist = spec { return }
            }
            let (part, _, _) = try Inference.examples(for: checkpoint, path: "fuzz.safetensors", dataset: nil, target: nil,
                                                      split: .auto, maximumSamples: 500)
            precondition(part.features.shape.first == part.count)
            let head = part.features.sliced(0..<min(8, part.count))
            let csv = Inference.predictionsCSV(checkpoint, features: head, featureScale: part.featureScale)
            // One line per example after the header (class names with line breaks are quoted, so lines are not counted).
            if !(checkpoint.preprocessing.classNames ?? []).contains(where: { $0.contains(where: \.isNewline) }) {
                precondition(csv.split(separator: "\n", omittingEmptySubsequences: false).count == head.shape[0] + 2,
                             "one CSV line per example, after the header")
            }
        }
    },
    "csv": { bytes in
        run {
            let table = try CSVTable(text: String(decoding: bytes, as: UTF8.self), path: "fuzz.csv")
            precondition(table.rows.allSatisfy { $0.count == table.columnCount })
            if table.columnCount >= 2 {
                let data = try TensorDataset<Float>.csv(table: table, target: -1)
                precondition(data.features.scalars.allSatisfy(\.isFinite), "non-finite feature accepted")
                precondition(data.targets.scalars.allSatisfy(\.isFinite), "non-finite target accepted")
            }
        }
    },
    "json": { bytes in
        run {
            let value = try JSON.parse(bytes: bytes, source: "fuzz.json")
            // What we write, we read back as the same value.
            for layout in [JSON.Layout.compact, .line, .pretty] {
                let again = try JSON.parse(value.text(layout), source: "round trip")
                precondition(again == value, "JSON round trip changed the value")
            }
        }
    },
    "npy": { bytes in
        run {
            let t: Tensor<Float> = try Npy.decode(bytes, path: "fuzz.npy")
            let back: Tensor<Float> = try Npy.decode(Npy.encode(t), path: "round trip")
            precondition(back.shape == t.shape)
        }
        run { let _: Tensor<Double> = try Npy.decode(bytes, path: "fuzz.npy") }
    },
    "expression": { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        run {
            let program = try ExpressionProgram(parsing: text)
            let at: [(name: String, value: Tensor<Double>)] = [
                ("x", Tensor(0.5)), ("y", Tensor([1, -2])), ("W", Tensor([[1, 2], [3, 4]])),
            ]
            let graph = try ExpressionGraph(program: program, at: at)
            _ = graph.table()
            _ = graph.json()
        }
        run { _ = try Bindings.parse(text) }
    },
    "model": { bytes in
        run {
            let spec = try ModelSpec(json: String(decoding: bytes, as: UTF8.self), source: "fuzz model")
            if let b = spec.parameterBytes, b < 1 << 20, let shape = spec.resolvedInputShape, let n = spec.inputFeatures,
               n < 1 << 16, let out = spec.outputFeatures, out < 1 << 16 {
                let model = spec.makeModel(seed: 1)
                let x = Tensor<Float>.zeros([1] + shape)
                precondition(noGrad { model(x) }.shape == [1, out], "model output shape differs from outputFeatures")
            }
        }
    },
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let body = targets[target] else {
        fputs("unknown BACKPROP_FUZZ_TARGET \(target); one of: \(targets.keys.sorted().joined(separator: ", "))\n", stderr)
        exit(2)
    }
    body(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

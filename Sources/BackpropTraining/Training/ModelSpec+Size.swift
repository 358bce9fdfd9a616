import BackpropCore
import BackpropNN
import BackpropData
/// What a ``ModelSpec`` needs before it is built: its parameters' names,
/// shapes and bytes, so that sizes read from a file or a command line are
/// checked (against the file's tensors, against memory) before allocating.
extension ModelSpec {
    /// The state_dict names and shapes of the network ``makeModel(seed:)``
    /// builds, in order: `0.weight` `[out, in]`, `0.bias` `[out]`, ...
    ///
    /// ```swift
    /// ModelSpec(widths: [4, 8, 3]).parameterShapes.map(\.name)   // ["0.weight", "0.bias", "2.weight", "2.bias"]
    /// ```
    public var parameterShapes: [(name: String, shape: [Int])] {
        // Sequential names a module's parameters by its index in the list.
        layers.enumerated().flatMap { i, layer in layer.parameterShapes.map { ("\(i).\($0.name)", $0.shape) } }
    }

    /// The state_dict names and shapes of the buffers of the network ``makeModel(seed:)`` builds: a batch
    /// norm's `running_mean` and `running_var` `[C]` and `num_batches_tracked` `[]`, as PyTorch names them.
    ///
    /// ```swift
    /// ModelSpec(layers: [.batchNorm1d(numFeatures: 4)], inputShape: [4]).bufferShapes.map(\.name)
    /// // ["0.running_mean", "0.running_var", "0.num_batches_tracked"]
    /// ```
    public var bufferShapes: [(name: String, shape: [Int])] {
        layers.enumerated().flatMap { i, layer -> [(name: String, shape: [Int])] in
            switch layer {
            case let .batchNorm1d(c, _, _), let .batchNorm2d(c, _, _):
                return [("\(i).running_mean", [c]), ("\(i).running_var", [c]), ("\(i).num_batches_tracked", [])]
            default: return []
            }
        }
    }

    /// Bytes of the Float parameters; `nil` when the count overflows `Int`.
    ///
    /// ```swift
    /// ModelSpec(widths: [64, 128, 10]).parameterBytes   // 37672 = 4 * (64*128 + 128 + 128*10 + 10)
    /// ```
    public var parameterBytes: Int? {
        MemoryBudget.sum(parameterShapes.map { MemoryBudget.bytes($0.shape, elementSize: MemoryLayout<Float>.stride) })
    }

    /// Throws when the parameters cannot fit in memory, saying how much they would need.
    func checkFitsInMemory(source: String) throws {
        if let problem = MemoryBudget.refusal(bytes: parameterBytes) {
            throw DataError(path: source, "layers: the \(parameterCount) parameters \(problem)")
        }
    }

    /// Throws unless `file` holds exactly the tensors of this spec, with
    /// these shapes: checked before the model is built, so that a file whose
    /// metadata describes a network its tensors do not match allocates nothing.
    func checkTensors(of file: SafetensorsFile) throws {
        let expected = parameterShapes + bufferShapes
        var problems: [String] = []
        let byName = Dictionary(file.entries.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        for (name, shape) in expected {
            guard let actual = byName[name] else { problems.append("\(name): missing from the file"); continue }
            if actual != shape { problems.append("\(name): expected \(shape), got \(actual)") }
        }
        let names = Set(expected.map(\.name))
        // An optimizer's state (optimizer.*) rides along in a checkpoint but is not the model's.
        for entry in file.entries where !names.contains(entry.name) && !entry.name.hasPrefix(Checkpoint.optimizerPrefix) {
            problems.append("\(DataError.excerpt(entry.name)): unexpected key (the model has no such parameter)")
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(4).joined(separator: "; ")
            throw DataError(path: file.path, "the tensors do not fit the model: " + shown
                            + (problems.count > 4 ? "; and \(problems.count - 4) more" : ""))
        }
    }
}

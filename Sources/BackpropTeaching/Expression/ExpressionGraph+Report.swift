import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// The teaching view of a graph: one row per node with its op, its value,
// the local partial derivative toward each input, and the gradient of the
// output with respect to it. Plus the JSON form for scripts.

extension ExpressionGraph {
    /// A text table, one row per node (a node with several inputs continues on
    /// the next lines, one local partial per line).
    ///
    /// ```swift
    /// print(graph.table())
    /// // node   op     value  local partials  grad
    /// // x      input  1                      104
    /// // ...
    /// ```
    public func table() -> String {
        let out = nodes[output]
        var lines: [String] = []
        let outLabel = outputName
        if outputWasSummed {
            lines.append("output: \(outLabel), shape \(out.value.shape), is not a scalar: it is summed, and grad = d sum(\(outLabel)) / d node")
        } else {
            lines.append("output: \(outLabel) = \(formatTensor(out.value)); grad = d\(outLabel) / d node, by backpropagation from d\(outLabel)/d\(outLabel) = 1")
        }
        lines.append("")

        var rows: [[String]] = [["node", "op", "value", "local partials ∂node/∂input", "grad"]]
        for node in nodes {
            let partials = node.localPartials.map { p in "∂/∂\(partialName(p.input)) = " + describe(p) }
            let grad = node.gradient.map(formatTensor) ?? "-"
            rows.append([node.label, node.operation.name, formatTensor(node.value), partials.first ?? "", grad])
            for extra in partials.dropFirst() {
                rows.append(["", "", "", extra, ""])
            }
        }
        let counts = rows.map { $0.map(characterCount) }
        let widths = (0..<5).map { c in counts.map { $0[c] }.max()! }
        for (r, row) in rows.enumerated() {
            lines.append(tableLine(row, counts: counts[r], widths: widths))
            if r == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        lines.append("")
        lines.append("chain rule: grad(input) = Σ over the input's uses of grad(node) · ∂node/∂input")
        let kinds = Set(nodes.flatMap { $0.localPartials.map(\.kind) })
        if kinds.contains(.elementwise) {
            lines.append("(elementwise): the op acts element by element, so its Jacobian is diagonal; shown is that diagonal, in the input's shape")
        }
        if kinds.contains(.jacobian) {
            lines.append("(Jacobian): the full local Jacobian, of shape node shape + input shape")
        }
        if kinds.contains(.omitted) {
            lines.append("(omitted): a local Jacobian with more than 4096 entries is not computed")
        }
        if let warning = nonFiniteWarning { lines.append(""); lines.append(warning) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The first node whose value holds a NaN or an infinity, if any (such as
    /// `log(x)` at x = -1): every node computed from it is not finite either.
    public var firstNonFiniteNode: Int? {
        nodes.firstIndex { $0.value.withUnsafeBufferPointer { $0.contains { !$0.isFinite } } }
    }

    /// `warning: ...` naming the first non-finite node and why, or `nil`.
    public var nonFiniteWarning: String? {
        guard let i = firstNonFiniteNode else { return nil }
        let node = nodes[i]
        var why = ""
        if case .function(let f) = node.operation, let x = node.inputs.first.map({ nodes[$0].value.scalars }) {
            switch f {
            case .log where x.contains { $0 < 0 }: why = ": log of a negative number"
            case .log where x.contains { $0 == 0 }: why = ": log of 0"
            case .sqrt where x.contains { $0 < 0 }: why = ": square root of a negative number"
            default: break
            }
        } else if case .binary(.divide) = node.operation { why = ": division by 0" }
        return "warning: \(node.label) = \(formatTensor(node.value)) is not finite\(why); so is every node computed from it"
    }

    /// `{"values": {name: value}, "gradients": {name: gradient}}` for every
    /// named variable and statement, in order of definition. A gradient is
    /// `null` for a name that does not depend on any input. JSON has no NaN
    /// or infinity: they are written as the strings `"NaN"`, `"Infinity"`
    /// and `"-Infinity"` (as JavaScript and Python name them), never as `null`.
    public func json() -> String {
        func tensor(_ t: Tensor<Double>) -> JSON {
            guard t.scalars.contains(where: { !$0.isFinite }) else { return .tensor(shape: t.shape, scalars: t.scalars) }
            func number(_ v: Double) -> JSON {
                v.isNaN ? .string("NaN") : v.isInfinite ? .string(v > 0 ? "Infinity" : "-Infinity") : .number(v)
            }
            func nested(_ values: ArraySlice<Double>, _ shape: ArraySlice<Int>) -> JSON {
                guard let n = shape.first else { return number(values.first ?? 0) }
                let stride = shape.dropFirst().reduce(1, *)
                return .array((0..<n).map { i in
                    let start = values.startIndex + i * stride
                    return nested(values[start..<start + stride], shape.dropFirst())
                })
            }
            return nested(t.scalars[...], t.shape[...])
        }
        let values = namedNodes.map { ($0.name, tensor(nodes[$0.node].value)) }
        let grads = namedNodes.map { ($0.name, nodes[$0.node].gradient.map(tensor) ?? .null) }
        return JSON.object([("values", .object(values)), ("gradients", .object(grads))]).text(.line) + "\n"
    }

    /// How a local partial names its input: parenthesised when it is an expression.
    func partialName(_ id: Int) -> String {
        let label = nodes[id].label
        let simple = label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        return simple ? label : "(\(label))"
    }

    func describe(_ p: LocalPartial) -> String {
        switch p.kind {
        case .scalar: return formatNumber(p.value.item)
        case .elementwise: return formatTensor(p.value) + " (elementwise)"
        case .jacobian: return formatTensor(p.value) + " (Jacobian \(p.value.shape))"
        case .omitted: return "(omitted)"
        }
    }
}

// A table row is built as UTF-8 bytes: padding each cell with
// `String(repeating:count:)` and trimming the line's end Character by
// Character took 90% of the time of a 10,000-node table.

/// The number of characters, counted without Unicode segmentation when the text is ASCII.
private func characterCount(_ s: String) -> Int {
    s.utf8.allSatisfy { $0 < 0x80 } ? s.utf8.count : s.count
}

/// The cells, each but the last padded with spaces to its column's width,
/// joined by two spaces, without trailing spaces. (A line ends in a number,
/// `-` or `)`, so trimming space bytes trims space characters.)
private func tableLine(_ cells: [String], counts: [Int], widths: [Int]) -> String {
    let last = cells.count - 1
    var total = 2 * last
    for c in cells.indices { total += cells[c].utf8.count + (c < last ? widths[c] - counts[c] : 0) }
    return String(unsafeUninitializedCapacity: total) { out in
        out.initialize(repeating: 32)
        var n = 0
        for c in cells.indices {
            if c > 0 { n += 2 }
            var cell = cells[c]
            cell.withUTF8 { bytes in
                for (k, byte) in bytes.enumerated() { out[n + k] = byte }
                n += bytes.count
            }
            if c < last { n += widths[c] - counts[c] }
        }
        while n > 0 && out[n - 1] == 32 { n -= 1 }
        return n
    }
}

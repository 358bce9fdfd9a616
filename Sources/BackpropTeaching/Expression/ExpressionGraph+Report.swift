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
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max()! }
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, s in c == 4 ? s : s.padding(to: widths[c]) }
            lines.append(cells.joined(separator: "  ").trimmingTrailingSpaces())
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
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"values": {name: value}, "gradients": {name: gradient}}` for every
    /// named variable and statement, in order of definition. A gradient is
    /// `null` for a name that does not depend on any input.
    public func json() -> String {
        func tensor(_ t: Tensor<Double>) -> JSON { .tensor(shape: t.shape, scalars: t.scalars) }
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
        case .scalar: return formatNumber(p.value.scalars[0])
        case .elementwise: return formatTensor(p.value) + " (elementwise)"
        case .jacobian: return formatTensor(p.value) + " (Jacobian \(p.value.shape))"
        case .omitted: return "(omitted)"
        }
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

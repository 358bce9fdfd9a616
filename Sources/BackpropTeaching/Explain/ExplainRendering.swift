import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

// The two renderings of an ``ExplainReport``: aligned text tables for
// people (numbers with up to 6 significant digits) and JSON for programs
// (every number in full precision, round-tripping).

extension ExplainValue {
    /// NumPy-style text, one string per line, elements padded to one width.
    ///
    ///     [[420, 210],
    ///      [560, 280]]
    func lines() -> [String] {
        let texts = scalars.map(formatNumber)
        let width = texts.map(\.count).max() ?? 0
        let padded = texts.map { String(repeating: " ", count: width - $0.count) + $0 }
        if shape.isEmpty { return [texts.first ?? ""] }
        func block(_ dims: ArraySlice<Int>, _ offset: Int, _ depth: Int) -> [String] {
            let n = dims.first!, rest = dims.dropFirst()
            let stride = rest.reduce(1, *)
            if rest.isEmpty {
                return ["[" + padded[offset..<offset + n].joined(separator: ", ") + "]"]
            }
            var out: [String] = []
            for i in 0..<n {
                var sub = block(rest, offset + i * stride, depth + 1)   // continuation lines are indented below
                if i < n - 1 { sub[sub.count - 1] += "," }
                if i > 0 && rest.count > 1 { out.append("") }
                out += sub
            }
            out[0] = "[" + out[0]
            for k in 1..<out.count where !out[k].isEmpty { out[k] = " " + out[k] }
            out[out.count - 1] += "]"
            return out
        }
        return block(shape[...], 0, 0)
    }

    /// `[2, 3]`, or `[]` for a scalar.
    var shapeText: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// Lays out rows of cells in columns; the last cell may span several lines.
private struct Table {
    var header: [String]
    var rows: [[[String]]] = []   // rows of cells, each cell a list of lines
    var isEmpty: Bool { rows.isEmpty }

    mutating func add(_ cells: [String], _ last: [String]) { rows.append(cells.map { [$0] } + [last]) }

    func render(indent: String = "  ") -> [String] {
        let columns = header.count
        var widths = header.map(\.count)
        for row in rows {
            for c in 0..<columns - 1 { widths[c] = Swift.max(widths[c], row[c].map(\.count).max() ?? 0) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { c, text in
                c == columns - 1 ? text : text + String(repeating: " ", count: widths[c] - text.count)
            }
            // Trailing spaces cut by hand: the regex `\s+$` is quadratic on a long row (a [10, 1600] weight).
            var text = Substring(indent + padded.joined(separator: "   "))
            while text.last == " " { text.removeLast() }
            return String(text)
        }
        var out = [line(header)]
        for row in rows {
            let height = row.map(\.count).max() ?? 1
            for k in 0..<height { out.append(line(row.map { k < $0.count ? $0[k] : "" })) }
        }
        return out
    }
}

extension ExplainReport {
    /// The report as text: the forward table, the loss, the backward table,
    /// the local Jacobians and dy~/dx, and the SGD step when asked for.
    ///
    /// ```swift
    /// print(report.text(source: "examples/lab-network.json"))
    /// ```
    public func text(source: String = "") -> String {
        var out: [String] = []
        let title = source.isEmpty ? "backprop explain" : "backprop explain \(source)"
        out.append("\(title) (\(dtype.rawValue), \(inputDescription))")
        out.append("")

        out.append("Forward")
        var forward = Table(header: ["#", "layer", "computes", "shape", "value"])
        forward.add(["", "input", "x", input.shapeText], input.lines())
        for row in rows {
            forward.add(["\(row.index)", row.layer.summary, row.formula, row.output.shapeText], row.output.lines())
        }
        forward.add(["", "target", targetIsClassIndices ? "y (class index)" : "y", target.shapeText], target.lines())
        out += forward.render()
        out.append("")

        out.append("Loss")
        out.append("  \(lossKind.rawValue), reduction \(reduction.rawValue): \(lossFormula)")
        out.append("  C = \(formatNumber(loss))")
        out.append("")

        out.append("Backward: dC/dθ for each parameter, in the parameter's shape")
        // Values beside gradients, unless a value is too wide to leave room (a [10, 1600] weight): then
        // gradients only, since every line of the table would be padded to that width.
        let values = parameters.map { $0.value.lines() }
        let besides = values.allSatisfy { $0.allSatisfy { $0.count <= Self.valueColumnLimit } }
        var backward = Table(header: ["parameter", "shape"] + (besides ? ["value"] : []) + ["gradient"])
        for ((p, g), value) in zip(zip(parameters, gradients), values) {
            let grad = g.value.lines()
            let height = Swift.max(value.count, grad.count)
            backward.rows.append([[p.name], [p.value.shapeText]] + (besides ? [value + Array(repeating: "", count: height - value.count)] : []) + [grad])
        }
        out += parameters.isEmpty ? ["  (the network has no parameters)"] : backward.render()
        if !parameters.isEmpty && !besides {
            out.append("  (the parameters' values are too wide to print beside their gradients; they are in the JSON report)")
        }
        out.append("")

        out.append("Backward: dC/d(output) of each layer")
        var upstream = Table(header: ["#", "gradient", "shape", "value"])
        for row in rows.reversed() {
            upstream.add(["\(row.index)", "dC/d\(row.outputName)", row.outputGradient.shapeText], row.outputGradient.lines())
        }
        upstream.add(["", "dC/dx", inputGradient.shapeText], inputGradient.lines())
        out += upstream.render()
        out.append("")

        let described = rows.filter { !$0.details.isEmpty }
        if !described.isEmpty {
            out.append("What the conv, pooling and normalization layers did")
            for row in described {
                out.append("  \(row.index) \(row.layer.summary)\(row.isTraining ? " (training mode)" : ""): \(row.formula)")
                out += row.details.flatMap { Self.wrapped("    " + $0) }
            }
            out.append("")
        }

        let activations = rows.compactMap { row -> String? in
            guard case let .activation(a) = row.layer, let d = row.derivative else { return nil }
            return "  \(row.index) \(a.summary): \(a.name)'(x) = \(d)"
        }
        if !activations.isEmpty {
            out.append("Derivatives of the activations (the numbers come from backpropagation, not from this text)")
            out += activations
            out.append("")
        }

        out.append("Local Jacobians\(isBatch ? ", per point" : "")")
        var local = Table(header: ["Jacobian", "shape", "value"])
        for j in jacobians where j.name != "dy~/dx" {
            local.add([j.name + (j.name == "dC/dy~" ? (isBatch ? " (row n: point n)" : " (row vector)") : ""), j.value.shapeText], jacobianLines(j))
        }
        out += local.render()
        out.append("")

        out.append("Jacobian of the network output with respect to x\(isBatch ? ", per point" : "")")
        var whole = Table(header: ["Jacobian", "shape", "value"])
        for j in jacobians where j.name == "dy~/dx" { whole.add([j.name, j.value.shapeText], jacobianLines(j)) }
        out += whole.isEmpty ? ["  (not per point: see the notes)"] : whole.render()

        if let step {
            out.append("")
            out.append("After one SGD step θ ← θ - η dC/dθ, η = \(formatNumber(step.learningRate))")
            var table = Table(header: ["parameter", "shape", "value"])
            for p in step.parameters { table.add([p.name, p.value.shapeText], p.value.lines()) }
            out += step.parameters.isEmpty ? ["  (the network has no parameters)"] : table.render()
            out.append("  C after the step = \(formatNumber(step.loss))")
        }

        if !notes.isEmpty {
            out.append("")
            out.append("Notes")
            out += notes.map { "  - " + $0 }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `line` cut at spaces into lines of at most `width` characters (a longer word stays whole); the
    /// lines after the first are indented four more than the first (two more is a sub-item).
    static func wrapped(_ line: String, width: Int = 110) -> [String] {
        let indent = String(line.prefix { $0 == " " })
        var lines: [String] = []
        var current = ""
        for word in line.dropFirst(indent.count).split(separator: " ", omittingEmptySubsequences: false) {
            let prefix = lines.isEmpty ? indent : indent + "    "
            if !current.isEmpty && prefix.count + current.count + 1 + word.count > width {
                lines.append(prefix + current)
                current = String(word)
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        lines.append((lines.isEmpty ? indent : indent + "    ") + current)
        return lines
    }

    /// `one point`, `batch of 3 points`, `one example [1, 5, 5]`, `batch of 2 examples [1, 3, 3]`.
    var inputDescription: String {
        let example = isBatch ? Array(input.shape.dropFirst()) : input.shape
        if example.count <= 1 { return isBatch ? "batch of \(input.shape[0]) points" : "one point" }
        let shape = "[" + example.map(String.init).joined(separator: ", ") + "]"
        return isBatch ? "batch of \(input.shape[0]) examples \(shape)" : "one example \(shape)"
    }

    /// The widest line of a parameter's value printed beside its gradient.
    static let valueColumnLimit = 120

    /// The most entries a Jacobian shows in the text; a larger one shows its diagonal when it is
    /// diagonal (an elementwise layer), else only its size (all of it is in the JSON).
    static let jacobianTextLimit = 100

    /// The text of a Jacobian: in full when small; its diagonal, in the layer's input shape, when large
    /// and diagonal; else its size.
    func jacobianLines(_ j: Entry) -> [String] {
        let v = j.value
        guard v.scalars.count > Self.jacobianTextLimit else { return v.lines() }
        let s = v.shape
        if s.count >= 2, s[s.count - 1] == s[s.count - 2] {
            let n = s[s.count - 1], blocks = v.scalars.count / (n * n)
            var diagonal: [Double] = []
            var offDiagonalZero = true
            for b in 0..<blocks {
                for r in 0..<n {
                    for c in 0..<n {
                        let e = v.scalars[b * n * n + r * n + c]
                        if r == c { diagonal.append(e) } else if e != 0 { offDiagonalZero = false }
                    }
                }
            }
            if offDiagonalZero, let row = rows.first(where: { "d\($0.outputName)/d\($0.inputName)" == j.name }) {
                let shape = row.input.shape
                return ["diagonal (the layer acts elementwise), in the shape of \(row.inputName):"]
                    + ExplainValue(shape: shape, scalars: diagonal).lines()
            }
        }
        return ["(\(v.scalars.count) entries: all in the JSON report)"]
    }

    /// The report as JSON, keys in a fixed order, numbers in full precision:
    ///
    /// - `outputs`: one array per layer output, in order;
    /// - `loss`: a number;
    /// - `gradients`: an object keyed by state_dict names ("0.weight", ...);
    /// - `jacobians`: an object keyed by "da1/ds1", ..., "dC/dy~", "dy~/dx";
    /// - `buffers` (when the network has any): an object keyed by state_dict names ("1.running_mean",
    ///   ...), the values after the pass (batch norm in training mode updates its running statistics);
    /// - and `dtype`, `layers` (with `derivative_formula` for activations, `details` for conv, pooling
    ///   and normalization layers, and
    ///   `training` for batch norm in training mode), `x`, `y`, `parameters`, `output_gradients`,
    ///   `input_gradient`, `step` (with a learning rate), `notes`.
    ///
    /// ```swift
    /// let json = report.json()   // {"dtype": "float64", "layers": [...], ...}
    /// ```
    public func json() -> String {
        func value(_ v: ExplainValue) -> JSON { .tensor(shape: v.shape, scalars: v.scalars) }
        func entries(_ list: [Entry]) -> JSON { .object(list.map { ($0.name, value($0.value)) }) }
        var top: [(String, JSON)] = [
            ("dtype", .string(dtype.rawValue)),
            ("layers", .array(rows.map { row -> JSON in
                var layer: [(String, JSON)] = [
                    ("index", .number(Double(row.index))), ("type", .string(row.layer.typeName)),
                    ("summary", .string(row.layer.summary)), ("output_name", .string(row.outputName)),
                    ("formula", .string(row.formula)), ("output_shape", .array(row.output.shape.map { .number(Double($0)) }))]
                if let d = row.derivative { layer.append(("derivative_formula", .string(d))) }
                if row.isTraining { layer.append(("training", .bool(true))) }
                if !row.details.isEmpty { layer.append(("details", .array(row.details.map { .string($0) }))) }
                return .object(layer)
            })),
            ("x", value(input)),
            ("y", value(target)),
            ("outputs", .array(rows.map { value($0.output) })),
            ("loss_type", .string(lossKind.rawValue)),
            ("reduction", .string(reduction.rawValue)),
            ("loss", .number(loss)),
            ("parameters", entries(parameters)),
            ("gradients", entries(gradients)),
            ("output_gradients", .array(rows.map { value($0.outputGradient) })),
            ("input_gradient", value(inputGradient)),
            ("jacobians", entries(jacobians)),
        ]
        if !buffers.isEmpty { top.append(("buffers", entries(buffers))) }
        if let step {
            top.append(("step", .object([("learning_rate", .number(step.learningRate)),
                                         ("parameters", entries(step.parameters)),
                                         ("loss", .number(step.loss))])))
        }
        top.append(("notes", .array(notes.map { .string($0) })))
        return JSON.object(top).text(.pretty) + "\n"
    }
}

/// `backprop explain`'s whole job on a file, as a String, so that the
/// command stays a thin shell and tests can compare its output.
///
/// ```swift
/// let text = try explainFile(at: "examples/lab-network.json")
/// let json = try explainFile(at: "examples/lab-network.json", json: true, learningRate: 0.1)
/// ```
public func explainFile(at path: String, json: Bool = false, learningRate: Double? = nil,
                        dtype: ExplainDType = .float64) throws -> String {
    let report = try explainReport(at: path, learningRate: learningRate, dtype: dtype)
    return json ? report.json() : report.text(source: path)
}

/// Reads and runs the explain problem in a file: what ``explainFile(at:json:learningRate:dtype:)`` prints,
/// and what the HTML page shows.
///
/// ```swift
/// let report = try explainReport(at: "examples/lab-network.json")
/// report.loss   // 49
/// ```
public func explainReport(at path: String, learningRate: Double? = nil, dtype: ExplainDType = .float64) throws -> ExplainReport {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        throw ExplainError(path, !exists ? "no such file" : isDirectory.boolValue ? "is a directory, not a JSON file" : "cannot be read")
    }
    if let learningRate, !learningRate.isFinite {
        throw ValueError(.learningRate, "learning rate must be a finite number, got \(learningRate)")
    }
    do {
        let problem = try ExplainProblem(json: data, source: path)
        return try problem.explain(dtype: dtype, learningRate: learningRate)
    } catch let e as ExplainError where e.path != path && !e.path.hasPrefix(path + ":") {
        // Errors about the contents name their JSON path (`layers[0].bias`); add the file, as ModelSpec's do.
        throw ExplainError(e.path.isEmpty ? path : "\(path): \(e.path)", e.message)
    }
}

import BackpropCore
import BackpropData
import BackpropNN

// `backprop explain PROBLEM.json --html OUT.html`: the report as a page that
// steps forward layer by layer, then backward layer by layer, each step an
// equation shown as a formula (dC/dW2 = dC/ds2 · a1ᵀ) or with its numbers.
//
// The page reads an ``ExplainReport`` through one narrow adapter,
// ``ExplainPageModel``: what each layer took, gave, and received back, and
// its parameters. When the report changes shape, only the adapter changes.

/// What the explain page needs from an ``ExplainReport``, one layer at a time.
struct ExplainPageModel {
    struct Parameter {
        var name: String        // state_dict name: 0.weight
        var symbol: String      // W1, b1
        var value: ExplainValue
        var gradient: ExplainValue
    }

    struct Layer {
        var index: Int
        var isLinear: Bool
        var layer: LayerSpec
        /// What the layer did (conv, pooling, flatten, normalization), as the text report says it.
        var details: [String]
        var typeName: String
        var summary: String
        var formula: String
        var inputName: String
        var outputName: String
        var input: ExplainValue
        var output: ExplainValue
        var outputGradient: ExplainValue   // dC/d(output)
        var inputGradient: ExplainValue    // dC/d(input)
        var weight: Parameter?
        var bias: Parameter?
        /// d(output)/d(input), per point for a batch; `nil` for a linear layer (it is W).
        var jacobian: ExplainReport.Entry?
        /// The Jacobian's diagonal when the layer acts elementwise.
        var derivative: ExplainValue?
    }

    var isBatch: Bool
    var dtype: String
    var input: ExplainValue
    var target: ExplainValue
    var targetIsClassIndices: Bool
    var layers: [Layer]
    var lossKind: String
    var reduction: String
    var lossFormula: String
    var loss: Double
    var jacobians: [ExplainReport.Entry]
    var notes: [String]

    init(_ report: ExplainReport) {
        isBatch = report.isBatch
        dtype = report.dtype.rawValue
        input = report.input
        target = report.target
        targetIsClassIndices = report.targetIsClassIndices
        lossKind = report.lossKind.rawValue
        reduction = report.reduction.rawValue
        lossFormula = report.lossFormula
        loss = report.loss
        jacobians = report.jacobians
        notes = report.notes
        var k = 0
        layers = report.rows.enumerated().map { i, row in
            let isLinear: Bool = { if case .linear = row.layer { return true } else { return false } }()
            if row.layer.hasParameters { k += 1 }
            let isNorm = row.layer.typeName.contains("norm")
            func parameter(_ suffix: String, _ symbol: String) -> Parameter? {
                let name = "\(row.index).\(suffix)"
                guard let p = report.parameters.first(where: { $0.name == name }), let g = report.gradient(name) else { return nil }
                return Parameter(name: name, symbol: symbol, value: p.value, gradient: g)
            }
            let jacobian = row.layer.hasParameters ? nil : report.jacobians.first { $0.name == "d\(row.outputName)/d\(row.inputName)" }
            var derivative: ExplainValue? = nil
            if let j = jacobian, row.layer.typeName != "flatten", let d = Self.diagonal(j.value, batch: report.isBatch) {
                derivative = ExplainValue(shape: row.input.shape, scalars: d.scalars)   // in the shape of the layer's input
            }
            return Layer(index: row.index, isLinear: isLinear, layer: row.layer, details: row.details,
                         typeName: row.layer.typeName, summary: row.layer.summary,
                         formula: row.formula, inputName: row.inputName, outputName: row.outputName,
                         input: row.input, output: row.output, outputGradient: row.outputGradient,
                         inputGradient: i == 0 ? report.inputGradient : report.rows[i - 1].outputGradient,
                         weight: row.layer.hasParameters ? parameter("weight", isNorm ? "γ\(k)" : "W\(k)") : nil,
                         bias: row.layer.hasParameters ? parameter("bias", isNorm ? "β\(k)" : "b\(k)") : nil,
                         jacobian: jacobian, derivative: derivative)
        }
    }

    /// The diagonal of [n, n] (or of each [n, n] block of [N, n, n]).
    static func diagonal(_ j: ExplainValue, batch: Bool) -> ExplainValue? {
        let s = j.shape
        guard s.count >= 2 else { return nil }
        let n = s[s.count - 1]
        // Only a diagonal Jacobian is an elementwise derivative (not softmax's, log_softmax's or layer_norm's).
        guard s[s.count - 2] == n, j.scalars.indices.allSatisfy({ k in (k % (n * n)) / n == k % n || j.scalars[k] == 0 }) else { return nil }
        if !batch, s.count == 2, s[0] == s[1] {
            return ExplainValue(shape: [s[0]], scalars: (0..<s[0]).map { j.scalars[$0 * s[0] + $0] })
        }
        if batch, s.count == 3, s[1] == s[2] {
            let n = s[1]
            return ExplainValue(shape: [s[0], n], scalars: (0..<s[0]).flatMap { p in (0..<n).map { j.scalars[p * n * n + $0 * n + $0] } })
        }
        return nil
    }
}

extension ExplainPageModel {
    /// One operand of an equation: a symbol and its value, or an operator.
    enum Part {
        case text(String)
        case value(String, ExplainValue, column: Bool)
    }

    struct Equation {
        var lhs: String
        var key: String
        var parts: [Part]
        var result: ExplainValue
    }

    struct Step {
        var kind: String        // input, forward, loss, backward
        var layer: Int?         // the box in play
        var title: String
        var equations: [Equation]
        var note: String = ""
        var details: [String] = []
    }

    func steps() -> [Step] {
        var steps: [Step] = []
        let col = !isBatch   // a single point's vectors are drawn as columns
        steps.append(Step(kind: "input", layer: nil, title: "the input x and the target y", equations: [
            Equation(lhs: "x", key: "x", parts: [], result: input),
            Equation(lhs: "y", key: "y", parts: [], result: target),
        ], note: isBatch ? (input.shape.count == 2 ? "x is a batch: one point per row." : "x is a batch: axis 0 numbers the examples.") : ""))
        for layer in layers {
            let x = Part.value(layer.inputName, layer.input, column: col)
            var parts: [Part]
            if layer.isLinear, let w = layer.weight {
                parts = isBatch ? [x, .text("·"), .value(w.symbol + "ᵀ", w.value, column: false)]
                                : [.value(w.symbol, w.value, column: false), .text("·"), x]
                if let b = layer.bias { parts += [.text("+"), .value(b.symbol, b.value, column: col)] }
            } else if let w = layer.weight, layer.typeName.hasPrefix("conv") {
                parts = [.value(w.symbol, w.value, column: false), .text("⋆"), x]
                if let b = layer.bias { parts += [.text("+"), .value(b.symbol, b.value, column: false)] }
            } else if let w = layer.weight, let b = layer.bias {
                parts = [.value(w.symbol, w.value, column: false), .text("⊙ ("), x, .text("- mean) / √(var + eps) +"),
                         .value(b.symbol, b.value, column: false)]
            } else {
                parts = [.text(layer.typeName + "("), x, .text(")")]
            }
            steps.append(Step(kind: "forward", layer: layer.index, title: "forward: layer \(layer.index), \(layer.summary): \(layer.formula)",
                              equations: [Equation(lhs: layer.outputName, key: layer.outputName, parts: parts, result: layer.output)],
                              details: Self.details(layer.details, forward: true)))
        }
        let last = layers.last!
        steps.append(Step(kind: "loss", layer: nil, title: "the loss C and where the backward pass starts: dC/dy~", equations: [
            Equation(lhs: "C", key: "C", parts: [.text(lossFormula.replacingOccurrences(of: "C = ", with: "") + " with"),
                                               .value("y~", last.output, column: col), .text("and"),
                                               .value("y", target, column: col)],
                     result: ExplainValue(shape: [], scalars: [loss])),
            Equation(lhs: "dC/dy~", key: "dC/dy~", parts: [.text("∂C/∂y~ at"), .value("y~", last.output, column: col)],
                     result: last.outputGradient),
        ], note: "\(lossKind), reduction \(reduction): \(lossFormula)"))
        for layer in layers.reversed() {
            let g = Part.value("dC/d" + layer.outputName, layer.outputGradient, column: col)
            var equations: [Equation] = []
            let dIn = "dC/d" + layer.inputName
            if layer.isLinear, let w = layer.weight {
                let xT = Part.value(layer.inputName + (isBatch ? "" : "ᵀ"), layer.input, column: false)
                let gT = Part.value("(dC/d" + layer.outputName + ")ᵀ", transposed(layer.outputGradient), column: false)
                equations.append(Equation(lhs: "dC/d" + w.symbol, key: w.name, parts: isBatch ? [gT, .text("·"), xT] : [g, .text("·"), xT],
                                          result: w.gradient))
                if let b = layer.bias {
                    equations.append(Equation(lhs: "dC/d" + b.symbol, key: b.name,
                                              parts: isBatch ? [.text("Σ over points of"), g] : [g], result: b.gradient))
                }
                equations.append(Equation(lhs: dIn, key: dIn, parts: isBatch ? [g, .text("·"), .value(w.symbol, w.value, column: false)]
                                                                            : [.value(w.symbol + "ᵀ", transposed(w.value), column: false), .text("·"), g],
                                          result: layer.inputGradient))
            } else if let w = layer.weight, layer.typeName.hasPrefix("conv") {
                equations.append(Equation(lhs: "dC/d" + w.symbol, key: w.name,
                                          parts: [.text("correlate"), .value(layer.inputName, layer.input, column: false), .text("with"), g],
                                          result: w.gradient))
                if let b = layer.bias {
                    equations.append(Equation(lhs: "dC/d" + b.symbol, key: b.name,
                                              parts: [.text("Σ over positions\(isBatch ? " and examples" : "") of"), g], result: b.gradient))
                }
                equations.append(Equation(lhs: dIn, key: dIn, parts: [g, .text("convolved (full) with the flipped kernel"),
                                                                      .value(w.symbol, w.value, column: false)],
                                          result: layer.inputGradient))
            } else if let w = layer.weight {
                equations.append(Equation(lhs: "dC/d" + w.symbol, key: w.name, parts: [.text("Σ of"), g, .text("⊙ x̂ (the normalised input)")],
                                          result: w.gradient))
                if let b = layer.bias {
                    equations.append(Equation(lhs: "dC/d" + b.symbol, key: b.name, parts: [.text("Σ of"), g], result: b.gradient))
                }
                equations.append(Equation(lhs: dIn, key: dIn, parts: [.text("the normalisation's backward of"), g], result: layer.inputGradient))
            } else if layer.typeName == "flatten" {
                equations.append(Equation(lhs: dIn, key: dIn, parts: [.text("reshape"), g, .text("to \(layer.input.shapeText)")],
                                          result: layer.inputGradient))
            } else if let d = layer.derivative {
                let name = "\(layer.typeName)'(\(layer.inputName))"
                equations.append(Equation(lhs: "d\(layer.outputName)/d\(layer.inputName)", key: "local:\(layer.index)",
                                          parts: [.text("the elementwise derivative"), .value(name, layer.input, column: col)], result: d))
                equations.append(Equation(lhs: dIn, key: dIn, parts: [g, .text("⊙"), .value(name, d, column: col)], result: layer.inputGradient))
            } else if let j = layer.jacobian {
                equations.append(Equation(lhs: dIn, key: dIn, parts: [.value("(" + j.name + ")ᵀ", j.value, column: false), .text("·"), g],
                                          result: layer.inputGradient))
            } else {
                // No Jacobian to show (too large): the layer's backward pass, as the library ran it.
                equations.append(Equation(lhs: dIn, key: dIn, parts: [.text("\(layer.typeName)'s backward of"), g], result: layer.inputGradient))
            }
            steps.append(Step(kind: "backward", layer: layer.index,
                              title: "backward: layer \(layer.index), \(layer.summary): from dC/d\(layer.outputName) to " +
                                     (layer.weight != nil ? "its parameters and " : "") + dIn,
                              equations: equations,
                              note: layer.weight != nil || layer.typeName == "flatten" ? "" : layer.derivative != nil
                                  ? "\(layer.typeName) acts element by element, so its Jacobian d\(layer.outputName)/d\(layer.inputName) is diagonal: the product is elementwise."
                                  : "The full Jacobian d\(layer.outputName)/d\(layer.inputName)\(isBatch ? " (per point)" : "") times the incoming gradient.",
                              details: Self.details(layer.details, forward: false)))
        }
        return steps
    }

    /// The lines of a layer's details about its forward pass (a line starting "forward" and the indented
    /// lines under it), or the others.
    static func details(_ lines: [String], forward: Bool) -> [String] {
        var inForward = false
        return lines.filter { line in
            if !line.hasPrefix(" ") { inForward = line.hasPrefix("forward") }
            return inForward == forward
        }
    }

    func transposed(_ v: ExplainValue) -> ExplainValue {
        guard v.shape.count == 2 else { return v }
        let (r, c) = (v.shape[0], v.shape[1])
        return ExplainValue(shape: [c, r], scalars: (0..<c).flatMap { j in (0..<r).map { i in v.scalars[i * c + j] } })
    }

    /// The page's data. Each distinct tensor is stored once, in `tensors`, and the layers,
    /// steps and tables refer to it (`{"t": 3}`, or `{"t": 3, "T": true}` for its transpose):
    /// a weight appears in a forward step, a backward step and two tables, and a
    /// checkpoint's weights are large. A tensor with more than `largestTensor` entries
    /// is left out: its reference is `{"omitted": shape}`.
    func json(source: String, omittedNote: String = "", largestTensor: Int = ExplainPageModel.largestTensor) -> JSON {
        var pool = TensorPool(largestTensor: largestTensor)
        func value(_ v: ExplainValue) -> JSON { pool.reference(v) }
        func param(_ p: Parameter?) -> JSON {
            guard let p else { return .null }
            return .object([("name", .string(p.name)), ("symbol", .string(p.symbol)), ("value", value(p.value)), ("grad", value(p.gradient))])
        }
        let layerJSON: [JSON] = layers.map { l in
            .object([("index", .number(Double(l.index))), ("linear", .bool(l.isLinear)), ("type", .string(l.typeName)),
                     ("summary", .string(l.summary)), ("formula", .string(l.formula)),
                     ("inName", .string(l.inputName)), ("outName", .string(l.outputName)),
                     ("inShape", .string(l.input.shapeText)), ("outShape", .string(l.output.shapeText)),
                     ("output", value(l.output)), ("outGrad", value(l.outputGradient)),
                     ("weight", param(l.weight)), ("bias", param(l.bias))])
        }
        let stepJSON: [JSON] = steps().map { s in
            .object([("kind", .string(s.kind)), ("layer", s.layer.map { .number(Double($0)) } ?? .null),
                     ("title", .string(s.title)), ("note", .string(s.note)), ("details", .array(s.details.map { .string($0) })),
                     ("equations", .array(s.equations.map { e in
                         .object([("lhs", .string(e.lhs)), ("key", .string(e.key)), ("result", value(e.result)),
                                  ("parts", .array(e.parts.map { p in
                                      switch p {
                                      case .text(let t): return .object([("text", .string(t))])
                                      case let .value(sym, v, column):
                                          return .object([("sym", .string(sym)), ("value", value(v)), ("column", .bool(column))])
                                      }
                                  }))])
                     }))])
        }
        let top: [(String, JSON)] = [
            ("source", .string(source)), ("dtype", .string(dtype)), ("batch", .bool(isBatch)),
            ("x", value(input)), ("xShape", .string(input.shapeText)), ("y", value(target)),
            ("loss", .object([("kind", .string(lossKind)), ("reduction", .string(reduction)),
                              ("formula", .string(lossFormula)), ("value", .number(loss))])),
            ("inputGrad", value(layers.first!.inputGradient)),
            ("layers", .array(layerJSON)),
            ("jacobians", .array(jacobians.map { .object([("name", .string($0.name)), ("value", value($0.value))]) })),
            ("notes", .array(notes.map { .string($0) })),
            ("steps", .array(stepJSON)),
            ("largestTensor", .number(Double(largestTensor))), ("omittedNote", .string(omittedNote)),
        ]
        return .object(top + [("tensors", .array(pool.tensors))])
    }

    /// The most entries of a tensor the page shows (a 64 × 64 matrix); larger ones are left out,
    /// so that a checkpoint's page stays light (the JSON report has them all).
    static let largestTensor = 4096

    /// Each distinct tensor once, found again by its values, or by those of its transpose.
    struct TensorPool {
        struct Key: Hashable {
            var shape: [Int]
            var scalars: [Double]
        }
        var largestTensor: Int
        var tensors: [JSON] = []
        var ids: [Key: Int] = [:]

        mutating func reference(_ v: ExplainValue) -> JSON {
            guard v.scalars.count <= largestTensor else {
                return .object([("omitted", .array(v.shape.map { .number(Double($0)) }))])
            }
            let key = Key(shape: v.shape, scalars: v.scalars)
            if let id = ids[key] { return .object([("t", .number(Double(id)))]) }
            if v.shape.count == 2 {
                let (r, c) = (v.shape[0], v.shape[1])
                let t = Key(shape: [c, r], scalars: (0..<c).flatMap { j in (0..<r).map { i in v.scalars[i * c + j] } })
                if let id = ids[t] { return .object([("t", .number(Double(id))), ("T", .bool(true))]) }
            }
            ids[key] = tensors.count
            tensors.append(.tensor(shape: v.shape, scalars: v.scalars))
            return .object([("t", .number(Double(tensors.count - 1)))])
        }
    }
}

extension ExplainReport {
    /// The page of `backprop explain PROBLEM.json --html OUT.html`: the network as a row
    /// of boxes, a stepper forward then backward (each step's equations as formulas or
    /// numbers), and the forward, loss, backward and Jacobian tables. A tensor of more
    /// than 4,096 entries (a checkpoint's first weight, a 256 × 256 Jacobian) is named
    /// with its shape and left out, followed by `omittedNote`: where to find its values.
    ///
    /// ```swift
    /// let report = try ExplainProblem(json: data).explain()
    /// try FileIO.writeText(report.htmlPage(source: "lab-network.json").render(), to: "lab.html")
    /// ```
    public func htmlPage(source: String = "", omittedNote: String = "the JSON report has all its values") -> HTMLPage {
        let model = ExplainPageModel(self)
        let body = """
            <p class="hint no-print">Step with the buttons, the ← → keys (Home, End) or the slider; the address ends in
            <code>#step=N</code>, so a link opens that step. Hover over or tab to a number for its full value
            (in a matrix, the arrow keys move from number to number).</p>
            <div id="stepper"></div>
            <div class="view-switch no-print" role="radiogroup" aria-label="show equations as">
              show equations as
              <label><input type="radio" name="view" value="numbers" checked> numbers</label>
              <label><input type="radio" name="view" value="formulas"> formulas</label>
            </div>
            <div id="network" class="network" aria-label="the network, input to loss"></div>
            <div id="step-panel" class="panel" aria-live="polite"></div>
            <h2>Forward</h2>
            <table class="grid" id="forward-table"></table>
            <h2>Loss</h2>
            <div id="loss-panel"></div>
            <h2>Backward: dC/dθ for each parameter, in the parameter's shape</h2>
            <table class="grid" id="backward-table"></table>
            <h2>Backward: dC/d(output) of each layer</h2>
            <table class="grid" id="upstream-table"></table>
            <h2>Local Jacobians\(isBatch ? ", per point" : "")</h2>
            <table class="grid" id="jacobian-table"></table>
            <div id="notes"></div>
            """
        return HTMLPage(title: "backprop explain", subtitle: source + " (\(dtype.rawValue), \(inputDescription))",
                        body: body, style: Self.explainStyle,
                        data: model.json(source: source, omittedNote: omittedNote),
                        script: Self.explainScript)
    }

    static let explainStyle = """
        .network { display: flex; flex-wrap: wrap; align-items: center; gap: 0; margin: 12px 0; }
        .box { border: 2px solid #4a4a8a; border-radius: 6px; padding: 6px 10px; background: #f4f6ff; text-align: center; min-width: 86px; }
        .box .shape { font-family: ui-monospace, Menlo, Consolas, monospace; color: #555; font-size: 0.9em; }
        .box.io { background: #fff; border-style: dashed; }
        .box.fwd { background: #dff3e4; border-color: #1d7a35; box-shadow: 0 0 0 3px #bfe8c9; }
        .box.bwd { background: #fde7e4; border-color: #b3261e; box-shadow: 0 0 0 3px #f8c9c3; }
        .arrow { width: 40px; text-align: center; color: #666; font-size: 20px; }
        .arrow.fwd { color: #1d7a35; font-weight: bold; }
        .arrow.bwd { color: #b3261e; font-weight: bold; }
        .view-switch label { margin-left: 10px; }
        body.formulas .numbers-only { display: none; }
        body:not(.formulas) .formulas-only { display: none; }
        .eq-result { white-space: nowrap; }
        .eqrow { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; padding: 4px 0; border-bottom: 1px dotted #ccc; }
        .eqrow > span { display: inline-flex; align-items: center; gap: 2px; }
        ul.details { font-size: 0.92em; color: #333; }
        ul.details li { white-space: pre-wrap; }
        .omitted { color: var(--muted); font-style: italic; }
        """

    static let explainScript = """
        var d = BP.data, steps = d.steps, layers = d.layers;
        // A tensor of the page: stored once in d.tensors and referred to ({t: id}, T: its transpose),
        // or left out when large ({omitted: shape}).
        function R(ref) {
          if (ref.omitted) return ref;
          var t = d.tensors[ref.t];
          return ref.T && t.length ? t[0].map(function (_, j) { return t.map(function (row) { return row[j]; }); }) : t;
        }
        function T(ref, opts) {
          var t = R(ref);
          if (!t || !t.omitted) return BP.tensor(t, opts);
          var n = t.omitted.reduce(function (a, b) { return a * b; }, 1);
          return '<span class="omitted">[' + t.omitted.join(' × ') + ']: ' + n.toLocaleString('en') + ' numbers, more than the ' +
                 d.largestTensor.toLocaleString('en') + ' a page shows; ' + BP.esc(d.omittedNote) + '</span>';
        }
        function shapeText(ref) { var t = R(ref); return t.omitted ? '[' + t.omitted.join(', ') + ']' : BP.shapeText(t); }
        var view = BP.fragment().view === 'formulas' ? 'formulas' : 'numbers';
        function setView(v, write) {
          view = v;
          document.body.classList.toggle('formulas', v === 'formulas');
          document.querySelectorAll('input[name=view]').forEach(function (r) { r.checked = r.value === v; });
          if (write) BP.setFragment({ view: v });
        }
        document.querySelectorAll('input[name=view]').forEach(function (r) {
          r.addEventListener('change', function () { setView(r.value, true); });
        });
        setView(view, false);
        // A link pasted into the open page: its view too (the stepper reads its step).
        window.addEventListener('hashchange', function () { setView(BP.fragment().view === 'formulas' ? 'formulas' : 'numbers', false); });
        // The network: x, one box per layer, the loss; arrows between them.
        var net = '<div class="box io" id="box-x">input x<div class="shape">' + BP.esc(d.xShape) + '</div></div>';
        layers.forEach(function (l, i) {
          net += '<div class="arrow" id="edge-' + i + '" aria-hidden="true">→</div>';
          net += '<div class="box" id="box-' + i + '" tabindex="0" title="' + BP.esc(l.formula) + '"><div>' + l.index + ': ' + BP.esc(l.summary) +
                 '</div><div class="shape">' + BP.esc(l.outName) + ' ' + BP.esc(l.outShape) + '</div></div>';
        });
        net += '<div class="arrow" id="edge-' + layers.length + '" aria-hidden="true">→</div>';
        net += '<div class="box io" id="box-loss">loss C<div class="shape">' + BP.esc(d.loss.kind) + '</div></div>';
        document.getElementById('network').innerHTML = net;

        function operand(p) {
          if (p.text !== undefined) return '&nbsp;' + BP.esc(p.text) + '&nbsp;';
          return T(p.value, { column: p.column });
        }
        function symbol(p) {
          if (p.text !== undefined) return '&nbsp;' + BP.esc(p.text) + '&nbsp;';
          return '<span class="sym">' + BP.esc(p.sym) + '</span>';
        }
        function equation(e) {
          var lhs = '<span class="sym">' + BP.esc(e.lhs) + '</span>';
          if (e.parts.length === 0) return '<div class="eq">' + lhs + ' = ' + BP.q('eq:' + e.key, T(e.result, { column: !d.batch })) + '</div>';
          return '<div class="eq eqrow"><span>' + lhs + ' = ' + e.parts.map(symbol).join('') + '</span>' +
                 '<span class="numbers-only">= ' + e.parts.map(operand).join('') + '</span>' +
                 '<span class="eq-result">= ' + BP.q('eq:' + e.key, T(e.result, { column: !d.batch })) + '</span></div>';
        }
        function highlight(s, n) {
          document.querySelectorAll('.network .fwd, .network .bwd').forEach(function (e) { e.classList.remove('fwd', 'bwd'); });
          if (s.kind === 'input') document.getElementById('box-x').classList.add('fwd');
          if (s.kind === 'loss') { document.getElementById('box-loss').classList.add('bwd'); document.getElementById('edge-' + layers.length).classList.add('fwd'); }
          if (s.kind === 'forward') {
            document.getElementById('box-' + s.layer).classList.add('fwd');
            document.getElementById('edge-' + s.layer).classList.add('fwd');
          }
          if (s.kind === 'backward') {
            document.getElementById('box-' + s.layer).classList.add('bwd');
            document.getElementById('edge-' + (s.layer + 1)).classList.add('bwd');
            var e = document.getElementById('edge-' + (s.layer + 1));
            e.textContent = '←';
          }
          document.querySelectorAll('.arrow').forEach(function (a) { if (!a.classList.contains('bwd')) a.textContent = '→'; });
        }
        function show(n) {
          var s = steps[n];
          highlight(s, n);
          var h = '<div class="step-kind muted">' + BP.esc(s.title) + '</div>';
          h += s.equations.map(equation).join('');
          if (s.note) h += '<p class="hint">' + BP.esc(s.note) + '</p>';
          if (s.details.length) h += '<ul class="details">' + s.details.map(function (t) { return '<li>' + BP.esc(t) + '</li>'; }).join('') + '</ul>';
          document.getElementById('step-panel').innerHTML = h;
        }
        BP.stepper(document.getElementById('stepper'), steps.length, function (n) { return steps[n].title; }, show);

        // The tables, as `backprop explain` prints them.
        var f = '<tr><th>#</th><th>layer</th><th>computes</th><th>shape</th><th>value</th></tr>';
        f += '<tr><td></td><td>input</td><td><code>x</code></td><td>' + BP.esc(d.xShape) + '</td><td>' + BP.q('fwd:x', T(d.x)) + '</td></tr>';
        layers.forEach(function (l) {
          f += '<tr><td>' + l.index + '</td><td>' + BP.esc(l.summary) + '</td><td><code>' + BP.esc(l.formula) + '</code></td><td>' + BP.esc(l.outShape) +
               '</td><td>' + BP.q('fwd:' + l.outName, T(l.output)) + '</td></tr>';
        });
        f += '<tr><td></td><td>target</td><td><code>y</code></td><td>' + shapeText(d.y) + '</td><td>' + BP.q('fwd:y', T(d.y)) + '</td></tr>';
        document.getElementById('forward-table').innerHTML = f;
        document.getElementById('loss-panel').innerHTML = '<p>' + BP.esc(d.loss.kind) + ', reduction ' + BP.esc(d.loss.reduction) + ': <code>' +
          BP.esc(d.loss.formula) + '</code></p><p><span class="sym">C</span> = ' + BP.q('loss', BP.num(d.loss.value)) + '</p>';
        var b = '<tr><th>parameter</th><th>shape</th><th>value</th><th>gradient dC/dθ</th></tr>';
        layers.forEach(function (l) {
          [l.weight, l.bias].forEach(function (p) {
            if (!p) return;
            b += '<tr><td><code>' + BP.esc(p.name) + '</code> (' + BP.esc(p.symbol) + ')</td><td>' + shapeText(p.value) + '</td><td>' +
                 BP.q('param:' + p.name, T(p.value)) + '</td><td>' + BP.q('grad:' + p.name, T(p.grad)) + '</td></tr>';
          });
        });
        document.getElementById('backward-table').innerHTML = b;
        var u = '<tr><th>#</th><th>gradient</th><th>shape</th><th>value</th></tr>';
        layers.slice().reverse().forEach(function (l) {
          u += '<tr><td>' + l.index + '</td><td><code>dC/d' + BP.esc(l.outName) + '</code></td><td>' + BP.esc(l.outShape) + '</td><td>' +
               BP.q('up:' + l.outName, T(l.outGrad)) + '</td></tr>';
        });
        u += '<tr><td></td><td><code>dC/dx</code></td><td>' + BP.esc(d.xShape) + '</td><td>' + BP.q('up:x', T(d.inputGrad)) + '</td></tr>';
        document.getElementById('upstream-table').innerHTML = u;
        var j = '<tr><th>Jacobian</th><th>shape</th><th>value</th></tr>';
        d.jacobians.forEach(function (e) {
          j += '<tr><td><code>' + BP.esc(e.name) + '</code></td><td>' + shapeText(e.value) + '</td><td>' + BP.q('jac:' + e.name, T(e.value)) + '</td></tr>';
        });
        document.getElementById('jacobian-table').innerHTML = j;
        if (d.notes.length) {
          document.getElementById('notes').innerHTML = '<h2>Notes</h2><ul>' + d.notes.map(function (t) { return '<li>' + BP.esc(t) + '</li>'; }).join('') + '</ul>';
        }
        """
}

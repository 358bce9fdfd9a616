import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining

// `backprop train ... --report OUT.html`: one page about a training run.
// The loss and accuracy curves (log-scale loss on request), the norms of
// each parameter and of its gradient over the epochs, the confusion matrix,
// the misclassified validation images, the decision regions of a
// two-feature dataset, and the model, options and timings. A stepper walks
// the epochs (#step=N is epoch N + 1).

extension TrainingResult {
    /// The side, in pixels, of the dataset's square images; `nil` when the examples are not images.
    var imageShape: [Int]? {
        switch dataset {
        case .digits: return [8, 8]
        case .mnist: return [28, 28]
        default:
            let shape = rawValidation.featureShape
            return shape.count == 2 || (shape.count == 3 && shape[0] == 1) ? Array(shape.suffix(2)) : nil
        }
    }

    /// The model's predicted classes for raw (unstandardised) features.
    func predictions(_ raw: Tensor<Float>) -> [Int] {
        var x = standardizer.map { $0.apply(raw) } ?? raw
        if spec.takesImages, let shape = spec.resolvedInputShape { x = x.reshaped(to: [x.shape[0]] + shape) }
        return noGrad { Trainer.predictedClasses(model(x)) }
    }

    /// The data of the page.
    func reportJSON(options o: TrainingOptions, command: String) -> JSON {
        func num(_ v: Double?) -> JSON { v.map { .number($0.isFinite ? $0 : .nan) } ?? .null }
        let epochs = history.epochs
        var top: [(String, JSON)] = [
            ("command", .string(command)),
            ("dataset", .string(dataset.description)),
            ("model", .string(spec.pytorchCode)),
            ("parameters", .number(Double(model.parameterCount))),
            ("loss", .string(spec.loss.rawValue)),
            ("classification", .bool(spec.loss.isClassification)),
            ("trainCount", .number(Double(trainCount))), ("validationCount", .number(Double(validationCount))),
            ("interrupted", .bool(history.interrupted)),
            ("seconds", .number(history.seconds)),
            ("samplesPerSecond", .number(Double(history.samples) / max(history.seconds, 1e-9))),
        ]
        let optionRows: [(String, String)] = [
            ("dataset", o.dataset.description), ("layers", spec.layers.map(\.summary).joined(separator: ", ")), ("loss", spec.loss.rawValue),
            ("optimizer", o.optimizer.rawValue), ("learning rate", "\(o.learningRate)"),
            ("momentum", o.optimizer == .sgd || o.optimizer == .rmsprop ? "\(o.momentum)" : "-"),
            ("weight decay", "\(o.weightDecay ?? o.optimizer.defaultWeightDecay)"), ("epochs", "\(epochs.count)"), ("batch size", "\(o.batchSize)"),
            ("seed", "\(o.seed)"), ("validation split", "\(o.validationSplit)"),
            ("standardised", standardizer == nil ? "no" : "yes"),
        ]
        top.append(("options", .array(optionRows.map { .array([.string($0.0), .string($0.1)]) })))
        top.append(("epochs", .array(epochs.map { r in
            .object([("epoch", .number(Double(r.epoch))), ("trainLoss", num(r.trainLoss)), ("trainAccuracy", num(r.trainAccuracy)),
                     ("validationLoss", num(r.validationLoss)), ("validationAccuracy", num(r.validationAccuracy)),
                     ("seconds", .number(r.seconds)), ("samplesPerSecond", .number(r.samplesPerSecond)),
                     ("weightNorms", .array(r.parameterNorms.map { num($0.weight) })),
                     ("gradientNorms", .array(r.parameterNorms.map { num($0.gradient) }))])
        })))
        top.append(("parameterNames", .array((epochs.last?.parameterNorms ?? []).map { .string($0.name) })))
        func evaluation(_ e: Evaluation?) -> JSON {
            guard let e else { return .null }
            return .object([("count", .number(Double(e.count))), ("loss", num(e.loss)), ("accuracy", num(e.accuracy))])
        }
        top.append(("final", .object([("train", evaluation(trainEvaluation)), ("validation", evaluation(validationEvaluation))])))
        let classNames = rawValidation.classNames ?? rawTrain.classNames
            ?? (rawTrain.classCount.map { (0..<$0).map(String.init) } ?? [])
        top.append(("classNames", .array(classNames.map { .string($0) })))
        if let confusion = validationEvaluation?.confusion {
            top.append(("confusion", .array(confusion.map { .array($0.map { .number(Double($0)) }) })))
        }
        if spec.loss.isClassification && rawValidation.count > 0 {
            let predicted = predictions(rawValidation.features)
            let truth = rawValidation.targets.scalars.map { Int($0) }
            let wrong = predicted.indices.filter { predicted[$0] != truth[$0] }
            if let shape = imageShape {
                let size = shape.reduce(1, *)
                let pixels = rawValidation.features.scalars
                top.append(("imageShape", .array(shape.map { .number(Double($0)) })))
                top.append(("misclassifiedCount", .number(Double(wrong.count))))
                top.append(("misclassified", .array(wrong.prefix(40).map { i in
                    // Each image scaled to 0...255 for display.
                    let image = pixels[(i * size)..<((i + 1) * size)]
                    let lo = image.min() ?? 0, hi = image.max() ?? 1
                    let scale = hi > lo ? 255 / (hi - lo) : 0
                    return .object([("index", .number(Double(i))), ("true", .number(Double(truth[i]))),
                                    ("predicted", .number(Double(predicted[i]))),
                                    ("pixels", .array(image.map { .number(Double((($0 - lo) * scale).rounded())) }))])
                })))
            }
            if rawValidation.featureSize == 2 { top.append(("regions", decisionRegions())) }
        }
        return .object(top)
    }

    /// The predicted class over a grid covering the data (in raw feature units), and the points.
    func decisionRegions(resolution n: Int = 90) -> JSON {
        let all = [rawTrain.features.scalars, rawValidation.features.scalars]
        var lo = [Float.infinity, .infinity], hi = [-Float.infinity, -.infinity]
        for values in all {
            for (k, v) in values.enumerated() { lo[k % 2] = min(lo[k % 2], v); hi[k % 2] = max(hi[k % 2], v) }
        }
        for a in 0..<2 {
            let pad = max((hi[a] - lo[a]) * 0.08, 1e-3)
            lo[a] -= pad; hi[a] += pad
        }
        var grid: [Float] = []
        grid.reserveCapacity(2 * n * n)
        for r in 0..<n {
            // Row 0 is the top of the picture: the largest second feature.
            let y = hi[1] - (Float(r) + 0.5) / Float(n) * (hi[1] - lo[1])
            for c in 0..<n { grid += [lo[0] + (Float(c) + 0.5) / Float(n) * (hi[0] - lo[0]), y] }
        }
        let classes = predictions(Tensor(shape: [n * n, 2], scalars: grid))
        func points(_ data: TensorDataset<Float>, limit: Int) -> [JSON] {
            let f = data.features.scalars, t = data.targets.scalars
            let step = max(1, data.count / limit)
            return stride(from: 0, to: data.count, by: step).map { i in
                .array([.number(shortDouble(f[2 * i])), .number(shortDouble(f[2 * i + 1])), .number(Double(t[i]))])
            }
        }
        return .object([
            ("x0", .number(shortDouble(lo[0]))), ("x1", .number(shortDouble(hi[0]))),
            ("y0", .number(shortDouble(lo[1]))), ("y1", .number(shortDouble(hi[1]))), ("n", .number(Double(n))),
            ("classes", .array(classes.map { .number(Double($0)) })),
            ("features", .array((rawTrain.featureNames ?? ["x1", "x2"]).map { .string($0) })),
            ("train", .array(points(rawTrain, limit: 800))), ("validation", .array(points(rawValidation, limit: 400))),
        ])
    }

    /// The page of `backprop train ... --report OUT.html`.
    ///
    /// ```swift
    /// var options = TrainingOptions()
    /// options.epochs = 3
    /// let result = try TrainingSession.run(options) { _ in }
    /// try FileIO.writeText(result.htmlPage(options: options, command: "backprop train, 3 epochs").render(), to: "run.html")
    /// ```
    public func htmlPage(options: TrainingOptions, command: String) -> HTMLPage {
        let body = """
            <p class="hint no-print">The stepper walks the epochs (← → keys, Home, End; <code>#step=N</code> is epoch N + 1):
            the line on the charts marks the epoch and the panel gives its numbers. Hover over or tab to a number for its full value.</p>
            <div id="stepper"></div>
            <div id="epoch-panel" class="panel" aria-live="polite"></div>
            <h2>Loss and accuracy</h2>
            <label class="no-print"><input type="checkbox" id="log-loss"> loss on a log scale</label>
            <div class="charts" id="curves"></div>
            <h2>Norms of the parameters and of their gradients</h2>
            <p class="hint">‖θ‖₂ of each parameter at the end of each epoch, and ‖dL/dθ‖₂ of the epoch's last batch (log scale).</p>
            <div class="charts" id="norms"></div>
            <div id="confusion-section"></div>
            <div id="misclassified-section"></div>
            <div id="regions-section"></div>
            <h2>Model, options and timings</h2>
            <div id="summary"></div>
            """
        return HTMLPage(title: "backprop train", subtitle: command, body: body, style: Self.reportStyle,
                        data: reportJSON(options: options, command: command), script: Self.reportScript)
    }

    static let reportStyle = """
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        svg.chart { background: #fff; border: 1px solid #ddd; max-width: 100%; height: auto; }
        svg.chart text { font: 12px system-ui, Helvetica, Arial, sans-serif; fill: #1a1a1a; }
        svg.chart .chart-title { font-weight: 600; }
        svg.chart .tick { fill: #444; }
        svg.chart .gridline { stroke: #e6e6e6; }
        svg.chart .frame { fill: none; stroke: #888; }
        svg.chart .marker { stroke: #b3261e; stroke-width: 1.5; stroke-dasharray: 4 3; }
        table.confusion td { text-align: right; min-width: 2.6em; }
        table.confusion td.diag { font-weight: 700; }
        .gallery { display: flex; flex-wrap: wrap; gap: 10px; }
        .gallery figure { margin: 0; text-align: center; font-size: 0.85em; }
        .gallery canvas { width: 64px; height: 64px; image-rendering: pixelated; border: 1px solid #999; display: block; }
        svg.regions { border: 1px solid #999; max-width: 100%; height: auto; }
        .legend-row span { display: inline-block; margin-right: 12px; }
        .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #333; vertical-align: middle; margin-right: 4px; }
        """

    static let reportScript = """
        var d = BP.data, E = d.epochs;
        function pct(v) { return v === null ? null : v * 100; }
        function curves(step) {
          var log = document.getElementById('log-loss').checked;
          var x = function (f) { return E.map(function (r) { return [r.epoch, f(r)]; }); };
          var marker = E.length ? E[step].epoch : undefined;
          var h = BP.lineChart([
            { label: 'train', color: BP.colors[0], points: x(function (r) { return r.trainLoss; }) },
            { label: 'validation', color: BP.colors[1], dash: '6 3', points: x(function (r) { return r.validationLoss; }) }
          ], { title: 'loss (' + d.loss + ')', xLabel: 'epoch', integerX: true, yLabel: 'loss', log: log, marker: marker });
          if (d.classification) {
            h += BP.lineChart([
              { label: 'train', color: BP.colors[0], points: x(function (r) { return pct(r.trainAccuracy); }) },
              { label: 'validation', color: BP.colors[1], dash: '6 3', points: x(function (r) { return pct(r.validationAccuracy); }) }
            ], { title: 'accuracy', xLabel: 'epoch', integerX: true, yLabel: 'accuracy (%)', marker: marker });
          }
          document.getElementById('curves').innerHTML = h;
          var ws = [], gs = [];
          d.parameterNames.forEach(function (name, k) {
            var color = BP.colors[k % BP.colors.length], dash = name.indexOf('bias') >= 0 ? '5 3' : undefined;
            ws.push({ label: name, color: color, dash: dash, points: x(function (r) { return r.weightNorms[k]; }) });
            gs.push({ label: name, color: color, dash: dash, points: x(function (r) { return r.gradientNorms[k]; }) });
          });
          document.getElementById('norms').innerHTML =
            BP.lineChart(ws, { title: 'weight norm ‖θ‖₂', xLabel: 'epoch', integerX: true, yLabel: 'norm', marker: marker, log: true }) +
            BP.lineChart(gs, { title: 'gradient norm ‖dL/dθ‖₂ (last batch)', xLabel: 'epoch', integerX: true, yLabel: 'norm', marker: marker, log: true });
        }
        var current = 0;
        function show(n) {
          current = n;
          var r = E[n];
          var h = '<div class="eq"><span class="sym">epoch ' + r.epoch + '</span> of ' + E.length + '</div>';
          h += '<table class="grid"><tr><th></th><th>loss</th>' + (d.classification ? '<th>accuracy</th>' : '') + '</tr>';
          h += '<tr><td>train</td><td>' + BP.q('epoch:trainLoss', BP.num(r.trainLoss)) + '</td>' +
               (d.classification ? '<td>' + BP.q('epoch:trainAccuracy', BP.num(r.trainAccuracy)) + '</td>' : '') + '</tr>';
          h += '<tr><td>validation</td><td>' + BP.q('epoch:validationLoss', BP.num(r.validationLoss)) + '</td>' +
               (d.classification ? '<td>' + BP.q('epoch:validationAccuracy', BP.num(r.validationAccuracy)) + '</td>' : '') + '</tr></table>';
          h += '<table class="grid"><tr><th>parameter</th><th>‖θ‖₂</th><th>‖dL/dθ‖₂ (last batch)</th></tr>';
          d.parameterNames.forEach(function (name, k) {
            h += '<tr><td><code>' + BP.esc(name) + '</code></td><td>' + BP.q('norm:' + name, BP.num(r.weightNorms[k])) + '</td><td>' +
                 BP.q('gradnorm:' + name, BP.num(r.gradientNorms[k])) + '</td></tr>';
          });
          h += '</table><p class="hint">' + BP.q('epoch:seconds', BP.num(Number(r.seconds.toFixed(3)))) + ' s, ' +
               BP.num(Math.round(r.samplesPerSecond)) + ' training examples per second</p>';
          document.getElementById('epoch-panel').innerHTML = h;
          curves(n);
        }
        document.getElementById('log-loss').addEventListener('change', function () {
          BP.setFragment({ log: this.checked ? 1 : 0 });
          curves(current);
        });
        document.getElementById('log-loss').checked = BP.fragment().log === '1';
        // A link pasted into the open page: its scale too (the stepper reads its step).
        window.addEventListener('hashchange', function () {
          var log = BP.fragment().log === '1', box = document.getElementById('log-loss');
          if (box.checked !== log) { box.checked = log; curves(current); }
        });
        if (E.length) BP.stepper(document.getElementById('stepper'), E.length, function (n) { return 'epoch ' + E[n].epoch; }, show);

        function className(k) { return d.classNames[k] !== undefined ? d.classNames[k] : String(k); }
        if (d.confusion) {
          var m = d.confusion, max = 0;
          m.forEach(function (row) { row.forEach(function (v) { max = Math.max(max, v); }); });
          var t = '<h2>Confusion matrix (validation)</h2><p class="hint">Row: the true class; column: the predicted class.</p><table class="grid confusion"><tr><th>true \\\\ predicted</th>';
          m.forEach(function (_, j) { t += '<th>' + BP.esc(className(j)) + '</th>'; });
          t += '<th>recall</th></tr>';
          m.forEach(function (row, i) {
            var total = row.reduce(function (a, b) { return a + b; }, 0);
            t += '<tr><th>' + BP.esc(className(i)) + '</th>';
            row.forEach(function (v, j) {
              var a = max ? v / max : 0;
              var bg = i === j ? 'rgba(29,122,53,' + (0.12 + 0.5 * a).toFixed(2) + ')' : (v ? 'rgba(179,38,30,' + (0.1 + 0.6 * a).toFixed(2) + ')' : '#fff');
              t += '<td class="' + (i === j ? 'diag' : '') + '" style="background:' + bg + '">' + BP.q('confusion:' + i + ':' + j, BP.num(v)) + '</td>';
            });
            t += '<td>' + (total ? BP.num(Number((row[i] / total * 100).toFixed(1))) + '%' : '-') + '</td></tr>';
          });
          document.getElementById('confusion-section').innerHTML = t + '</table>';
        }
        if (d.misclassified) {
          var s = '<h2>Misclassified validation examples</h2><p class="hint">' + BP.q('misclassified', BP.num(d.misclassifiedCount)) + ' of ' +
                  d.validationCount + ' validation examples are misclassified' + (d.misclassifiedCount > d.misclassified.length ? '; the first ' + d.misclassified.length + ' are shown' : '') +
                  ' (true → predicted).</p><div class="gallery">';
          d.misclassified.forEach(function (e, k) {
            s += '<figure><canvas id="img-' + k + '" width="' + d.imageShape[1] + '" height="' + d.imageShape[0] + '" role="img" aria-label="example ' + e.index +
                 ': a ' + BP.esc(className(e.true)) + ' predicted as ' + BP.esc(className(e.predicted)) + '"></canvas><figcaption>' +
                 BP.esc(className(e.true)) + ' → <b>' + BP.esc(className(e.predicted)) + '</b></figcaption></figure>';
          });
          document.getElementById('misclassified-section').innerHTML = s + '</div>';
          d.misclassified.forEach(function (e, k) {
            var c = document.getElementById('img-' + k), ctx = c.getContext('2d');
            var img = ctx.createImageData(d.imageShape[1], d.imageShape[0]);
            e.pixels.forEach(function (v, i) {
              var g = 255 - v;   // dark ink on white paper
              img.data[4 * i] = g; img.data[4 * i + 1] = g; img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
            });
            ctx.putImageData(img, 0, 0);
          });
        }
        if (d.regions) {
          var R = d.regions, W = 420, H = 420, n = R.n, cw = W / n, ch = H / n;
          var light = ['#c9dbf5', '#f5cfc6', '#cdeccf', '#e3d2f0', '#f6dfb8', '#c4e8ec', '#f0cbe0', '#dbe4c6', '#dddddd', '#efe3b0'];
          var svg = '<svg class="regions" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="decision regions with the data">';
          for (var r = 0; r < n; r++) {
            var c0 = 0;
            for (var c = 1; c <= n; c++) {
              if (c === n || R.classes[r * n + c] !== R.classes[r * n + c0]) {
                svg += '<rect x="' + (c0 * cw).toFixed(2) + '" y="' + (r * ch).toFixed(2) + '" width="' + ((c - c0) * cw + 0.3).toFixed(2) + '" height="' + (ch + 0.3).toFixed(2) +
                       '" fill="' + light[R.classes[r * n + c0] % light.length] + '"/>';
                c0 = c;
              }
            }
          }
          function px(v) { return ((v - R.x0) / (R.x1 - R.x0) * W).toFixed(1); }
          function py(v) { return ((R.y1 - v) / (R.y1 - R.y0) * H).toFixed(1); }
          R.train.forEach(function (p) { svg += '<circle cx="' + px(p[0]) + '" cy="' + py(p[1]) + '" r="2.6" fill="' + BP.colors[p[2] % BP.colors.length] + '" stroke="#fff" stroke-width="0.6"/>'; });
          R.validation.forEach(function (p) { svg += '<rect x="' + (px(p[0]) - 3) + '" y="' + (py(p[1]) - 3) + '" width="6" height="6" fill="' + BP.colors[p[2] % BP.colors.length] + '" stroke="#000" stroke-width="0.8"/>'; });
          svg += '</svg>';
          var legend = '<p class="legend-row">' + d.classNames.map(function (name, k) {
            return '<span><span class="swatch" style="background:' + BP.colors[k % BP.colors.length] + '"></span>class ' + BP.esc(name) + '</span>';
          }).join('') + '<span>● training &nbsp; ■ validation</span></p>';
          document.getElementById('regions-section').innerHTML = '<h2>Decision regions</h2><p class="hint">The predicted class over the plane of the two features (' +
            BP.esc(R.features.join(', ')) + ', from ' + BP.num(R.x0) + ' to ' + BP.num(R.x1) + ' and ' + BP.num(R.y0) + ' to ' + BP.num(R.y1) + '), with the data on top.</p>' + svg + legend;
        }
        var sm = '<table class="grid"><tr><th>model</th><td><code>' + BP.esc(d.model) + '</code> (' + BP.num(d.parameters) + ' parameters)</td></tr>';
        d.options.forEach(function (o) { sm += '<tr><th>' + BP.esc(o[0]) + '</th><td><code>' + BP.esc(o[1]) + '</code></td></tr>'; });
        sm += '<tr><th>examples</th><td>' + BP.num(d.trainCount) + ' training, ' + BP.num(d.validationCount) + ' validation</td></tr>';
        sm += '<tr><th>time</th><td>' + BP.num(Number(d.seconds.toFixed(3))) + ' s in all, ' + BP.num(Math.round(d.samplesPerSecond)) + ' examples per second' + (d.interrupted ? ' (interrupted)' : '') + '</td></tr>';
        ['train', 'validation'].forEach(function (k) {
          var e = d.final[k];
          if (!e) return;
          sm += '<tr><th>final ' + k + '</th><td>loss ' + BP.q('final:' + k + ':loss', BP.num(e.loss)) +
                (e.accuracy !== null ? ', accuracy ' + BP.q('final:' + k + ':accuracy', BP.num(e.accuracy)) : '') + ' on ' + BP.num(e.count) + ' examples</td></tr>';
        });
        document.getElementById('summary').innerHTML = sm + '</table>';
        """
}

import BackpropCore
import BackpropNN

// What the conv, pooling, flatten and normalization layers of an explain
// report did with its numbers, in sentences for the text report and the
// HTML page: how a conv's gradients are formed (and one weight gradient
// entry written out as its sum), which element each max window routed its
// gradient to, the mean and variance a normalization used, the updated
// running statistics. The numbers come from the report (the library's own
// forward and backward pass); this file only reads them and re-adds the one
// written-out sum to show where it comes from.

extension ExplainReport {
    /// The most lines of detail one layer gets (a max per window, a mean per channel).
    static let detailLimit = 16

    /// Fills each row's ``LayerRow/details``; `before` are the buffers the problem gave.
    mutating func describeLayers(buffersBefore before: [(name: String, value: ExplainValue)]) {
        var k = 0
        for i in rows.indices {
            if rows[i].layer.hasParameters { k += 1 }
            let gradIn = i == 0 ? inputGradient : rows[i - 1].outputGradient
            rows[i].details = details(of: rows[i], k: k, inputGradient: gradIn, before: before)
        }
    }

    private func details(of row: LayerRow, k: Int, inputGradient gIn: ExplainValue,
                         before: [(name: String, value: ExplainValue)]) -> [String] {
        let (x, y, g, out, inName) = (row.input, row.output, row.outputGradient, row.outputName, row.inputName)
        // Every value as [N, C, H, W] (one example: N = 1; conv1d and batch_norm1d: H = 1; [N, C]: H = W = 1).
        func maps(_ v: ExplainValue) -> Maps { Maps(v, batch: isBatch) }
        let f = formatNumber
        switch row.layer {
        case .conv1d(_, _, _, _, let padding, _, let groups, let bias), .conv2d(_, _, _, _, let padding, _, let groups, let bias):
            return convolutionDetails(row, k: k, padding: padding, groups: groups, bias: bias)
        case let .maxPool2d(kernel, stride, padding):
            let s = stride ?? kernel
            let lines = ["forward: each output is the largest element of its \(kernel.height)x\(kernel.width) window (stride \(s.height)x\(s.width)"
                         + (padding == 0 ? "" : ", padding \(padding.height)x\(padding.width) of -∞") + ")",
                         "backward: the max routes its window's gradient to that element; the others get 0 from it:"]
            let (a, b, gm) = (maps(x), maps(y), maps(g))
            var routes: [String] = []
            for n in 0..<b.n { for c in 0..<b.c { for i in 0..<b.h { for j in 0..<b.w {
                var best: (r: Int, s: Int, v: Double)? = nil
                for p in 0..<kernel.height { for q in 0..<kernel.width {
                    let r = i * s.height + p - padding.height, t = j * s.width + q - padding.width
                    guard r >= 0, r < a.h, t >= 0, t < a.w else { continue }
                    let v = a[n, c, r, t]
                    if best == nil || v > best!.v { best = (r, t, v) }
                } }
                guard let best else { continue }
                let at = a.index(n, c, best.r, best.s, batch: isBatch)
                routes.append("  \(out)\(b.index(n, c, i, j, batch: isBatch)) = \(f(best.v)), the max at \(inName)\(at): dC/d\(inName)\(at) gets dC/d\(out)\(b.index(n, c, i, j, batch: isBatch)) = \(f(gm[n, c, i, j]))")
            } } } }
            return lines + Self.limited(routes)
        case let .avgPool2d(kernel, stride, padding):
            let s = stride ?? kernel, size = kernel.height * kernel.width
            return ["forward: each output is the mean of its \(kernel.height)x\(kernel.width) window (stride \(s.height)x\(s.width)"
                    + (padding == 0 ? ")" : ", padding \(padding.height)x\(padding.width) of zeros, counted in the mean as PyTorch's count_include_pad)"),
                    "backward: each of a window's \(size) elements gets 1/\(size) of the window's gradient dC/d\(out) (summed where windows overlap)"]
        case let .adaptiveAvgPool2d(o):
            let a = maps(x)
            return ["forward: output [i, j] is the mean of rows ⌊i·\(a.h)/\(o.height)⌋ ..< ⌈(i+1)·\(a.h)/\(o.height)⌉ and columns ⌊j·\(a.w)/\(o.width)⌋ ..< ⌈(j+1)·\(a.w)/\(o.width)⌉ of its channel"
                    + (o.height == 1 && o.width == 1 ? " (here: the mean of the whole \(a.h)x\(a.w) map)" : ""),
                    "backward: each element of a region gets dC/d\(out) of that output divided by the region's size"]
        case .flatten:
            let inShape = isBatch ? Array(x.shape.dropFirst()) : x.shape, outShape = isBatch ? Array(y.shape.dropFirst()) : y.shape
            return ["forward: reshapes each example \(inShape) to \(outShape) in row-major order (no arithmetic)",
                    "backward: reshapes dC/d\(out) back to each example's \(inShape): dC/d\(inName) holds the same \(gIn.scalars.count) numbers"]
        case .batchNorm1d, .batchNorm2d:
            return batchNormDetails(row, k: k, before: before)
        case let .layerNorm(shape, eps, affine):
            let count = shape.reduce(1, *)
            let groups = x.scalars.count / count
            var lines = ["forward: each example is normalised over its last \(shape) elements: (\(inName) - mean) / √(var + \(f(eps)))"
                         + (affine ? ", then times γ\(k) plus β\(k) elementwise" : "") + "; var is the biased variance (divided by \(count))"]
            var stats: [String] = []
            for group in 0..<groups {
                let v = Array(x.scalars[group * count..<(group + 1) * count])
                let mean = v.reduce(0, +) / Double(count)
                let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count)
                stats.append("  group \(group) (elements \(group * count)..<\((group + 1) * count) of \(inName)): mean \(f(mean)), var \(f(variance))")
            }
            lines += Self.limited(stats)
            lines.append("backward: dC/d\(inName) = (1/σ) (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂)) per group, where ĝ = dC/d\(out)\(affine ? " · γ\(k)" : "") and x̂ the normalised input (the mean and variance depend on \(inName) too)"
                         + (affine ? "; dC/dγ\(k) = Σ dC/d\(out) · x̂ and dC/dβ\(k) = Σ dC/d\(out) over the groups" : ""))
            return lines
        default:
            return []
        }
    }

    private func convolutionDetails(_ row: LayerRow, k: Int, padding: ConvolutionPadding, groups: Int, bias: Bool) -> [String] {
        let (x, out, inName) = (row.input, row.outputName, row.inputName)
        let f = formatNumber
        let oneD: Bool = { if case .conv1d = row.layer { return true } else { return false } }()
        let (stride, dilation, kernel): (Size2, Size2, Size2) = {
            switch row.layer {
            case let .conv1d(_, _, kk, s, _, d, _, _): return (Size2(1, s), Size2(1, d), Size2(1, kk))
            case let .conv2d(_, _, kk, s, _, d, _, _): return (s, d, kk)
            default: return (1, 1, 1)
            }
        }()
        let a = Maps(x, batch: isBatch), gm = Maps(row.outputGradient, batch: isBatch)
        // The padding actually applied before each axis (for "same", PyTorch's split: less before, more after).
        let padBefore = Size2(padding.amounts(axis: 0, kernel: kernel.height, dilation: dilation.height).0,
                              padding.amounts(axis: 1, kernel: kernel.width, dilation: dilation.width).0)
        let pad = oneD ? Size2(0, padBefore.width) : padBefore
        let index = oneD ? "[o, c, q]" : "[o, c, p, q]"
        let n = isBatch ? "n, " : ""
        let position = oneD ? "[\(n)o, j]" : "[\(n)o, i, j]"
        func tap(_ o: String, _ s: Int, _ d: Int, _ p: Int, _ name: String) -> String {
            (s == 1 ? o : "\(o)·\(s)") + (d == 1 ? " + \(name)" : " + \(name)·\(d)") + (p == 0 ? "" : " - \(p)")
        }
        let inputAt = oneD ? "\(inName)[\(n)c, \(tap("j", stride.width, dilation.width, pad.width, "q"))]"
                           : "\(inName)[\(n)c, \(tap("i", stride.height, dilation.height, pad.height, "p")), \(tap("j", stride.width, dilation.width, pad.width, "q"))]"
        var lines = [
            "forward: \(out)\(position) = \(bias ? "b\(k)[o] + " : "")Σ over c, \(oneD ? "q" : "p, q") of W\(k)\(index) · \(inputAt)"
                + (pad == 0 ? "" : " (zeros outside \(inName))") + (groups == 1 ? "" : "; c runs over the \(groups) groups' own channels"),
            "backward, dW: dC/dW\(k) is the input \(inName) correlated with dY = dC/d\(out): dC/dW\(k)\(index) = Σ over \(isBatch ? "n, " : "")\(oneD ? "j" : "i, j") of dC/d\(out)\(position) · \(inputAt); "
                + "it has the kernel's shape (\(row.index).weight in the table above)",
        ]
        // One entry written out: W[0, 0, 0, 0], the sum of dY times the input under the kernel's first tap.
        var terms: [(Double, Double)] = []
        for n in 0..<gm.n { for i in 0..<gm.h { for j in 0..<gm.w {
            let r = i * stride.height - pad.height, t = j * stride.width - pad.width
            guard r >= 0, r < a.h, t >= 0, t < a.w else { continue }
            terms.append((gm[n, 0, i, j], a[n, 0, r, t]))
        } } }
        let nonzero = terms.filter { $0.0 != 0 && $0.1 != 0 }
        let sum = terms.reduce(0) { $0 + $1.0 * $1.1 }
        func factor(_ v: Double) -> String { v < 0 ? "(\(f(v)))" : f(v) }
        let shown = nonzero.prefix(8).map { "\(factor($0.0))·\(factor($0.1))" }.joined(separator: " + ")
        lines.append("  for example dC/dW\(k)\(oneD ? "[0, 0, 0]" : "[0, 0, 0, 0]") = " + (nonzero.isEmpty ? "0 (every term is 0)"
            : shown + (nonzero.count > 8 ? " + … (\(nonzero.count - 8) more terms)" : "") + " = \(f(sum))"))
        if bias { lines.append("backward, db: dC/db\(k)[o] = Σ of dC/d\(out)[\(isBatch ? "n, " : "")o, …] over every position\(isBatch ? " and example" : "")") }
        lines.append("backward, dX: dC/d\(inName) is dY = dC/d\(out) convolved with the flipped kernel (a full convolution: each element of \(inName) collects dC/d\(out)\(position) · W\(k)\(index) from every window that covers it"
                     + (stride == 1 ? ")" : "; with stride \(oneD ? "\(stride.width)" : "\(stride.height)x\(stride.width)") dY is first spread out with zeros between its elements)"))
        return lines
    }

    private func batchNormDetails(_ row: LayerRow, k: Int, before: [(name: String, value: ExplainValue)]) -> [String] {
        guard case let .batchNorm1d(_, eps, momentum) = row.layer.asBatchNorm1d else { return [] }
        let f = formatNumber
        let (inName, out) = (row.inputName, row.outputName)
        let a = Maps(row.input, batch: isBatch)
        let m = a.n * a.h * a.w
        func buffer(_ list: [(name: String, value: ExplainValue)], _ key: String) -> [Double] {
            list.first { $0.name == "\(row.index).\(key)" }?.value.scalars ?? []
        }
        let after = buffers.map { (name: $0.name, value: $0.value) }
        let (mean0, var0, mean1, var1) = (buffer(before, "running_mean"), buffer(before, "running_var"),
                                          buffer(after, "running_mean"), buffer(after, "running_var"))
        var lines: [String] = []
        var stats: [String] = []
        if row.isTraining {
            lines.append("forward (training mode): each channel is normalised with its batch mean and biased variance over the \(m) values of that channel (\(a.n) example\(a.n == 1 ? "" : "s")\(a.h * a.w > 1 ? " x \(a.h * a.w) positions" : "")), then times γ\(k) plus β\(k); "
                         + "the running statistics move towards the batch's: running ← (1 - \(f(momentum)))·running + \(f(momentum))·batch, with the unbiased variance (divided by \(m - 1))")
            for c in 0..<a.c {
                var values: [Double] = []
                for n in 0..<a.n { for i in 0..<a.h { for j in 0..<a.w { values.append(a[n, c, i, j]) } } }
                let mean = values.reduce(0, +) / Double(m)
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(m)
                var line = "  channel \(c): mean \(f(mean)), var \(f(variance)), √(var + \(f(eps))) = \(f((variance + eps).squareRoot()))"
                if c < mean1.count, c < var1.count, c < mean0.count, c < var0.count {
                    line += "; running_mean \(f(mean0[c])) → \(f(mean1[c])), running_var \(f(var0[c])) → \(f(var1[c]))"
                }
                stats.append(line)
            }
            lines += Self.limited(stats)
            lines.append("backward: dC/dβ\(k) = Σ dC/d\(out) and dC/dγ\(k) = Σ dC/d\(out) · x̂ per channel (x̂ the normalised input); "
                         + "dC/d\(inName) = (γ/σ) (dC/d\(out) - mean(dC/d\(out)) - x̂ · mean(dC/d\(out) · x̂)) per channel, since the batch mean and variance depend on \(inName) too")
        } else {
            lines.append("forward (evaluation mode): each channel is normalised with running_mean and running_var (not the batch's): s = γ\(k) (\(inName) - running_mean) / √(running_var + \(f(eps))) + β\(k), a fixed affine map")
            for c in 0..<min(mean0.count, var0.count) {
                stats.append("  channel \(c): running_mean \(f(mean0[c])), running_var \(f(var0[c])), √(running_var + \(f(eps))) = \(f((var0[c] + eps).squareRoot()))")
            }
            lines += Self.limited(stats)
            lines.append("backward: dC/d\(inName) = dC/d\(out) · γ\(k) / √(running_var + eps) per channel; dC/dβ\(k) = Σ dC/d\(out), dC/dγ\(k) = Σ dC/d\(out) · x̂")
        }
        return lines
    }

    /// At most ``detailLimit`` lines, and how many were left out.
    static func limited(_ lines: [String]) -> [String] {
        lines.count <= detailLimit ? lines : Array(lines.prefix(detailLimit)) + ["  … (\(lines.count - detailLimit) more)"]
    }
}

private extension LayerSpec {
    /// Either batch norm as `.batchNorm1d` (their hyperparameters are the same), else `nil`.
    var asBatchNorm1d: LayerSpec? {
        switch self {
        case let .batchNorm1d(c, e, m), let .batchNorm2d(c, e, m): return .batchNorm1d(numFeatures: c, eps: e, momentum: m)
        default: return nil
        }
    }
}

/// A value read as [N, C, H, W] maps: a batch or one example of [C, H, W], [C, L] (H = 1) or [C] (H = W = 1).
private struct Maps {
    let v: ExplainValue
    let n: Int, c: Int, h: Int, w: Int
    /// How many axes the example has (1, 2 or 3), for writing indices back in the value's own form.
    let rank: Int

    init(_ v: ExplainValue, batch: Bool) {
        self.v = v
        let example = batch && v.shape.count > 1 ? Array(v.shape.dropFirst()) : v.shape
        n = batch && v.shape.count > 1 ? v.shape[0] : 1
        rank = example.count
        c = example.first ?? 1
        h = example.count == 3 ? example[1] : 1
        w = example.count >= 2 ? example[example.count - 1] : 1
    }

    subscript(n: Int, c: Int, i: Int, j: Int) -> Double { v.scalars[((n * self.c + c) * h + i) * w + j] }

    /// `[n, c, i, j]` written in the value's own axes: `[c, i, j]` for one example, `[c, j]` for [C, L].
    func index(_ n: Int, _ c: Int, _ i: Int, _ j: Int, batch: Bool) -> String {
        let example = rank == 3 ? [c, i, j] : rank == 2 ? [c, j] : [c]
        return "[" + ((batch ? [n] : []) + example).map(String.init).joined(separator: ", ") + "]"
    }
}

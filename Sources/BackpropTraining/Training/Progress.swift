import BackpropCore
import BackpropNN
import BackpropData
/// Text for training progress: a bar redrawn in place on a terminal, one
/// plain line per epoch otherwise, and the closing summary.
public enum TrainingText {
    /// `epoch  3/20 [#########...........]  45% loss 0.2345 acc 93.1% 45,210 samples/s ETA 0:04`,
    /// without a line ending (the caller prefixes `\r` to redraw).
    public static func progressBar(_ p: BatchProgress, width: Int = 24) -> String {
        let fraction = Double(p.batch) / Double(max(p.batchCount, 1))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = Double(p.samples) / max(p.epochSeconds, 1e-9)
        // Remaining time for the whole run, from this epoch's pace.
        let epochTotal = p.epochSeconds / max(fraction, 1e-9)
        let remaining = epochTotal * (1 - fraction) + epochTotal * Double(p.epochs - p.epoch)
        var s = "epoch \(pad(p.epoch, to: p.epochs))/\(p.epochs) \(bar) \(pad(Int(fraction * 100), width: 3))%"
        s += " loss \(fixed(p.loss, 4))"
        if let a = p.accuracy { s += " acc \(fixed(a * 100, 1))%" }
        s += " \(grouped(Int(rate))) samples/s ETA \(duration(remaining))"
        return s
    }

    /// `epoch  3/20  loss 0.2345  acc 93.12%  val_loss 0.2500  val_acc 92.50%  0.12 s  45,210 samples/s`.
    public static func epochLine(_ r: EpochRecord, epochs: Int) -> String {
        var s = "epoch \(pad(r.epoch, to: epochs))/\(epochs)  loss \(fixed(r.trainLoss, 4))"
        if let a = r.trainAccuracy { s += "  acc \(fixed(a * 100, 2))%" }
        if let l = r.validationLoss { s += "  val_loss \(fixed(l, 4))" }
        if let a = r.validationAccuracy { s += "  val_acc \(fixed(a * 100, 2))%" }
        s += "  \(fixed(r.seconds, 2)) s  \(grouped(Int(r.samplesPerSecond))) samples/s"
        return s
    }

    /// A confusion matrix with true classes as rows, predictions as columns.
    public static func confusionMatrix(_ m: [[Int]], classNames: [String]? = nil) -> String {
        let k = m.count
        let names = classNames ?? (0..<k).map(String.init)
        let width = max(4, (m.flatMap { $0 }.map { String($0).count } + names.map(\.count)).max() ?? 1)
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        let labelWidth = max(9, (names.map(\.count).max() ?? 1) + 5)
        var lines = ["confusion matrix (rows: true class, columns: predicted)"]
        lines.append(String(repeating: " ", count: labelWidth) + names.map { " " + cell($0) }.joined())
        for (i, row) in m.enumerated() {
            let label = "true " + names[i]
            lines.append(label + String(repeating: " ", count: max(0, labelWidth - label.count)) + row.map { " " + cell(String($0)) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ n: Int, to maxValue: Int) -> String { pad(n, width: String(maxValue).count) }
    static func pad(_ n: Int, width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    /// `x` with `digits` decimals (no Foundation `String(format:)`).
    public static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (abs(x) * scale).rounded()
        guard r < 9e18 else { return "\(x)" }
        let n = Int(r)
        let whole = n / Int(scale), frac = n % Int(scale)
        var fracText = String(frac)
        fracText = String(repeating: "0", count: max(0, digits - fracText.count)) + fracText
        let sign = x < 0 && n != 0 ? "-" : ""
        return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fracText)"
    }

    /// `45210` -> `45,210`.
    public static func grouped(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `m:ss`, or `h:mm:ss` from an hour.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let t = Int(seconds.rounded())
        let h = t / 3600, m = (t % 3600) / 60, s = t % 60
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):\(m < 10 ? "0" : "")\(m):\(ss)" }
        return "\(m):\(ss)"
    }
}

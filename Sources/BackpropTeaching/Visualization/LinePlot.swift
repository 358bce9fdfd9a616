import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

// Line plots drawn with the SVG writer: one or more panels in a grid, each
// with axes, ticks at nice numbers, a legend and a title. Used for the
// activation plots and for training-loss curves.

/// A figure of line charts.
///
/// ```swift
/// let plot = LinePlot(title: "Loss", panels: [
///     .init(title: "training", xLabel: "epoch", yLabel: "loss",
///           series: [.init(label: "train", points: [(1, 0.9), (2, 0.5), (3, 0.3)])])
/// ])
/// try FileIO.writeText(plot.svg(), to: "loss.svg")
/// ```
public struct LinePlot: Sendable {
    /// One curve: points joined in order. A non-finite y breaks the line.
    public struct Series: Sendable {
        /// The legend text.
        public var label: String
        /// (x, y) in drawing order.
        public var points: [(x: Double, y: Double)]
        /// Draw dashed (e.g. a derivative next to its function).
        public var dashed: Bool
        /// A CSS colour; `nil` picks the next one from the palette.
        public var color: String?

        /// A series: `.init(label: "train", points: [(1, 0.9), (2, 0.4)])`.
        public init(label: String, points: [(x: Double, y: Double)], dashed: Bool = false, color: String? = nil) {
            self.label = label
            self.points = points
            self.dashed = dashed
            self.color = color
        }
    }

    /// How the y axis maps values.
    public enum Scale: Sendable { case linear, logarithmic }

    /// One chart with its own axes.
    public struct Panel: Sendable {
        /// Shown above the panel.
        public var title: String
        /// Caption of the x axis.
        public var xLabel: String
        /// Caption of the y axis.
        public var yLabel: String
        /// The curves, each with a legend entry.
        public var series: [Series]
        /// `.logarithmic` for loss curves spanning decades.
        public var yScale: Scale

        /// A panel: `.init(title: "loss", xLabel: "epoch", series: [train, validation])`.
        public init(title: String = "", xLabel: String = "", yLabel: String = "", series: [Series], yScale: Scale = .linear) {
            self.title = title
            self.xLabel = xLabel
            self.yLabel = yLabel
            self.series = series
            self.yScale = yScale
        }
    }

    /// The figure's title.
    public var title: String
    /// Panels, filled row by row.
    public var panels: [Panel]
    /// Panels per row.
    public var columns: Int
    /// Width of one panel in pixels.
    public var panelWidth: Double = 340
    /// Height of one panel in pixels.
    public var panelHeight: Double = 250

    /// A figure; `columns` defaults to two panels per row (one for a single panel).
    public init(title: String, panels: [Panel], columns: Int? = nil) {
        self.title = title
        self.panels = panels
        self.columns = max(1, columns ?? min(panels.count, 2))
    }

    /// The palette (Tableau 10), used in order within a panel.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The plot as an SVG document: one `<path class="curve">` per series.
    public func svgDocument() -> SVGDocument {
        let titleHeight = title.isEmpty ? 10.0 : 40.0
        let rows = (panels.count + columns - 1) / columns
        var doc = SVGDocument(width: Double(columns) * panelWidth + 20,
                              height: titleHeight + Double(rows) * panelHeight + 10, style: """
            text { font-family: Helvetica, Arial, sans-serif; fill: #222; }
            .title { font-size: 16px; font-weight: bold; }
            .panel-title { font-size: 13px; font-weight: bold; }
            .tick, .legend, .axis-label { font-size: 11px; }
            .grid { stroke: #e6e6e6; stroke-width: 1; }
            .axis { stroke: #444; stroke-width: 1; }
            .zero { stroke: #aaa; stroke-width: 1; }
            .curve { fill: none; stroke-width: 2; }
            """)
        doc.append(.rect(x: 0, y: 0, width: doc.width, height: doc.height, ["fill": "white"]))
        if !title.isEmpty {
            doc.append(.text(title, x: doc.width / 2, y: 26, anchor: "middle", ["class": "title"]))
        }
        for (i, panel) in panels.enumerated() {
            let ox = 10 + Double(i % columns) * panelWidth
            let oy = titleHeight + Double(i / columns) * panelHeight
            doc.append(draw(panel, x: ox, y: oy))
        }
        return doc
    }

    /// The plot as SVG text.
    public func svg() -> String { svgDocument().render() }

    private func draw(_ panel: Panel, x ox: Double, y oy: Double) -> SVGElement {
        let left = ox + 52, right = ox + panelWidth - 14
        let top = oy + 28, bottom = oy + panelHeight - 42
        let log = panel.yScale == .logarithmic
        let points = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!log || $0.y > 0) }
        let xs = points.map(\.x), ys = points.map { log ? Foundation.log10($0.y) : $0.y }
        let xTicks = Self.niceTicks(xs.min() ?? 0, xs.max() ?? 1)
        let yTicks = log ? Self.logTicks(ys.min() ?? 0, ys.max() ?? 1) : Self.niceTicks(ys.min() ?? 0, ys.max() ?? 1)
        let (x0, x1) = (xTicks.first!, xTicks.last!), (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (right - left) }
        func py(_ y: Double) -> Double { bottom - ((log ? Foundation.log10(y) : y) - y0) / (y1 - y0) * (bottom - top) }
        func pyRaw(_ v: Double) -> Double { bottom - (v - y0) / (y1 - y0) * (bottom - top) }

        var children: [SVGElement] = []
        if !panel.title.isEmpty {
            children.append(.text(panel.title, x: (left + right) / 2, y: oy + 16, anchor: "middle", ["class": "panel-title"]))
        }
        var grid: [SVGElement] = []
        for t in xTicks {
            grid.append(.line(x1: px(t), y1: top, x2: px(t), y2: bottom, ["class": "grid"]))
            grid.append(.text(Self.tickLabel(t, ticks: xTicks), x: px(t), y: bottom + 15, anchor: "middle", ["class": "tick"]))
        }
        for t in yTicks {
            grid.append(.line(x1: left, y1: pyRaw(t), x2: right, y2: pyRaw(t), ["class": "grid"]))
            let label = log ? formatNumber(Foundation.pow(10, t)) : Self.tickLabel(t, ticks: yTicks)
            grid.append(.text(label, x: left - 6, y: pyRaw(t) + 4, anchor: "end", ["class": "tick"]))
        }
        children.append(.group(grid, ["class": "grid-lines"]))
        // Zero lines make the sign of a derivative readable at a glance.
        if !log && y0 < 0 && y1 > 0 { children.append(.line(x1: left, y1: pyRaw(0), x2: right, y2: pyRaw(0), ["class": "zero"])) }
        if x0 < 0 && x1 > 0 { children.append(.line(x1: px(0), y1: top, x2: px(0), y2: bottom, ["class": "zero"])) }
        children.append(.line(x1: left, y1: bottom, x2: right, y2: bottom, ["class": "axis"]))
        children.append(.line(x1: left, y1: top, x2: left, y2: bottom, ["class": "axis"]))
        if !panel.xLabel.isEmpty {
            children.append(.text(panel.xLabel, x: (left + right) / 2, y: bottom + 32, anchor: "middle", ["class": "axis-label"]))
        }
        if !panel.yLabel.isEmpty {
            let cx = ox + 12, cy = (top + bottom) / 2
            children.append(.text(panel.yLabel, x: cx, y: cy, anchor: "middle",
                                  ["class": "axis-label", "transform": "rotate(-90 \(SVG.number(cx)) \(SVG.number(cy)))"]))
        }
        var legend: [SVGElement] = []
        for (k, series) in panel.series.enumerated() {
            let color = series.color ?? LinePlot.palette[k % LinePlot.palette.count]
            var path = SVGPath()
            var penDown = false
            for p in series.points {
                guard p.x.isFinite, p.y.isFinite, !log || p.y > 0 else { penDown = false; continue }
                if penDown { path.line(to: px(p.x), py(p.y)) } else { path.move(to: px(p.x), py(p.y)); penDown = true }
            }
            var curve = SVGElement.path(path, ["class": "curve", "stroke": color])
            if series.dashed { curve = curve.with("stroke-dasharray", "6 4") }
            curve.children = [.title(series.label)]
            children.append(curve)
            let ly = top + 8 + Double(k) * 16
            var swatch = SVGElement.line(x1: left + 10, y1: ly, x2: left + 32, y2: ly, ["stroke": color, "stroke-width": "2"])
            if series.dashed { swatch = swatch.with("stroke-dasharray", "6 4") }
            legend.append(swatch)
            legend.append(.text(series.label, x: left + 37, y: ly + 4, ["class": "legend"]))
        }
        if !legend.isEmpty {
            let width = (panel.series.map { SVG.estimatedTextWidth($0.label, fontSize: 11) }.max() ?? 0) + 46
            legend.insert(.rect(x: left + 4, y: top, width: width, height: Double(panel.series.count) * 16 + 2,
                                ["fill": "white", "fill-opacity": "0.85", "stroke": "#ccc"]), at: 0)
            children.append(.group(legend, ["class": "legend-box"]))
        }
        return .group(children, ["class": "panel"])
    }
}

// Axis ticks.
extension LinePlot {
    /// Tick positions at nice numbers (1, 2 or 5 times a power of ten) covering
    /// `lo...hi`, about five of them; the first and last bound the axis.
    ///
    /// ```swift
    /// LinePlot.niceTicks(-4, 4)      // [-4, -2, 0, 2, 4]
    /// LinePlot.niceTicks(0, 0.93)    // [0, 0.2, 0.4, 0.6, 0.8, 1]
    /// ```
    public static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        var (lo, hi) = (min(lo, hi), max(lo, hi))
        if hi - lo < 1e-12 * max(1, Swift.abs(hi)) { lo -= 1; hi += 1 }
        let (mantissa, exponent) = niceStep((hi - lo) / Double(max(1, count - 1)))
        // A tick is k * mantissa * 10^exponent; dividing by a power of ten (rather
        // than multiplying by 0.1) makes 3 * 0.2 print as 0.6.
        func tick(_ k: Int) -> Double {
            exponent >= 0 ? Double(k * mantissa) * Foundation.pow(10, Double(exponent))
                          : Double(k * mantissa) / Foundation.pow(10, Double(-exponent))
        }
        let step = tick(1)
        let first = Int((lo / step).rounded(.down)), last = Int((hi / step).rounded(.up))
        return (first...last).map(tick)
    }

    /// Heckbert's nice step: 1, 2 or 5 times a power of ten near `x`, as (mantissa, exponent).
    static func niceStep(_ x: Double) -> (Int, Int) {
        let exponent = Int(Foundation.floor(Foundation.log10(x)))
        let fraction = x / Foundation.pow(10, Double(exponent))
        if fraction < 1.5 { return (1, exponent) }
        if fraction < 3 { return (2, exponent) }
        if fraction < 7 { return (5, exponent) }
        return (1, exponent + 1)
    }

    /// Ticks at whole powers of ten, in log10 units.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = Foundation.floor(lo), b = Swift.max(Foundation.ceil(hi), a + 1)
        return Array(stride(from: a, through: b, by: 1))
    }

    /// A tick label with as many decimals as the tick spacing needs.
    static func tickLabel(_ v: Double, ticks: [Double]) -> String {
        let step = ticks.count > 1 ? Swift.abs(ticks[1] - ticks[0]) : 1
        let decimals = max(0, Int(-Foundation.floor(Foundation.log10(step) + 1e-9)))
        if Swift.abs(v) >= 1e5 || (Swift.abs(v) > 0 && Swift.abs(v) < 1e-4) { return String(format: "%.0e", v) }
        let s = String(format: "%.\(decimals)f", v)
        return s == "-0" ? "0" : s.hasPrefix("-0") && Double(s) == 0 ? String(s.dropFirst()) : s
    }
}

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

    /// The plot as an SVG document: one `<path class="curve">` per series, and a
    /// `<circle class="marker">` for each point that has no finite neighbour to join.
    ///
    /// Each legend goes in a corner of its axes that no curve crosses; when some panel
    /// has no such corner, every legend goes to the right of its axes. A title wider
    /// than the panels is wrapped at spaces (and the document widened for a word
    /// that alone is too wide).
    public func svgDocument() -> SVGDocument {
        let layouts = panels.map(layout)
        let outside = zip(panels, layouts).contains { !$0.series.isEmpty && $1.legendCorner == nil }
        let gutter = outside ? (layouts.map(\.legendSize.width).max() ?? 0) + 8 : 0
        let pitch = panelWidth + gutter
        let gridWidth = Double(columns) * pitch + 20
        let titleLines = Self.wrap(title, width: gridWidth - 20, fontSize: Self.titleFontSize)
        let width = max(gridWidth, (titleLines.map { SVG.estimatedTextWidth($0, fontSize: Self.titleFontSize) }.max() ?? 0) + 20)
        let titleHeight = title.isEmpty ? 10.0 : 20 + 20 * Double(titleLines.count)
        let rows = (panels.count + columns - 1) / columns
        var doc = SVGDocument(width: width, height: titleHeight + Double(rows) * panelHeight + 10, style: """
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
        for (k, line) in titleLines.enumerated() {
            doc.append(.text(line, x: doc.width / 2, y: 26 + 20 * Double(k), anchor: "middle", ["class": "title"]))
        }
        let indent = (width - gridWidth) / 2   // centres the panels under a title wider than them
        for (i, panel) in panels.enumerated() {
            let ox = indent + 10 + Double(i % columns) * pitch
            let oy = titleHeight + Double(i / columns) * panelHeight
            doc.append(draw(panel, layouts[i].at(x: ox, y: oy), legendOutside: outside))
        }
        return doc
    }

    /// The plot as SVG text.
    public func svg() -> String { svgDocument().render() }

    static let titleFontSize = 16.0
    static let legendFontSize = 11.0
    /// The radius of the dot drawn for a point with no finite neighbour.
    static let markerRadius = 3.5

    /// Where a panel's axes, ticks and legend go, relative to the panel's top-left corner.
    struct PanelLayout {
        var left: Double, right: Double, top: Double, bottom: Double
        var xTicks: [Double], yTicks: [Double]
        var logarithmic: Bool
        var legendSize: (width: Double, height: Double)
        /// The legend's top-left corner inside the axes; `nil` when no corner is clear of the curves.
        var legendCorner: (x: Double, y: Double)?

        func px(_ x: Double) -> Double { left + (x - xTicks.first!) / (xTicks.last! - xTicks.first!) * (right - left) }
        /// The pixel row of a value in axis units (log10 of it on a logarithmic axis).
        func pyAxis(_ v: Double) -> Double { bottom - (v - yTicks.first!) / (yTicks.last! - yTicks.first!) * (bottom - top) }
        func py(_ y: Double) -> Double { pyAxis(logarithmic ? Foundation.log10(y) : y) }
        func plotted(_ p: (x: Double, y: Double)) -> Bool { p.x.isFinite && p.y.isFinite && (!logarithmic || p.y > 0) }

        /// The same layout for a panel whose top-left corner is at (x, y).
        func at(x: Double, y: Double) -> PanelLayout {
            var l = self
            (l.left, l.right, l.top, l.bottom) = (left + x, right + x, top + y, bottom + y)
            l.legendCorner = legendCorner.map { ($0.x + x, $0.y + y) }
            return l
        }

        /// Each series as runs of plotted points in pixels; a non-plotted point ends a run.
        func runs(_ series: Series) -> [[(x: Double, y: Double)]] {
            var runs: [[(x: Double, y: Double)]] = [[]]
            for p in series.points {
                if plotted(p) { runs[runs.count - 1].append((px(p.x), py(p.y))) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            return runs.filter { !$0.isEmpty }
        }
    }

    private func layout(_ panel: Panel) -> PanelLayout {
        let log = panel.yScale == .logarithmic
        let points = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!log || $0.y > 0) }
        let xs = points.map(\.x), ys = points.map { log ? Foundation.log10($0.y) : $0.y }
        let xTicks = Self.niceTicks(xs.min() ?? 0, xs.max() ?? 1)
        let yTicks = log ? Self.logTicks(ys.min() ?? 0, ys.max() ?? 1) : Self.niceTicks(ys.min() ?? 0, ys.max() ?? 1)
        let labelWidth = panel.series.map { SVG.estimatedTextWidth($0.label, fontSize: Self.legendFontSize) }.max() ?? 0
        var l = PanelLayout(left: 52, right: panelWidth - 14, top: 28, bottom: panelHeight - 42,
                            xTicks: xTicks, yTicks: yTicks, logarithmic: log,
                            legendSize: (labelWidth + 46, Double(panel.series.count) * 16 + 2), legendCorner: nil)
        guard !panel.series.isEmpty else { return l }
        // Corners in order of preference; the first that no curve or marker touches wins.
        let (w, h) = l.legendSize
        let (left, right, top, bottom) = (l.left, l.right, l.top, l.bottom)
        let corners: [(x: Double, y: Double)] = [(left + 4, top + 4), (right - 4 - w, top + 4),
                                                 (right - 4 - w, bottom - 4 - h), (left + 4, bottom - 4 - h)]
        let axes = l
        let runs = panel.series.flatMap { axes.runs($0) }
        l.legendCorner = corners.first { corner in
            guard left < corner.x, corner.x + w < right, top < corner.y, corner.y + h < bottom else { return false }
            // The curve's stroke and the markers reach a few pixels beyond the points.
            let box = (x0: corner.x - 4, y0: corner.y - 4, x1: corner.x + w + 4, y1: corner.y + h + 4)
            return !runs.contains { run in
                run.count == 1 ? Self.contains(box, run[0]) : zip(run, run.dropFirst()).contains { Self.segment($0, $1, meets: box) }
            }
        }
        return l
    }

    static func contains(_ box: (x0: Double, y0: Double, x1: Double, y1: Double), _ p: (x: Double, y: Double)) -> Bool {
        box.x0 <= p.x && p.x <= box.x1 && box.y0 <= p.y && p.y <= box.y1
    }

    /// Whether the segment from `a` to `b` meets the box (Liang-Barsky clipping:
    /// the segment's parameter interval inside each of the four half-planes).
    static func segment(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double),
                        meets box: (x0: Double, y0: Double, x1: Double, y1: Double)) -> Bool {
        var (t0, t1) = (0.0, 1.0)
        let (dx, dy) = (b.x - a.x, b.y - a.y)
        for (p, q) in [(-dx, a.x - box.x0), (dx, box.x1 - a.x), (-dy, a.y - box.y0), (dy, box.y1 - a.y)] {
            if p == 0 {
                if q < 0 { return false }
            } else {
                let t = q / p
                if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
                if t0 > t1 { return false }
            }
        }
        return true
    }

    /// `text` broken at spaces into lines of at most `width` pixels (estimated); a
    /// word wider than that stays whole on its own line.
    static func wrap(_ text: String, width: Double, fontSize: Double) -> [String] {
        guard !text.isEmpty else { return [] }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if line.isEmpty || SVG.estimatedTextWidth(candidate, fontSize: fontSize) <= width {
                line = candidate
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        lines.append(line)
        return lines
    }

    private func draw(_ panel: Panel, _ l: PanelLayout, legendOutside: Bool) -> SVGElement {
        let (left, right, top, bottom) = (l.left, l.right, l.top, l.bottom)
        let (xTicks, yTicks, log) = (l.xTicks, l.yTicks, l.logarithmic)
        let (x0, x1, y0, y1) = (xTicks.first!, xTicks.last!, yTicks.first!, yTicks.last!)
        let ox = left - 52, oy = top - 28

        var children: [SVGElement] = []
        if !panel.title.isEmpty {
            children.append(.text(panel.title, x: (left + right) / 2, y: oy + 16, anchor: "middle", ["class": "panel-title"]))
        }
        var grid: [SVGElement] = []
        for t in xTicks {
            grid.append(.line(x1: l.px(t), y1: top, x2: l.px(t), y2: bottom, ["class": "grid"]))
            grid.append(.text(Self.tickLabel(t, ticks: xTicks), x: l.px(t), y: bottom + 15, anchor: "middle", ["class": "tick"]))
        }
        for t in yTicks {
            grid.append(.line(x1: left, y1: l.pyAxis(t), x2: right, y2: l.pyAxis(t), ["class": "grid"]))
            let label = log ? formatNumber(Foundation.pow(10, t)) : Self.tickLabel(t, ticks: yTicks)
            grid.append(.text(label, x: left - 6, y: l.pyAxis(t) + 4, anchor: "end", ["class": "tick"]))
        }
        children.append(.group(grid, ["class": "grid-lines"]))
        // Zero lines make the sign of a derivative readable at a glance.
        if !log && y0 < 0 && y1 > 0 { children.append(.line(x1: left, y1: l.pyAxis(0), x2: right, y2: l.pyAxis(0), ["class": "zero"])) }
        if x0 < 0 && x1 > 0 { children.append(.line(x1: l.px(0), y1: top, x2: l.px(0), y2: bottom, ["class": "zero"])) }
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
        let (lx, ly) = legendOutside ? (right + 8, top) : l.legendCorner ?? (right + 8, top)
        var legend: [SVGElement] = []
        for (k, series) in panel.series.enumerated() {
            let color = series.color ?? LinePlot.palette[k % LinePlot.palette.count]
            let runs = l.runs(series)
            var path = SVGPath()
            for run in runs {
                path.move(to: run[0].x, run[0].y)
                for p in run.dropFirst() { path.line(to: p.x, p.y) }
            }
            var curve = SVGElement.path(path, ["class": "curve", "stroke": color])
            if series.dashed { curve = curve.with("stroke-dasharray", "6 4") }
            curve.children = [.title(series.label)]
            children.append(curve)
            // A point without a neighbour draws no line (a one-epoch run): a dot shows it.
            for run in runs where run.count == 1 {
                var marker = SVGElement.circle(cx: run[0].x, cy: run[0].y, r: Self.markerRadius, ["class": "marker", "fill": color])
                marker.children = [.title(series.label)]
                children.append(marker)
            }
            let entryY = ly + 8 + Double(k) * 16
            var swatch = SVGElement.line(x1: lx + 6, y1: entryY, x2: lx + 28, y2: entryY, ["stroke": color, "stroke-width": "2"])
            if series.dashed { swatch = swatch.with("stroke-dasharray", "6 4") }
            legend.append(swatch)
            legend.append(.text(series.label, x: lx + 33, y: entryY + 4, ["class": "legend"]))
        }
        if !legend.isEmpty {
            legend.insert(.rect(x: lx, y: ly, width: l.legendSize.width, height: l.legendSize.height,
                                ["class": "legend-frame", "fill": "white", "fill-opacity": "0.85", "stroke": "#ccc"]), at: 0)
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

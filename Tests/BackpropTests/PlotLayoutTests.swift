import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
import Backprop
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// What a LinePlot SVG draws, read back from the SVG text: per panel its curves (as polylines, one per
/// subpath), its markers and its legend's frame; the document's size and its title lines.
struct DrawnPlot {
    struct Panel {
        var curves: [[[(x: Double, y: Double)]]] = []   // per curve, its subpaths
        var markers: [(x: Double, y: Double, fill: String)] = []
        var legend: (x: Double, y: Double, width: Double, height: Double)?
    }
    var width = 0.0, height = 0.0
    var titles: [(text: String, x: Double, anchor: String)] = []
    var panels: [Panel] = []

    private init() {}

    init(svg: String) throws {
        final class Reader: NSObject, XMLParserDelegate {
            var plot: DrawnPlot
            var title: (x: Double, anchor: String)?
            var text = ""
            init(_ plot: DrawnPlot) { self.plot = plot }
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                        qualifiedName: String?, attributes a: [String: String] = [:]) {
                func number(_ key: String) -> Double { Double(a[key] ?? "") ?? .nan }
                switch (name, a["class"]) {
                case ("svg", _): (plot.width, plot.height) = (number("width"), number("height"))
                case ("text", "title"): title = (number("x"), a["text-anchor"] ?? "start"); text = ""
                case ("g", "panel"): plot.panels.append(Panel())
                case ("path", "curve"):
                    var subpaths: [[(x: Double, y: Double)]] = []
                    let tokens = (a["d"] ?? "").split(separator: " ")
                    for i in stride(from: 0, to: tokens.count - 1, by: 2) {
                        let p = (x: Double(tokens[i].dropFirst())!, y: Double(tokens[i + 1])!)
                        if tokens[i].hasPrefix("M") { subpaths.append([p]) } else { subpaths[subpaths.count - 1].append(p) }
                    }
                    plot.panels[plot.panels.count - 1].curves.append(subpaths)
                case ("circle", "marker"):
                    plot.panels[plot.panels.count - 1].markers.append((number("cx"), number("cy"), a["fill"] ?? ""))
                case ("rect", "legend-frame"):
                    plot.panels[plot.panels.count - 1].legend = (number("x"), number("y"), number("width"), number("height"))
                default: break
                }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "text", let t = title { plot.titles.append((text, t.x, t.anchor)); title = nil }
            }
        }
        let reader = Reader(DrawnPlot())
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = reader
        struct NotXML: Error {}
        guard parser.parse() else { throw NotXML() }
        self = reader.plot
    }
}

/// The points of a curve and, between each two neighbours, 20 more along the segment: a legend that
/// none of them falls in is clear of the curve as drawn (to within a twentieth of a segment).
private func densePoints(_ subpath: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
    var points: [(x: Double, y: Double)] = []
    for (a, b) in zip(subpath, subpath.dropFirst()) {
        for k in 0..<20 {
            let t = Double(k) / 20
            points.append((a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
        }
    }
    return points + subpath.suffix(1)
}

private func inside(_ p: (x: Double, y: Double), _ r: (x: Double, y: Double, width: Double, height: Double)) -> Bool {
    r.x <= p.x && p.x <= r.x + r.width && r.y <= p.y && p.y <= r.y + r.height
}

@Suite("Line plots: the legend covers no data, the title fits, a lone point shows")
struct PlotLayoutTests {
    /// Runs `backprop plot NAMES --svg FILE` in-process and reads the file back.
    static func plot(_ names: [String]) throws -> (svg: String, drawn: DrawnPlot) {
        let dir = DataTestSupport.temporaryDirectory("plot-layout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var errors: [String] = []
        let code = BackpropCommand.runMain(arguments: ["plot"] + names + ["--svg", dir + "/p.svg"], output: { _ in },
                                           errorOutput: { errors.append($0) })
        #expect(code == 0 && errors.isEmpty, "\(errors)")
        let svg = try String(contentsOfFile: dir + "/p.svg", encoding: .utf8)
        return (svg, try DrawnPlot(svg: svg))
    }

    /// No point of any curve (nor of the segments between them) lies in its panel's legend frame.
    static func expectLegendClear(_ drawn: DrawnPlot, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (i, panel) in drawn.panels.enumerated() {
            let legend = try #require(panel.legend, "\(what): panel \(i) has no legend", sourceLocation: sourceLocation)
            let covered = panel.curves.flatMap { $0.flatMap(densePoints) }.filter { inside($0, legend) }
                + panel.markers.map { ($0.x, $0.y) }.filter { inside($0, legend) }
            #expect(covered.isEmpty, "\(what): panel \(i): \(covered.count) curve points inside the legend \(legend), e.g. \(covered.prefix(3))",
                    sourceLocation: sourceLocation)
            #expect(legend.x + legend.width <= drawn.width && legend.y + legend.height <= drawn.height, sourceLocation: sourceLocation)
        }
    }

    @Test("plot tanh: no point of tanh or of its derivative lies inside the legend")
    func tanhLegend() throws {
        let (_, drawn) = try Self.plot(["tanh"])
        #expect(drawn.panels.count == 1 && drawn.panels[0].curves.map(\.count) == [1, 1])
        #expect(drawn.panels[0].curves.allSatisfy { $0[0].count == 201 })
        try Self.expectLegendClear(drawn, "tanh")
    }

    @Test("every activation, alone and all in one figure: the legends cover no curve")
    func everyActivationLegend() throws {
        let names = ["relu", "leaky_relu:0.1", "tanh", "sigmoid", "softplus:1", "gelu", "gelu:tanh", "elu", "silu", "identity"]
        for name in names { try Self.expectLegendClear(try Self.plot([name]).drawn, name) }
        try Self.expectLegendClear(try Self.plot(names).drawn, names.joined(separator: " "))
    }

    @Test("training curves: rising accuracy and falling loss keep their legends clear")
    func trainingCurvesLegend() throws {
        let epochs = (1...30).map { e in
            let t = Double(e) / 30
            return EpochRecord(epoch: e, trainLoss: 2 * Foundation.exp(-4 * t), trainAccuracy: 0.6 + 0.4 * t,
                               validationLoss: 2.2 * Foundation.exp(-3 * t), validationAccuracy: 0.84 + 0.13 * t,
                               seconds: 0, samplesPerSecond: 0)
        }
        let drawn = try DrawnPlot(svg: LinePlot.trainingCurves(epochs, title: "backprop train --dataset digits").svg())
        #expect(drawn.panels.count == 2 && drawn.panels.allSatisfy { $0.curves.count == 2 })
        try Self.expectLegendClear(drawn, "training curves")
    }

    @Test("curves through every corner: the legend goes outside the axes, beside them")
    func legendOutside() throws {
        // A zigzag that spans the whole panel, corners included.
        let zigzag = LinePlot.Series(label: "zigzag", points: (0...40).map { (Double($0), $0 % 2 == 0 ? 0 : 1) })
        let plot = LinePlot(title: "", panels: [.init(series: [zigzag]), .init(series: [.init(label: "line", points: [(0, 0), (1, 1)])])])
        let drawn = try DrawnPlot(svg: plot.svg())
        try Self.expectLegendClear(drawn, "zigzag")
        // Both legends outside (the same place in every panel), inside the document.
        let legends = drawn.panels.map { $0.legend! }
        let rightmost = drawn.panels.map { $0.curves.flatMap { $0.flatMap { $0.map(\.x) } }.max()! }
        #expect(zip(legends, rightmost).allSatisfy { $0.x > $1 }, "\(legends) \(rightmost)")
        // A panel without curves has no legend, and leaves the others' where they were.
        let empty = try DrawnPlot(svg: LinePlot(title: "", panels: [plot.panels[1], .init(series: [])]).svg())
        #expect(empty.panels[1].legend == nil && empty.panels[0].legend!.x < empty.panels[0].curves[0][0].last!.x)
    }

    @Test("a title wider than the panels wraps, and each line fits the document")
    func titleFits() throws {
        func titleLinesFit(_ drawn: DrawnPlot) -> Bool {
            drawn.titles.allSatisfy { t in
                // The layout's estimate (0.6 em a character) is wider than Helvetica Bold's average of about 0.58 em.
                let width = Double(t.text.count) * 16 * 0.6
                let x0 = t.anchor == "middle" ? t.x - width / 2 : t.x
                return x0 >= 0 && x0 + width <= drawn.width
            }
        }
        let (_, tanh) = try Self.plot(["tanh"])
        #expect(titleLinesFit(tanh), "\(tanh.titles) in \(tanh.width)")
        #expect(tanh.titles.map(\.text).joined(separator: " ") == "Activations and their derivatives (by backpropagation)")

        let long = String(repeating: "a long title for one small panel ", count: 6).trimmingCharacters(in: .whitespaces)
        let one = LinePlot(title: long, panels: [.init(series: [.init(label: "y", points: [(0, 0), (1, 1)])])])
        let drawn = try DrawnPlot(svg: one.svg())
        #expect(drawn.titles.count > 1 && titleLinesFit(drawn), "\(drawn.titles) in \(drawn.width)")
        #expect(drawn.titles.map(\.text).joined(separator: " ") == long)
        // The panels move down below the title's lines.
        #expect(drawn.height > one.panelHeight + 20 * Double(drawn.titles.count))

        // One word wider than the panels: the document widens to hold it.
        let path = "backprop train --dataset csv:/" + String(repeating: "very-long-folder-name/", count: 8) + "data.csv"
        let wide = try DrawnPlot(svg: LinePlot(title: path, panels: one.panels).svg())
        #expect(titleLinesFit(wide) && wide.width > one.panelWidth + 20, "\(wide.titles) in \(wide.width)")
    }

    @Test("a series with one finite point draws a marker (a one-epoch training run)")
    func onePointMarker() throws {
        let one = [EpochRecord(epoch: 1, trainLoss: 0.69, trainAccuracy: 0.55, validationLoss: 0.6, validationAccuracy: 0.7,
                               seconds: 0.1, samplesPerSecond: 8000)]
        let drawn = try DrawnPlot(svg: LinePlot.trainingCurves(one, title: "one epoch").svg())
        #expect(drawn.panels.count == 2)
        for panel in drawn.panels {
            // Train and validation: one marker each, in its series' colour, inside the panel's axes.
            #expect(panel.markers.map(\.fill) == Array(LinePlot.palette.prefix(2)))
            #expect(panel.markers.allSatisfy { $0.x.isFinite && $0.y.isFinite && $0.x > 60 && $0.y > 40 })
            #expect(panel.markers.allSatisfy { m in !inside((m.x, m.y), panel.legend!) })
        }
        // A lone finite point between NaNs is marked too; points with a neighbour are a line, not markers.
        let gap = LinePlot.Series(label: "gap", points: [(1, 1), (2, 2), (3, .nan), (4, 3), (5, .infinity), (6, 2), (7, 1)])
        let gapped = try DrawnPlot(svg: LinePlot(title: "", panels: [.init(series: [gap])]).svg())
        #expect(gapped.panels[0].markers.count == 1)
        #expect(gapped.panels[0].curves[0].map(\.count) == [2, 1, 2])
    }
}

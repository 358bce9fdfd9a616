import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// A small SVG writer: elements with ordered attributes, escaped text, and a
// path builder. The graph drawing, the activation plots and the loss curves
// of `backprop train` all draw with it; nothing here knows about any of them.

/// One SVG element: a name, attributes in a fixed order, children or text.
///
/// ```swift
/// var doc = SVGDocument(width: 200, height: 100)
/// doc.append(.rect(x: 10, y: 10, width: 50, height: 30, ["fill": "#eef"]))
/// doc.append(.text("a < b", x: 20, y: 30))
/// let xml = doc.render()
/// ```
public struct SVGElement: Sendable {
    /// The tag name, e.g. `rect`.
    public var name: String
    /// Attributes in output order.
    public var attributes: [(String, String)]
    /// Nested elements.
    public var children: [SVGElement]
    /// Character data; escaped on output.
    public var text: String?

    /// An element; prefer the static constructors (`.rect`, `.text`, ...).
    public init(_ name: String, _ attributes: [(String, String)] = [], children: [SVGElement] = [], text: String? = nil) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// Adds or replaces an attribute, returning the element for chaining.
    public func with(_ name: String, _ value: String) -> SVGElement {
        var copy = self
        if let i = copy.attributes.firstIndex(where: { $0.0 == name }) { copy.attributes[i].1 = value }
        else { copy.attributes.append((name, value)) }
        return copy
    }

    /// A `<g>` around `children`.
    public static func group(_ children: [SVGElement], _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        SVGElement("g", Array(attributes).map { ($0.key, $0.value) }, children: children)
    }

    /// A rectangle: `.rect(x: 0, y: 0, width: 10, height: 5, ["fill": "red"])`.
    public static func rect(x: Double, y: Double, width: Double, height: Double,
                            _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        SVGElement("rect", [("x", SVG.number(x)), ("y", SVG.number(y)), ("width", SVG.number(width)), ("height", SVG.number(height))]
                   + attributes.map { ($0.key, $0.value) })
    }

    /// A straight line segment: `.line(x1: 0, y1: 0, x2: 10, y2: 0, ["class": "axis"])`.
    public static func line(x1: Double, y1: Double, x2: Double, y2: Double,
                            _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        SVGElement("line", [("x1", SVG.number(x1)), ("y1", SVG.number(y1)), ("x2", SVG.number(x2)), ("y2", SVG.number(y2))]
                   + attributes.map { ($0.key, $0.value) })
    }

    /// A circle: `.circle(cx: 5, cy: 5, r: 4)`.
    public static func circle(cx: Double, cy: Double, r: Double, _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        SVGElement("circle", [("cx", SVG.number(cx)), ("cy", SVG.number(cy)), ("r", SVG.number(r))]
                   + attributes.map { ($0.key, $0.value) })
    }

    /// A path from an ``SVGPath``: `.path(p, ["class": "curve", "stroke": "#1f77b4"])`.
    public static func path(_ path: SVGPath, _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        SVGElement("path", [("d", path.data)] + attributes.map { ($0.key, $0.value) })
    }

    /// Text at (x, y); `anchor` is `start`, `middle` or `end`.
    public static func text(_ string: String, x: Double, y: Double, anchor: String = "start",
                            _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        var attrs = [("x", SVG.number(x)), ("y", SVG.number(y))]
        if anchor != "start" { attrs.append(("text-anchor", anchor)) }
        return SVGElement("text", attrs + attributes.map { ($0.key, $0.value) }, text: string)
    }

    /// A `<title>` child: the tooltip of its parent.
    public static func title(_ string: String) -> SVGElement { SVGElement("title", text: string) }

    func render(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent)
        out += pad + "<" + name
        for (k, v) in attributes { out += " \(k)=\"\(SVG.escape(v))\"" }
        if children.isEmpty && text == nil { out += "/>\n"; return }
        out += ">"
        if let text { out += SVG.escape(text) }
        if !children.isEmpty {
            out += "\n"
            for child in children { child.render(into: &out, indent: indent + 1) }
            out += pad
        }
        out += "</\(name)>\n"
    }
}

/// An SVG document of a fixed size, with an optional `<style>` sheet.
public struct SVGDocument: Sendable {
    /// Width in pixels (also the viewBox width).
    public var width: Double
    /// Height in pixels (also the viewBox height).
    public var height: Double
    /// Top-level elements in drawing order.
    public var elements: [SVGElement] = []
    /// CSS placed in a `<style>` element.
    public var style: String?

    /// An empty document: `SVGDocument(width: 400, height: 300, style: "text { font-size: 12px; }")`.
    public init(width: Double, height: Double, style: String? = nil) {
        self.width = width
        self.height = height
        self.style = style
    }

    /// Adds a top-level element, drawn above the earlier ones.
    public mutating func append(_ element: SVGElement) { elements.append(element) }

    /// The document as XML text.
    public func render() -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVG.number(width))\" height=\"\(SVG.number(height))\""
        out += " viewBox=\"0 0 \(SVG.number(width)) \(SVG.number(height))\">\n"
        if let style { SVGElement("style", text: style).render(into: &out, indent: 1) }
        for e in elements { e.render(into: &out, indent: 1) }
        return out + "</svg>\n"
    }
}

/// Path data built command by command.
///
/// ```swift
/// var p = SVGPath()
/// p.move(to: 0, 0); p.line(to: 10, 5); p.close()
/// ```
public struct SVGPath: Sendable {
    /// The `d` attribute text.
    public private(set) var data = ""
    /// An empty path.
    public init() {}

    private mutating func command(_ c: String, _ values: [Double]) {
        if !data.isEmpty { data += " " }
        data += c + values.map(SVG.number).joined(separator: " ")
    }

    /// Starts a subpath at (x, y).
    public mutating func move(to x: Double, _ y: Double) { command("M", [x, y]) }
    /// A straight segment to (x, y).
    public mutating func line(to x: Double, _ y: Double) { command("L", [x, y]) }
    /// A cubic Bézier curve to (x, y) with two control points.
    public mutating func curve(to x: Double, _ y: Double, control1 c1: (Double, Double), control2 c2: (Double, Double)) {
        command("C", [c1.0, c1.1, c2.0, c2.1, x, y])
    }
    /// Closes the subpath.
    public mutating func close() { command("Z", []) }
}

/// The text helpers of SVG writing: escaping and number formatting.
public enum SVG {
    /// Escapes the five XML special characters.
    ///
    /// ```swift
    /// SVG.escape("a < b & c")   // "a &lt; b &amp; c"
    /// ```
    /// `apostrophe` replaces `'`; `nil` keeps it (HTML attributes in double quotes need no escape for it).
    public static func escape(_ s: String, apostrophe: String? = "&apos;") -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += apostrophe ?? "'"
            default: out.append(c)
            }
        }
        return out
    }

    /// A coordinate with at most two decimals and no trailing zeros: `12`, `3.5`, `-0.25`.
    ///
    /// ```swift
    /// SVG.number(3.14159)   // "3.14"
    /// ```
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        var s = String(r)
        if s.contains("e") { s = String(Int(r)) }
        return s
    }

    /// An approximate text width for layout, without font metrics: about 0.6 em
    /// per character for the sans-serif fonts browsers pick.
    static func estimatedTextWidth(_ s: String, fontSize: Double) -> Double {
        Double(s.count) * fontSize * 0.6
    }
}

import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// Drawings of an expression graph in micrograd's style: a box per value
// (label, value, gradient), a circle per op between its inputs and its
// result. DOT for Graphviz, and SVG with the project's own layered layout.

extension ExpressionGraph {
    /// Graphviz DOT, left to right: `record` boxes `{ label | value v | grad g }`
    /// for values and small circles for ops.
    ///
    /// ```swift
    /// try FileIO.writeText(graph.dot(), to: "graph.dot")
    /// // dot -Tsvg graph.dot > graph.svg
    /// ```
    public func dot() -> String {
        var lines = ["digraph backprop {", "  rankdir=LR;", "  node [fontname=\"Helvetica\", fontsize=11];"]
        for node in nodes {
            let grad = node.gradient.map(formatTensor) ?? "-"
            let label = "{ \(dotEscape(node.label)) | value \(dotEscape(formatTensor(node.value))) | grad \(dotEscape(grad)) }"
            let style = node.operation == .constant ? ", style=dashed" : ""
            lines.append("  v\(node.id) [shape=record, label=\"\(label)\"\(style)];")
            if !node.inputs.isEmpty {
                lines.append("  op\(node.id) [shape=circle, label=\"\(dotEscape(node.operation.symbol))\"];")
                lines.append("  op\(node.id) -> v\(node.id);")
            }
        }
        for node in nodes {
            for input in node.inputs { lines.append("  v\(input) -> op\(node.id);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// An SVG drawing with a layered layout (no Graphviz needed): one
    /// `<g class="value-node">` per node and one `<g class="op-node">` per op.
    public func svg() -> String {
        var layout = LayeredLayout()
        // Vertices: value v_i is 2i, op of node i is 2i + 1.
        var edges: [(Int, Int)] = []
        for node in nodes {
            layout.vertices[2 * node.id] = .init(width: 0, height: 0)
            if !node.inputs.isEmpty {
                layout.vertices[2 * node.id + 1] = .init(width: 0, height: 0)
                edges.append((2 * node.id + 1, 2 * node.id))
                for input in node.inputs where !edges.contains(where: { $0 == (2 * input, 2 * node.id + 1) }) {
                    edges.append((2 * input, 2 * node.id + 1))
                }
            }
        }
        let fontSize = 12.0
        func lines(_ node: Node) -> [String] {
            [node.label, "value " + formatTensor(node.value), "grad " + (node.gradient.map(formatTensor) ?? "-")]
        }
        func opRadius(_ node: Node) -> Double { max(15, SVG.estimatedTextWidth(node.operation.symbol, fontSize: fontSize) / 2 + 7) }
        for node in nodes {
            let w = lines(node).map { SVG.estimatedTextWidth($0, fontSize: fontSize) }.max()! + 16
            layout.vertices[2 * node.id] = .init(width: w, height: 3 * (fontSize + 4) + 10)
            if !node.inputs.isEmpty {
                let r = opRadius(node)
                layout.vertices[2 * node.id + 1] = .init(width: 2 * r, height: 2 * r)
            }
        }
        layout.edges = edges
        let positions = layout.solve(horizontalGap: 36, verticalGap: 18, margin: 20)

        var doc = SVGDocument(width: positions.width, height: positions.height, style: """
            .value-node rect { fill: #f7f7ff; stroke: #4a4a8a; }
            .value-node.constant rect { fill: #ffffff; stroke-dasharray: 4 3; }
            .value-node.output rect { stroke-width: 2.5; }
            .op-node circle { fill: #fff3d6; stroke: #b07d00; }
            .edge { fill: none; stroke: #777; stroke-width: 1.2; }
            text { font-family: Helvetica, Arial, sans-serif; font-size: 12px; fill: #222; }
            .label { font-weight: bold; }
            """)
        doc.append(SVGElement("defs", children: [
            SVGElement("marker", [("id", "arrow"), ("viewBox", "0 0 10 10"), ("refX", "10"), ("refY", "5"),
                                  ("markerWidth", "7"), ("markerHeight", "7"), ("orient", "auto")],
                       children: [.path({ var p = SVGPath(); p.move(to: 0, 0); p.line(to: 10, 5); p.line(to: 0, 10); p.close(); return p }(),
                                        ["fill": "#777"])]),
        ]))
        var edgeElements: [SVGElement] = []
        for (a, b) in edges {
            let pa = positions.boxes[a]!, pb = positions.boxes[b]!
            let (x1, y1) = (pa.x + pa.width, pa.y + pa.height / 2)
            let (x2, y2) = (pb.x, pb.y + pb.height / 2)
            let bend = max(20, (x2 - x1) / 2)
            var p = SVGPath()
            p.move(to: x1, y1)
            p.curve(to: x2, y2, control1: (x1 + bend, y1), control2: (x2 - bend, y2))
            edgeElements.append(.path(p, ["class": "edge", "marker-end": "url(#arrow)"]))
        }
        doc.append(.group(edgeElements, ["class": "edges"]))
        var nodeElements: [SVGElement] = []
        for node in nodes {
            let box = positions.boxes[2 * node.id]!
            var cls = "value-node"
            if node.operation == .constant { cls += " constant" }
            if node.id == output { cls += " output" }
            var children: [SVGElement] = [
                .title("\(node.label) = \(node.text)"),
                .rect(x: box.x, y: box.y, width: box.width, height: box.height, ["rx": "4"]),
            ]
            for (k, line) in lines(node).enumerated() {
                let y = box.y + 5 + Double(k + 1) * (fontSize + 4) - 3
                children.append(.text(line, x: box.x + 8, y: y, k == 0 ? ["class": "label"] : [:]))
            }
            nodeElements.append(.group(children, ["class": cls]))
            if !node.inputs.isEmpty {
                let o = positions.boxes[2 * node.id + 1]!
                let (cx, cy) = (o.x + o.width / 2, o.y + o.height / 2)
                nodeElements.append(.group([
                    .title(node.operation.name),
                    .circle(cx: cx, cy: cy, r: o.width / 2),
                    .text(node.operation.symbol, x: cx, y: cy + 4, anchor: "middle"),
                ], ["class": "op-node"]))
            }
        }
        doc.append(.group(nodeElements, ["class": "nodes"]))
        return doc.render()
    }
}

/// `"`, `\`, and the record-label specials `{ } | < >` escaped for a DOT record label.
func dotEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        if "\"\\{}|<>".contains(c) { out.append("\\") }
        out.append(c)
    }
    return out
}

/// A Sugiyama-style layout for a small DAG drawn left to right: longest-path
/// layering, then barycentre ordering within each layer, then coordinates.
struct LayeredLayout {
    struct Vertex { var width: Double; var height: Double }
    struct Box { var x, y, width, height: Double }

    var vertices: [Int: Vertex] = [:]
    var edges: [(Int, Int)] = []

    /// Layer of every vertex: sources as late as their first use allows, every
    /// other vertex one past its deepest predecessor.
    func layers() -> [Int: Int] {
        var preds: [Int: [Int]] = [:], succs: [Int: [Int]] = [:]
        for (a, b) in edges { preds[b, default: []].append(a); succs[a, default: []].append(b) }
        var layer: [Int: Int] = [:]
        func depth(_ v: Int) -> Int {
            if let l = layer[v] { return l }
            let l = (preds[v] ?? []).map { depth($0) + 1 }.max() ?? 0
            layer[v] = l
            return l
        }
        for v in vertices.keys { _ = depth(v) }
        // Pull sources right, next to their earliest consumer (constants sit by their op).
        for v in vertices.keys where (preds[v] ?? []).isEmpty {
            if let first = (succs[v] ?? []).map({ layer[$0]! }).min() { layer[v] = first - 1 }
        }
        return layer
    }

    func solve(horizontalGap: Double, verticalGap: Double, margin: Double) -> (boxes: [Int: Box], width: Double, height: Double) {
        let layer = layers()
        let maxLayer = layer.values.max() ?? 0
        var columns = [[Int]](repeating: [], count: maxLayer + 1)
        for v in vertices.keys.sorted() { columns[layer[v]!].append(v) }

        var neighbours: [Int: [Int]] = [:]
        for (a, b) in edges { neighbours[a, default: []].append(b); neighbours[b, default: []].append(a) }
        func positionIndex() -> [Int: Double] {
            var index: [Int: Double] = [:]
            for column in columns { for (i, v) in column.enumerated() { index[v] = Double(i) - Double(column.count - 1) / 2 } }
            return index
        }
        // Barycentre sweeps, left to right then right to left, a few times.
        for sweep in 0..<6 {
            let order = sweep % 2 == 0 ? Array(columns.indices) : columns.indices.reversed()
            for c in order {
                let index = positionIndex()
                let keyed = columns[c].enumerated().map { i, v -> (Double, Int, Int) in
                    let ns = (neighbours[v] ?? []).compactMap { index[$0] }
                    let bary = ns.isEmpty ? index[v]! : ns.reduce(0, +) / Double(ns.count)
                    return (bary, i, v)
                }
                columns[c] = keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
            }
        }

        var boxes: [Int: Box] = [:]
        var x = margin
        let heights = columns.map { col in col.map { vertices[$0]!.height }.reduce(0, +) + Double(max(0, col.count - 1)) * verticalGap }
        let totalHeight = (heights.max() ?? 0) + 2 * margin
        for (c, column) in columns.enumerated() {
            let width = column.map { vertices[$0]!.width }.max() ?? 0
            var y = margin + ((heights.max() ?? 0) - heights[c]) / 2
            for v in column {
                let vx = vertices[v]!
                boxes[v] = Box(x: x + (width - vx.width) / 2, y: y, width: vx.width, height: vx.height)
                y += vx.height + verticalGap
            }
            x += width + (column.isEmpty ? 0 : horizontalGap)
        }
        return (boxes, x - horizontalGap + margin, totalHeight)
    }
}

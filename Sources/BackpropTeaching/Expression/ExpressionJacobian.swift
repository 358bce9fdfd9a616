import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
/// The Jacobian of a program's last statement with respect to one of its
/// variables, computed in reverse mode and checked against forward mode.
///
/// ```swift
/// let j = try ExpressionJacobian(program: ExpressionProgram(parsing: "W1@x + W2@x"),
///                                wrt: "x", at: Bindings.parse("W1=[[1,2],[3,4]],W2=[[0,1],[1,0]],x=[1,1]"))
/// j.matrix   // W1 + W2 = [[1, 3], [4, 4]]
/// ```
public struct ExpressionJacobian {
    /// The statement differentiated (its name or text).
    public let outputName: String
    /// The variable differentiated with respect to.
    public let variable: String
    /// The shape of the statement's value.
    public let outputShape: [Int]
    /// The shape of the variable.
    public let inputShape: [Int]
    /// By reverse mode: one backward pass per output element. Shape outputShape + inputShape.
    public let reverse: Tensor<Double>
    /// By forward mode: one Jacobian-vector product per input element.
    public let forward: Tensor<Double>
    /// The largest |reverse - forward| over all entries.
    public let maxDifference: Double

    /// Reverse and forward mode agree within 1e-9 (relative to the entries' size).
    public var modesAgree: Bool {
        let scale = max(1, reverse.scalars.map { Swift.abs($0) }.max() ?? 0)
        return maxDifference <= 1e-9 * scale
    }

    /// The Jacobian flattened to a matrix: rows are output elements, columns input elements.
    public var matrix: Tensor<Double> {
        reverse.reshaped(to: [Shape.count(outputShape), Shape.count(inputShape)])
    }

    /// Evaluates `program` with `values`, then differentiates its last statement
    /// with respect to `wrt` (the other variables held constant).
    public init(program: ExpressionProgram, wrt: String, at values: [(name: String, value: Tensor<Double>)]) throws {
        guard let point = values.first(where: { $0.name == wrt })?.value else {
            let given = values.map(\.name).joined(separator: ", ")
            throw ExpressionError("no variable '\(wrt)' to differentiate with respect to; the variables given values are: \(given.isEmpty ? "none" : given)",
                                  subject: .wrt(wrt))
        }
        let order = values.map(\.name)
        var constants: [String: Tensor<Double>] = [:]
        for (name, value) in values { constants[name] = value }
        // Evaluate once where errors can be thrown; the closures below see the same shapes.
        let output = try ExpressionGraph.evaluate(program, with: constants, order: order)
        let f: (Tensor<Double>) -> Tensor<Double> = { x in
            var env = constants
            env[wrt] = x
            do { return try ExpressionGraph.evaluate(program, with: env, order: order) } catch {
                preconditionFailure("internal: program failed on a second evaluation with the same shapes: \(error)")
            }
        }
        outputName = program.statements.last!.displayName
        variable = wrt
        outputShape = output.shape
        inputShape = point.shape
        reverse = jacobian(of: f, at: point, mode: .reverse)
        forward = jacobian(of: f, at: point, mode: .forward)
        maxDifference = zip(reverse.scalars, forward.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    /// The matrix, aligned, with a line on how it was computed and checked.
    public func report() -> String {
        let rows = Shape.count(outputShape), cols = Shape.count(inputShape)
        let simple = outputName.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        let shown = simple ? outputName : "(\(outputName))"
        var lines = ["J = ∂\(shown)/∂\(variable): output shape \(outputShape), input shape \(inputShape), a \(rows) x \(cols) matrix (row i: ∂\(shown)_i/∂\(variable)_j, elements in row-major order)"]
        let m = matrix.scalars
        let texts = m.map(formatNumber)
        let width = texts.map(\.count).max() ?? 1
        for r in 0..<rows {
            let cells = (0..<cols).map { c -> String in
                let t = texts[r * cols + c]
                return String(repeating: " ", count: width - t.count) + t
            }
            lines.append((r == 0 ? "[[" : " [") + cells.joined(separator: ", ") + (r == rows - 1 ? "]]" : "],"))
        }
        if modesAgree {
            lines.append("reverse mode (\(rows) backward pass\(rows == 1 ? "" : "es"), one per output element) and forward mode (\(cols) Jacobian-vector product\(cols == 1 ? "" : "s"), one per input element) agree: max |difference| = \(formatNumber(maxDifference))")
        } else {
            lines.append("WARNING: reverse mode and forward mode DISAGREE: max |difference| = \(formatNumber(maxDifference)); forward mode gives:")
            lines.append(formatTensor(forward.reshaped(to: [rows, cols])))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

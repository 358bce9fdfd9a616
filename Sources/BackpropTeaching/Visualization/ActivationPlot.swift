import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

// Activations and their first derivatives for `backprop plot`. A derivative
// is never a hand-written formula: it is the library's own op, backpropagated
// (one vjp with a cotangent of ones, which for an elementwise function is
// its derivative at every point).

extension Activation {
    /// Values and first derivatives at `xs`, the derivatives by one backward pass through the op
    /// (a vjp with a cotangent of ones, which for an elementwise function is its derivative at each point).
    ///
    /// ```swift
    /// let (y, dy) = Activation.tanh.valuesAndDerivatives(at: [0, 1])   // dy[0] == 1
    /// ```
    public func valuesAndDerivatives(at xs: [Double]) -> (values: [Double], derivatives: [Double]) {
        precondition(isElementwise, "valuesAndDerivatives: \(name) is not elementwise")
        let x = Tensor<Double>(xs)
        let (y, dy) = vjp(of: { self($0) }, at: x, cotangent: Tensor.ones([xs.count]))
        return (y.scalars, dy.scalars)
    }

    /// Parses a command-line form for a plot: as ``Activation/init(parsing:)``, and refuses the
    /// activations that are not elementwise (softmax, log-softmax), which have no curve.
    ///
    /// ```swift
    /// let curve = try Activation(plotting: "softplus:2")
    /// ```
    public init(plotting text: String) throws {
        let a = try Activation(parsing: text)
        guard a.isElementwise else {
            throw SpecError("", "activation '\(SpecError.clip(text))': \(a.name) is not elementwise (each output depends on every input), so it has no curve to plot")
        }
        self = a
    }
}

extension LinePlot {
    /// Points for a plot: `count` evenly spaced values over `range`, both ends included.
    ///
    /// ```swift
    /// LinePlot.samplePoints(-1...1, count: 5)   // [-1, -0.5, 0, 0.5, 1]
    /// ```
    public static func samplePoints(_ range: ClosedRange<Double>, count: Int) -> [Double] {
        Tensor<Double>.linspace(range.lowerBound, range.upperBound, count: max(2, count)).scalars
    }
}

/// One panel per activation, each with the function and its derivative (dashed).
///
/// ```swift
/// let plot = activationPlot([.relu(), .softplus(beta: 2)], at: LinePlot.samplePoints(-4...4, count: 201))
/// ```
public func activationPlot(_ specs: [Activation], at xs: [Double]) -> LinePlot {
    let panels = specs.map { spec -> LinePlot.Panel in
        let (y, dy) = spec.valuesAndDerivatives(at: xs)
        return LinePlot.Panel(title: spec.description, xLabel: "x", yLabel: "", series: [
            .init(label: "f(x)", points: Array(zip(xs, y)).map { ($0, $1) }, color: LinePlot.palette[0]),
            .init(label: "f′(x), by backprop", points: Array(zip(xs, dy)).map { ($0, $1) }, dashed: true, color: LinePlot.palette[3]),
        ])
    }
    return LinePlot(title: "Activations and their derivatives (by backpropagation)", panels: panels)
}

/// Rows `function,x,value,derivative` (with that header), full precision.
public func activationCSV(_ specs: [Activation], at xs: [Double]) -> String {
    var lines = ["function,x,value,derivative"]
    for spec in specs {
        let (y, dy) = spec.valuesAndDerivatives(at: xs)
        for i in xs.indices { lines.append("\(spec.description),\(csvNumber(xs[i])),\(csvNumber(y[i])),\(csvNumber(dy[i]))") }
    }
    return lines.joined(separator: "\n") + "\n"
}

func csvNumber(_ v: Double) -> String {
    v.isFinite ? JSON.format(v) : (v.isNaN ? "nan" : v > 0 ? "inf" : "-inf")
}

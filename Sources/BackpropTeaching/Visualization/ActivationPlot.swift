import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

// Activations and their first derivatives for `backprop plot`. A derivative
// is never a hand-written formula: it is the library's own op, backpropagated
// (one vjp with a cotangent of ones, which for an elementwise function is
// its derivative at every point).

/// An activation named as on the command line: `relu`, `relu:3` (scale),
/// `leaky_relu:0.1`, `tanh`, `sigmoid`, `softplus:2` (β), `gelu`, `gelu:tanh`,
/// `elu:1` (α), `silu`.
///
/// ```swift
/// let spec = try ActivationSpec(parsing: "leaky_relu:0.1")
/// let (y, dy) = spec.valuesAndDerivatives(at: [-1, 2])   // y = [-0.1, 2], dy = [0.1, 1]
/// ```
public struct ActivationSpec: Sendable, Equatable {
    /// The activation function and its parameter.
    public enum Kind: Sendable, Equatable {
        /// scale · max(x, 0).
        case relu(scale: Double)
        /// max(x, 0) + negativeSlope · min(x, 0).
        case leakyReLU(negativeSlope: Double)
        /// Hyperbolic tangent.
        case tanh
        /// 1 / (1 + e^-x).
        case sigmoid
        /// (1/β) log(1 + e^(βx)).
        case softplus(beta: Double)
        /// x Φ(x), exact or with the tanh approximation.
        case gelu(GELUApproximation)
        /// x for x > 0, α (e^x - 1) otherwise.
        case elu(alpha: Double)
        /// x · sigmoid(x).
        case silu
    }

    /// The text it was parsed from (the name used in legends and CSV rows).
    public let name: String
    /// The parsed activation.
    public let kind: Kind

    /// The accepted forms, for help and error messages.
    public static let forms = ["relu", "relu:SCALE", "leaky_relu", "leaky_relu:SLOPE", "tanh", "sigmoid",
                               "softplus", "softplus:BETA", "gelu", "gelu:tanh", "elu", "elu:ALPHA", "silu"]

    /// Parses one of ``forms``; a parameter defaults to PyTorch's (relu scale 1,
    /// leaky_relu slope 0.01, softplus β 1, elu α 1). Throws an ``ActivationSpecError``
    /// for an unknown name, a parameter that is not a number, a parameter on an
    /// activation that takes none, or a non-positive β.
    ///
    /// ```swift
    /// let spec = try ActivationSpec(parsing: "softplus:2")   // kind == .softplus(beta: 2)
    /// let y = spec.apply(Tensor<Double>([0, 1]))
    /// ```
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let base = parts[0], parameter = parts.count > 1 ? parts[1] : nil
        func number(default value: Double) throws -> Double {
            guard let parameter else { return value }
            guard let v = Double(parameter), v.isFinite else {
                throw ActivationSpecError(message: "activation '\(text)': the parameter '\(parameter)' is not a number")
            }
            return v
        }
        func noParameter() throws {
            if parameter != nil { throw ActivationSpecError(message: "activation '\(text)': \(base) takes no parameter") }
        }
        switch base {
        case "relu": kind = .relu(scale: try number(default: 1))
        case "leaky_relu": kind = .leakyReLU(negativeSlope: try number(default: 0.01))
        case "tanh": try noParameter(); kind = .tanh
        case "sigmoid": try noParameter(); kind = .sigmoid
        case "softplus":
            let beta = try number(default: 1)
            guard beta > 0 else { throw ActivationSpecError(message: "activation '\(text)': β must be positive") }
            kind = .softplus(beta: beta)
        case "gelu":
            switch parameter {
            case nil, "none": kind = .gelu(.none)
            case "tanh": kind = .gelu(.tanh)
            default: throw ActivationSpecError(message: "activation '\(text)': gelu takes 'tanh' or 'none', not '\(parameter!)'")
            }
        case "elu": kind = .elu(alpha: try number(default: 1))
        case "silu": try noParameter(); kind = .silu
        default:
            throw ActivationSpecError(message: "unknown activation '\(text)'; valid names: \(Self.forms.joined(separator: ", "))")
        }
        name = text
    }

    /// The activation applied with the library's op.
    public func apply(_ x: Tensor<Double>) -> Tensor<Double> {
        switch kind {
        case .relu(let scale): return scale == 1 ? relu(x) : relu(x) * scale
        case .leakyReLU(let slope): return leakyReLU(x, negativeSlope: slope)
        case .tanh: return BackpropCore.tanh(x)
        case .sigmoid: return sigmoid(x)
        case .softplus(let beta): return softplus(x, beta: beta)
        case .gelu(let approximation): return gelu(x, approximate: approximation)
        case .elu(let alpha): return elu(x, alpha: alpha)
        case .silu: return silu(x)
        }
    }

    /// Values and first derivatives at `xs`, the derivatives by one backward pass.
    public func valuesAndDerivatives(at xs: [Double]) -> (values: [Double], derivatives: [Double]) {
        let x = Tensor<Double>(xs)
        let (y, dy) = vjp(of: apply, at: x, cotangent: Tensor.ones([xs.count]))
        return (y.scalars, dy.scalars)
    }
}

/// An activation name that is not one of ``ActivationSpec/forms``.
public struct ActivationSpecError: Error, CustomStringConvertible, Sendable {
    /// The whole message, naming the text that was given.
    public let message: String
    /// The message.
    public var description: String { message }
}

/// Points for a plot: `count` evenly spaced values over `range`, both ends included.
public func samplePoints(_ range: ClosedRange<Double>, count: Int) -> [Double] {
    Tensor<Double>.linspace(range.lowerBound, range.upperBound, count: max(2, count)).scalars
}

/// One panel per activation, each with the function and its derivative (dashed).
///
/// ```swift
/// let plot = activationPlot([try ActivationSpec(parsing: "relu")], at: samplePoints(-4...4, count: 201))
/// ```
public func activationPlot(_ specs: [ActivationSpec], at xs: [Double]) -> LinePlot {
    let panels = specs.map { spec -> LinePlot.Panel in
        let (y, dy) = spec.valuesAndDerivatives(at: xs)
        return LinePlot.Panel(title: spec.name, xLabel: "x", yLabel: "", series: [
            .init(label: "f(x)", points: Array(zip(xs, y)).map { ($0, $1) }, color: LinePlot.palette[0]),
            .init(label: "f′(x), by backprop", points: Array(zip(xs, dy)).map { ($0, $1) }, dashed: true, color: LinePlot.palette[3]),
        ])
    }
    return LinePlot(title: "Activations and their derivatives (by backpropagation)", panels: panels)
}

/// Rows `function,x,value,derivative` (with that header), full precision.
public func activationCSV(_ specs: [ActivationSpec], at xs: [Double]) -> String {
    var lines = ["function,x,value,derivative"]
    for spec in specs {
        let (y, dy) = spec.valuesAndDerivatives(at: xs)
        for i in xs.indices { lines.append("\(spec.name),\(csvNumber(xs[i])),\(csvNumber(y[i])),\(csvNumber(dy[i]))") }
    }
    return lines.joined(separator: "\n") + "\n"
}

func csvNumber(_ v: Double) -> String {
    v.isFinite ? JSON.format(v) : (v.isNaN ? "nan" : v > 0 ? "inf" : "-inf")
}

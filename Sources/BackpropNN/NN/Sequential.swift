import BackpropCore
/// Layers applied one after another. Parameters are named by layer index, as
/// in PyTorch: `0.weight`, `0.bias`, `2.weight`, ...
///
/// ```swift
/// let model = Sequential<Float>(Linear(2, 8), ReLU(), Linear(8, 1))
/// let same = Sequential<Float> {
///     Linear(2, 8)
///     ReLU()
///     Linear(8, 1)
/// }
/// model.namedParameters().map(\.name)   // ["0.weight", "0.bias", "2.weight", "2.bias"]
/// ```
public final class Sequential<Scalar: TensorScalar>: Module {
    /// The layers, in order.
    public private(set) var layers: [any Module<Scalar>] { didSet { steps = Self.steps(layers) } }
    public var isTraining = true
    /// What `callAsFunction` runs: the layers, with each `Linear` that a
    /// `ReLU` of scale >= 1 follows run together with it as one node.
    private var steps: [Step]

    private enum Step {
        case layer(any Module<Scalar>)
        case linearReLU(Linear<Scalar>, ReLU<Scalar>)
    }

    /// A network of the given layers.
    public init(_ layers: [any Module<Scalar>]) {
        self.layers = layers
        steps = Self.steps(layers)
    }

    private static func steps(_ layers: [any Module<Scalar>]) -> [Step] {
        var steps: [Step] = []
        var i = 0
        while i < layers.count {
            if i + 1 < layers.count, let linear = layers[i] as? Linear<Scalar>, let relu = layers[i + 1] as? ReLU<Scalar>,
               relu.scale >= 1, relu.scale.isFinite {
                steps.append(.linearReLU(linear, relu))
                i += 2
            } else {
                steps.append(.layer(layers[i]))
                i += 1
            }
        }
        return steps
    }

    /// A network of the given layers.
    public convenience init(_ layers: any Module<Scalar>...) { self.init(layers) }

    /// A network built by listing layers, one a line.
    public convenience init(@ModuleBuilder<Scalar> _ build: () -> [any Module<Scalar>]) { self.init(build()) }

    /// Adds a layer at the end.
    public func append(_ layer: any Module<Scalar>) { layers.append(layer) }

    /// The number of layers.
    public var count: Int { layers.count }

    /// The layer at `index`.
    public subscript(index: Int) -> any Module<Scalar> { layers[index] }

    /// Applies each layer in turn to `x`. A `Linear` followed by a `ReLU` runs
    /// as one node (`linear_relu`), whose matrix product adds the bias and
    /// applies the ReLU as it stores its result: the values and gradients are
    /// those of the two layers one after the other.
    ///
    /// ```swift
    /// let model = Sequential<Float>(Linear(2, 8), ReLU(), Linear(8, 1))
    /// let y = model(Tensor<Float>([[0.5, -1]]))   // shape [1, 1]
    /// ```
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        var y = x
        for step in steps {
            switch step {
            case let .layer(layer):
                y = layer(y)
            case let .linearReLU(linear, relu):
                y = y.rank <= 2 ? Tensor.affineReLU(y, weight: linear.weight, bias: linear.bias, scale: relu.scale)
                                : relu(linear(y))
            }
        }
        return y
    }

    /// The layers named by their index: "0", "1", ...
    public func namedChildren() -> [(name: String, module: any Module<Scalar>)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }
}

/// Builds a list of layers from statements, for ``Sequential/init(_:)-(()->[any Module<Scalar>])``.
/// Supports `if`, `if`/`else` and `for` loops.
@resultBuilder
public enum ModuleBuilder<Scalar: TensorScalar> {
    /// One layer.
    public static func buildExpression(_ layer: any Module<Scalar>) -> [any Module<Scalar>] { [layer] }
    /// An array of layers, spliced in order.
    public static func buildExpression(_ layers: [any Module<Scalar>]) -> [any Module<Scalar>] { layers }
    /// The layers of consecutive statements, in order.
    public static func buildBlock(_ parts: [any Module<Scalar>]...) -> [any Module<Scalar>] { parts.flatMap { $0 } }
    /// The layers of an `if` without `else`; none when the condition is false.
    public static func buildOptional(_ part: [any Module<Scalar>]?) -> [any Module<Scalar>] { part ?? [] }
    /// The layers of the `if` branch.
    public static func buildEither(first part: [any Module<Scalar>]) -> [any Module<Scalar>] { part }
    /// The layers of the `else` branch.
    public static func buildEither(second part: [any Module<Scalar>]) -> [any Module<Scalar>] { part }
    /// The layers of every iteration of a `for` loop, in order.
    public static func buildArray(_ parts: [[any Module<Scalar>]]) -> [any Module<Scalar>] { parts.flatMap { $0 } }
}

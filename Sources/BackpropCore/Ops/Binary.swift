// Binary elementwise ops with NumPy broadcasting. Each op's derivative is
// the `vjp` next to its forward call; a gradient of a broadcast operand is
// summed back to the operand's shape with `sum(toShape:)`.

extension Tensor {
    static func binary(_ name: String, _ op: BinaryOp, _ a: Tensor, _ b: Tensor,
                       vjp: VJP<Scalar>? = nil) -> Tensor {
        let outShape = ShapeRule.check { try ShapeRule.broadcast(name, a.shape, b.shape) }
        let storage = TensorStorage<Scalar>.make(uninitializedCount: Shape.count(outShape))
        Kernels.broadcastBinary(op, a.base, a.shape, b.base, b.shape, storage.base, outShape)
        guard let vjp else { return Tensor(storage: storage, shape: outShape) }
        return record(name, [a, b], storage, shape: outShape, vjp: vjp)
    }

    /// Elementwise sum with broadcasting.
    ///
    /// ```swift
    /// let y = x + b   // [batch, n] + [n]
    /// ```
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        binary("add", .add, lhs, rhs) { g, x, _ in
            [g.sum(toShape: x[0].shape), g.sum(toShape: x[1].shape)]
        }
    }

    /// Elementwise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        binary("sub", .sub, lhs, rhs) { g, x, _ in
            [g.sum(toShape: x[0].shape), x[1].requiresGrad ? (-g).sum(toShape: x[1].shape) : nil]
        }
    }

    /// Elementwise product with broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        binary("mul", .mul, lhs, rhs) { g, x, _ in
            [x[0].requiresGrad ? (g * x[1]).sum(toShape: x[0].shape) : nil,
             x[1].requiresGrad ? (g * x[0]).sum(toShape: x[1].shape) : nil]
        }
    }

    /// Elementwise quotient with broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        binary("div", .div, lhs, rhs) { g, x, y in
            [x[0].requiresGrad ? (g / x[1]).sum(toShape: x[0].shape) : nil,
             x[1].requiresGrad ? (-g * y / x[1]).sum(toShape: x[1].shape) : nil]
        }
    }

    /// Elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor { x.unary("neg", .neg) { g, _, _ in [-g] } }

    /// Adds a scalar to every element.
    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
    /// Adds a scalar to every element.
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    /// Subtracts a scalar from every element.
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
    /// Subtracts every element from a scalar.
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    /// Divides every element by a scalar.
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
    /// Divides a scalar by every element.
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }

    /// `lhs = lhs + rhs`: a new node in the graph, not an in-place update of shared storage.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    /// `lhs = lhs - rhs`: a new node in the graph, not an in-place update of shared storage.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    /// `lhs = lhs * rhs`: a new node in the graph, not an in-place update of shared storage.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    /// `lhs = lhs / rhs`: a new node in the graph, not an in-place update of shared storage.
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
}

/// `base` raised to `exponent`, elementwise with broadcasting.
///
/// d/da a^b = b a^(b-1);  d/db a^b = a^b log a
///
/// ```swift
/// let y = pow(x, Tensor<Float>(3))
/// ```
public func pow<S: TensorScalar>(_ base: Tensor<S>, _ exponent: Tensor<S>) -> Tensor<S> {
    Tensor.binary("pow", .pow, base, exponent) { g, x, y in
        [x[0].requiresGrad ? (g * x[1] * pow(x[0], x[1] - 1)).sum(toShape: x[0].shape) : nil,
         x[1].requiresGrad ? (g * y * log(x[0])).sum(toShape: x[1].shape) : nil]
    }
}

/// `base` raised to a constant power: d/dx x^p = p x^(p-1).
///
/// ```swift
/// let y = pow(x, 2)
/// ```
public func pow<S: TensorScalar>(_ base: Tensor<S>, _ exponent: S) -> Tensor<S> {
    base.unary("pow", .powScalar(Double(exponent))) { g, x, _ in
        exponent == 0 ? [g * 0] : [g * exponent * pow(x[0], exponent - 1)]
    }
}

/// The larger of two tensors, elementwise with broadcasting. At a tie the
/// gradient is split evenly, as PyTorch does.
public func maximum<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    Tensor.binary("maximum", .maximum, a, b) { g, x, _ in
        let wins = x[0] .> x[1], ties = x[0] .== x[1]
        let shareA = wins + ties * 0.5
        return [x[0].requiresGrad ? (g * shareA).sum(toShape: x[0].shape) : nil,
                x[1].requiresGrad ? (g * (1 - shareA)).sum(toShape: x[1].shape) : nil]
    }
}

/// The smaller of two tensors, elementwise with broadcasting.
public func minimum<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    Tensor.binary("minimum", .minimum, a, b) { g, x, _ in
        let wins = x[0] .< x[1], ties = x[0] .== x[1]
        let shareA = wins + ties * 0.5
        return [x[0].requiresGrad ? (g * shareA).sum(toShape: x[0].shape) : nil,
                x[1].requiresGrad ? (g * (1 - shareA)).sum(toShape: x[1].shape) : nil]
    }
}

// MARK: - Comparisons: masks of 0 and 1, never differentiated.

infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence

extension Tensor {
    /// 1 where `lhs < rhs`, else 0 (with broadcasting). Comparison masks
    /// never carry a gradient.
    ///
    /// ```swift
    /// let mask = x .< 0   // 1 where x is negative
    /// ```
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { binary("lt", .less, lhs, rhs) }
    /// 1 where `lhs <= rhs`, else 0 (with broadcasting).
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { binary("le", .lessEqual, lhs, rhs) }
    /// 1 where `lhs > rhs`, else 0 (with broadcasting).
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { binary("gt", .greater, lhs, rhs) }
    /// 1 where `lhs >= rhs`, else 0 (with broadcasting).
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { binary("ge", .greaterEqual, lhs, rhs) }
    /// 1 where `lhs == rhs`, else 0 (with broadcasting).
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { binary("eq", .equal, lhs, rhs) }
    /// 1 where `lhs != rhs`, else 0 (with broadcasting).
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { binary("ne", .notEqual, lhs, rhs) }
    /// 1 where an element is less than `rhs`, else 0.
    public static func .< (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .< Tensor(rhs) }
    /// 1 where an element is at most `rhs`, else 0.
    public static func .<= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .<= Tensor(rhs) }
    /// 1 where an element is greater than `rhs`, else 0.
    public static func .> (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .> Tensor(rhs) }
    /// 1 where an element is at least `rhs`, else 0.
    public static func .>= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .>= Tensor(rhs) }
    /// 1 where an element equals `rhs`, else 0.
    public static func .== (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .== Tensor(rhs) }
    /// 1 where an element differs from `rhs`, else 0.
    public static func .!= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs .!= Tensor(rhs) }
}


/// `a` where `condition` is nonzero, else `b`, with broadcasting of all three
/// (`torch.where`). The gradient goes to `a` where the condition holds and to
/// `b` elsewhere; the condition gets none.
///
/// ```swift
/// let y = `where`(x .> 0, x, x * 0.1)   // leaky ReLU by hand
/// ```
public func `where`<S: TensorScalar>(_ condition: Tensor<S>, _ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    guard let ab = Shape.broadcast(a.shape, b.shape), let shape = Shape.broadcast(condition.shape, ab) else {
        preconditionFailure("where: shapes \(condition.shape), \(a.shape) and \(b.shape) cannot be broadcast together")
    }
    let c = noGrad { condition.expanded(to: shape) }
    let (ae, be) = (a.expanded(to: shape), b.expanded(to: shape))
    let storage = TensorStorage<S>.make(uninitializedCount: Shape.count(shape))
    Kernels.select(c.base, ae.base, be.base, storage.base, storage.count)
    return Tensor.record("where", [ae, be], storage, shape: shape) { g, x, _ in
        let mask = c .!= 0
        return [x[0].requiresGrad ? g * mask : nil, x[1].requiresGrad ? g * (1 - mask) : nil]
    }
}

extension Kernels {
    /// out[i] = c[i] != 0 ? a[i] : b[i].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func select<S: TensorScalar>(_ c: UnsafePointer<S>, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                        _ out: UnsafeMutablePointer<S>, _ n: Int) {
        for i in 0..<n { out[i] = c[i] != 0 ? a[i] : b[i] }
    }
}

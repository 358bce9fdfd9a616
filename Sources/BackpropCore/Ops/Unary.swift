import RealModule

// Unary elementwise ops. Each derivative is the `vjp` written next to its
// forward call, in Tensor ops so that it can be differentiated again.

extension Tensor {
    func unary(_ name: String, _ op: UnaryOp, vjp: @escaping VJP<Scalar>) -> Tensor {
        let storage = TensorStorage<Scalar>.make(uninitializedCount: count)
        if count >= 1 << 20, Parallelism.threadCount > 1 {
            // A large activation (a conv layer's output) is a memory-bound pass: split over the threads.
            let (x, y) = (base, storage.base)
            parallelChunks(count, minChunk: 1 << 16) { Kernels.unary(op, x + $0.lowerBound, y + $0.lowerBound, $0.count) }
        } else {
            Kernels.unary(op, base, storage.base, count)
        }
        return Tensor.record(name, [self], storage, shape: shape, vjp: vjp)
    }

    /// Applies an elementwise function without recording a graph (masks, signs).
    func mapped(_ op: UnaryOp) -> Tensor {
        let storage = TensorStorage<Scalar>.make(uninitializedCount: count)
        Kernels.unary(op, base, storage.base, count)
        return Tensor(storage: storage, shape: shape)
    }

    /// self · `scale`·1[x > 0], the vjp of a (scaled) ReLU: one pass when no
    /// graph is being recorded, else the recorded product with the mask.
    func timesPositiveIndicator(of x: Tensor, scale: Double) -> Tensor {
        if GradMode.isEnabled || shape != x.shape { return self * x.mapped(.positiveIndicator(scale)) }
        let storage = TensorStorage<Scalar>.make(uninitializedCount: count)
        Kernels.timesPositiveIndicator(base, x.base, scale: Scalar(scale), storage.base, count)
        return Tensor(storage: storage, shape: shape)
    }

    /// x², elementwise: d/dx = 2x.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squared() -> Tensor { unary("square", .square) { g, x, _ in [g * x[0] * 2] } }
}

/// e^x, elementwise: d/dx e^x = e^x.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func exp<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("exp", .exp) { g, _, y in [g * y] }
}

/// The natural logarithm, elementwise: d/dx log x = 1/x.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func log<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("log", .log) { g, x, _ in [g / x[0]] }
}

/// The square root, elementwise: d/dx √x = 1 / (2√x).
public func sqrt<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("sqrt", .sqrt) { g, _, y in [g / (y * 2)] }
}

/// |x|, elementwise; the derivative at 0 is 0, as in PyTorch.
public func abs<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("abs", .abs) { g, x, _ in [g * x[0].mapped(.sign)] }
}

/// The sign (-1, 0 or 1), elementwise; its derivative is 0 everywhere.
public func sign<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("sign", .sign) { g, _, _ in [g * 0] }
}

/// The hyperbolic tangent, elementwise.
///
///            sinh(x)                        d
/// tanh(x) = ---------,                     -- tanh(x) = 1 - tanh²(x)
///            cosh(x)                       dx
@_specialize(where S == Float)
@_specialize(where S == Double)
public func tanh<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("tanh", .tanh) { g, _, y in [g * (1 - y * y)] }
}

/// The logistic sigmoid σ(x) = 1 / (1 + e^-x), elementwise: σ' = σ (1 - σ).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func sigmoid<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("sigmoid", .sigmoid) { g, _, y in [g * y * (1 - y)] }
}

/// max(x, 0), elementwise. Its derivative is 1[x > 0]: 0 at exactly 0, as in
/// PyTorch (the homework writes >= 0; this library follows PyTorch).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func relu<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("relu", .relu) { g, x, _ in [g.timesPositiveIndicator(of: x[0], scale: 1)] }
}

/// The homework's scaled ReLU, `scale` · max(x, 0) ("3 ReLU" for scale 3), as one
/// node: d/dx = `scale` · 1[x > 0].
///
/// ```swift
/// relu(Tensor<Float>([-4, 10, 5]), scale: 3)   // [0, 30, 15]
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func relu<S: TensorScalar>(_ x: Tensor<S>, scale: S) -> Tensor<S> {
    x.unary("relu", .scaledRelu(Double(scale))) { g, x, _ in [g.timesPositiveIndicator(of: x[0], scale: Double(scale))] }
}

/// The sine, elementwise: d/dx sin x = cos x.
public func sin<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("sin", .sin) { g, x, _ in [g * cos(x[0])] }
}

/// The cosine, elementwise: d/dx cos x = -sin x.
public func cos<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("cos", .cos) { g, x, _ in [-g * sin(x[0])] }
}

/// The error function, elementwise: d/dx erf x = (2/√π) e^(-x²).
public func erf<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    x.unary("erf", .erf) { g, x, _ in [g * (2 / S.sqrt(.pi)) * exp(-x[0].squared())] }
}

/// log(1 + e^(βx)) / β, elementwise, and x itself where βx > threshold, as
/// PyTorch's `softplus`. Its derivative is σ(βx) (1 above the threshold).
public func softplus<S: TensorScalar>(_ x: Tensor<S>, beta: S = 1, threshold: S = 20) -> Tensor<S> {
    x.unary("softplus", .softplus(beta: Double(beta), threshold: Double(threshold))) { g, x, _ in
        let above = (x[0] * beta) .> threshold
        return [g * (above + (1 - above) * sigmoid(x[0] * beta))]
    }
}

/// Limits each element to `min...max`. The derivative is 1 inside the range
/// (bounds included) and 0 outside, as in PyTorch.
public func clamp<S: TensorScalar>(_ x: Tensor<S>, min lo: S = -.infinity, max hi: S = .infinity) -> Tensor<S> {
    precondition(!(lo > hi), "clamp: min \(lo) is greater than max \(hi)")
    return x.unary("clamp", .clamp(Double(lo), Double(hi))) { g, x, _ in
        [g * (x[0] .>= lo) * (x[0] .<= hi)]
    }
}

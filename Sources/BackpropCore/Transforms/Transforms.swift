// Function transforms in the style of JAX and torch.func, built on the
// backward engine. Forward mode is the transpose of reverse mode: because
// every vjp is written in Tensor ops and is linear in its cotangent u,
// J v = d/du <uᵀJ, v>, a second reverse pass through the recorded first one.

/// A fresh leaf with the values of `x`, requiring a gradient.
private func variable<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    Tensor(storage: x.handle.storage, shape: x.shape).requiringGrad()
}

/// The gradient of a scalar function at `x`, in `x`'s shape.
///
/// ```swift
/// let g = gradient(of: { x in (x * x).sum() }, at: Tensor<Double>([1, 2, 3]))   // [2, 4, 6]
/// ```
public func gradient<S: TensorScalar>(of f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>) -> Tensor<S> {
    valueWithGradient(of: f, at: x).gradient
}

/// The value of a scalar function and its gradient at `x`.
public func valueWithGradient<S: TensorScalar>(of f: (Tensor<S>) -> Tensor<S>,
                                               at x: Tensor<S>) -> (value: Tensor<S>, gradient: Tensor<S>) {
    enableGrad {
        let v = variable(x)
        let y = f(v)
        precondition(y.count == 1, "gradient: the function returned shape \(y.shape); it must return a scalar (use vjp or jacobian)")
        return (y.detached(), gradients(of: y, wrt: [v])[0])
    }
}

/// The gradients of a scalar function of several tensors, one per argument.
///
/// ```swift
/// let (gw, gb) = { let g = gradient(of: { p in (p[0] * 2 + p[1]).sum() }, at: [w, b]); return (g[0], g[1]) }()
/// ```
public func gradient<S: TensorScalar>(of f: ([Tensor<S>]) -> Tensor<S>, at xs: [Tensor<S>]) -> [Tensor<S>] {
    enableGrad {
        let vs = xs.map(variable)
        let y = f(vs)
        precondition(y.count == 1, "gradient: the function returned shape \(y.shape); it must return a scalar")
        return gradients(of: y, wrt: vs)
    }
}

/// The value of `f` at `x` and the vector-Jacobian product uᵀ J.
///
/// ```swift
/// let (y, vjp) = vjp(of: { $0 * 3 }, at: x, cotangent: Tensor.ones(like: x))
/// ```
public func vjp<S: TensorScalar>(of f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>,
                                 cotangent u: Tensor<S>) -> (value: Tensor<S>, vjp: Tensor<S>) {
    enableGrad {
        let v = variable(x)
        let y = f(v)
        precondition(u.shape == y.shape, "vjp: cotangent shape \(u.shape) does not match output shape \(y.shape)")
        return (y.detached(), gradients(of: y, wrt: [v], seed: u)[0])
    }
}

/// The value of `f` at `x` and the Jacobian-vector product J v (forward mode).
///
/// ```swift
/// let (y, dy) = jvp(of: { tanh($0) }, at: x, tangent: Tensor.ones(like: x))
/// ```
public func jvp<S: TensorScalar>(of f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>,
                                 tangent t: Tensor<S>) -> (value: Tensor<S>, jvp: Tensor<S>) {
    precondition(t.shape == x.shape, "jvp: tangent shape \(t.shape) does not match input shape \(x.shape)")
    return enableGrad {
        let v = variable(x)
        let y = f(v)
        let u = Tensor<S>.zeros(y.shape).requiringGrad()
        let uJ = gradients(of: y, wrt: [v], seed: u, createGraph: true)[0]
        return (y.detached(), gradients(of: uJ, wrt: [u], seed: t)[0])
    }
}

/// How ``jacobian(of:at:mode:)`` computes: one reverse pass per output
/// element, or one forward (jvp) pass per input element.
public enum DifferentiationMode: String, Sendable, CaseIterable {
    /// `reverse`: one vjp per output element; `forward`: one jvp per input element.
    case reverse, forward
}

/// The Jacobian of `f` at `x`, of shape `f(x).shape + x.shape`
/// (`torch.func.jacrev` / `jacfwd`).
///
/// ```swift
/// let J = jacobian(of: { matmul(w, $0) }, at: x)   // equals w
/// ```
public func jacobian<S: TensorScalar>(of f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>,
                                      mode: DifferentiationMode = .reverse) -> Tensor<S> {
    enableGrad {
        let v = variable(x)
        let y = f(v)
        let rows: [Tensor<S>]
        switch mode {
        case .reverse:
            rows = (0..<y.count).map { i in
                gradients(of: y, wrt: [v], seed: oneHot(i, y.shape), retainGraph: true)[0]
            }
            return stack(rows, itemShape: x.shape).reshaped(to: y.shape + x.shape).detached()
        case .forward:
            let u = Tensor<S>.zeros(y.shape).requiringGrad()
            let uJ = gradients(of: y, wrt: [v], seed: u, createGraph: true)[0]
            let columns = (0..<x.count).map { j in
                uJ.requiresGrad ? gradients(of: uJ, wrt: [u], seed: oneHot(j, x.shape), retainGraph: true)[0]
                                : Tensor.zeros(y.shape)
            }
            let flat = stack(columns, itemShape: y.shape).reshaped(to: [x.count, y.count]).transposed()
            return flat.reshaped(to: y.shape + x.shape).detached()
        }
    }
}

/// The Hessian of a scalar function at `x`, of shape `x.shape + x.shape`:
/// reverse mode over reverse mode.
///
/// ```swift
/// let H = hessian(of: { x in (x * matmul(a, x)).sum() }, at: x)   // a + aᵀ
/// ```
public func hessian<S: TensorScalar>(of f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>) -> Tensor<S> {
    enableGrad {
        let v = variable(x)
        let y = f(v)
        precondition(y.count == 1, "hessian: the function returned shape \(y.shape); it must return a scalar")
        let g = gradients(of: y, wrt: [v], createGraph: true)[0]
        let rows = (0..<x.count).map { i in
            g.requiresGrad ? gradients(of: g, wrt: [v], seed: oneHot(i, x.shape), retainGraph: true)[0] : Tensor.zeros(x.shape)
        }
        return stack(rows, itemShape: x.shape).reshaped(to: x.shape + x.shape).detached()
    }
}

func oneHot<S: TensorScalar>(_ i: Int, _ shape: [Int]) -> Tensor<S> {
    let t = Tensor<S>.zeros(shape)
    t.base[i] = 1
    return t
}

private func stack<S: TensorScalar>(_ items: [Tensor<S>], itemShape: [Int]) -> Tensor<S> {
    items.isEmpty ? Tensor.zeros([0] + itemShape) : noGrad { Tensor.stacked(items) }
}

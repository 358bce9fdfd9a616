import BackpropCore
// Loss functions, composed from core ops: none has gradient code of its own,
// so every gradient here is the chain rule through the ops' vjps (and can be
// differentiated again). Numbers and conventions follow PyTorch's
// `torch.nn.functional` (checked against PyTorch fixtures in the tests).
//
// A shape mismatch between input and target is a programmer's mistake and
// stops with a message naming the loss and both shapes. Unlike PyTorch, no
// loss broadcasts a target silently.

/// How a loss turns its per-element (or per-sample) values into the result.
///
/// ```swift
/// mseLoss(yHat, y, reduction: .sum)    // the homework's ||y~ - y||² for one point
/// mseLoss(yHat, y, reduction: .none)   // one value per element
/// ```
public enum LossReduction: String, Sendable, CaseIterable {
    /// The average over every element (or sample, for cross-entropy and NLL).
    case mean
    /// The sum.
    case sum
    /// No reduction: the unreduced values, in the input's shape.
    case none
}

extension Tensor {
    /// Applies a ``LossReduction`` to per-element losses.
    package func lossReduced(_ reduction: LossReduction) -> Tensor {
        switch reduction {
        case .mean: return mean()
        case .sum: return sum()
        case .none: return self
        }
    }
}

@inline(__always)
private func checkSameShape<S>(_ op: String, _ input: Tensor<S>, _ target: Tensor<S>) {
    precondition(input.shape == target.shape,
                 "\(op): input shape \(input.shape) and target shape \(target.shape) differ")
}

// MARK: - Regression losses

/// Mean squared error, (o - y)² per element (`torch.nn.functional.mse_loss`).
///
/// The homework's cost ||y~ - y||² for one point is `reduction: .sum`; its
/// gradient is 2 (y~ - y).
///
/// ```swift
/// let loss = mseLoss(model(x), y, reduction: .sum)
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func mseLoss<S: TensorScalar>(_ input: Tensor<S>, _ target: Tensor<S>,
                                     reduction: LossReduction = .mean) -> Tensor<S> {
    checkSameShape("mseLoss", input, target)
    if reduction == .none { return (input - target).squared() }
    return Tensor.squaredError(input, target, mean: reduction == .mean)
}

/// The lab's L2 loss, ½ (o - y)² per element, summed by default:
///
///   L = ½ ||o - y||²,   dL/do = o - y
///
/// ```swift
/// halfL2Loss(Tensor<Double>([10, 5]), Tensor([11, 5]))   // 0.5, gradient (-1, 0)
/// ```
public func halfL2Loss<S: TensorScalar>(_ input: Tensor<S>, _ target: Tensor<S>,
                                        reduction: LossReduction = .sum) -> Tensor<S> {
    checkSameShape("halfL2Loss", input, target)
    return ((input - target).squared() * 0.5).lossReduced(reduction)
}

/// Mean absolute error, |o - y| per element (`l1_loss`). The derivative at
/// o = y is 0, as in PyTorch.
///
/// ```swift
/// l1Loss(prediction, target)
/// ```
public func l1Loss<S: TensorScalar>(_ input: Tensor<S>, _ target: Tensor<S>,
                                    reduction: LossReduction = .mean) -> Tensor<S> {
    checkSameShape("l1Loss", input, target)
    return abs(input - target).lossReduced(reduction)
}

/// The Huber loss of PyTorch's `huber_loss`, with d = o - y:
///
///            ⎧ ½ d²               if |d| < δ
///   ℓ(d) =  ⎨
///            ⎩ δ (|d| - ½ δ)      otherwise
///
/// Its derivative is d inside and δ sign(d) outside: quadratic near the
/// target, linear (robust to outliers) far from it.
///
/// ```swift
/// huberLoss(prediction, target, delta: 1)
/// ```
public func huberLoss<S: TensorScalar>(_ input: Tensor<S>, _ target: Tensor<S>, delta: S = 1,
                                       reduction: LossReduction = .mean) -> Tensor<S> {
    checkSameShape("huberLoss", input, target)
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let d = input - target
    let a = abs(d)
    let inside = a .< delta   // a mask: no gradient flows through it
    return (inside * d.squared() * 0.5 + (1 - inside) * (a - delta * 0.5) * delta).lossReduced(reduction)
}

/// The smooth L1 loss of PyTorch's `smooth_l1_loss`, with d = o - y:
///
///            ⎧ ½ d² / β           if |d| < β
///   ℓ(d) =  ⎨
///            ⎩ |d| - ½ β          otherwise
///
/// It is ``huberLoss(_:_:delta:reduction:)`` divided by β; β = 0 is
/// ``l1Loss(_:_:reduction:)``.
///
/// ```swift
/// smoothL1Loss(prediction, target, beta: 0.5)
/// ```
public func smoothL1Loss<S: TensorScalar>(_ input: Tensor<S>, _ target: Tensor<S>, beta: S = 1,
                                          reduction: LossReduction = .mean) -> Tensor<S> {
    checkSameShape("smoothL1Loss", input, target)
    precondition(beta >= 0, "smoothL1Loss: beta must not be negative, got \(beta)")
    if beta == 0 { return l1Loss(input, target, reduction: reduction) }
    let d = input - target
    let a = abs(d)
    let inside = a .< beta
    return (inside * d.squared() * (0.5 / beta) + (1 - inside) * (a - beta * 0.5)).lossReduced(reduction)
}

// MARK: - Binary classification

/// Binary cross-entropy on probabilities p in [0, 1] (`binary_cross_entropy`):
///
///   ℓ = -[y log p + (1 - y) log(1 - p)]
///
/// Each log is clamped below at -100, as PyTorch does, so p = 0 or 1 gives a
/// finite loss. The gradient is (p - y) / (p (1 - p)); where a log is
/// clamped its contribution is 0 (PyTorch instead divides by
/// max(p (1 - p), 1e-12) there). the homework's BCE cost (1/K) Σ ... is
/// `reduction: .mean` over the K outputs.
///
/// ```swift
/// binaryCrossEntropy(sigmoid(s2), y)
/// ```
public func binaryCrossEntropy<S: TensorScalar>(_ probabilities: Tensor<S>, _ target: Tensor<S>,
                                                reduction: LossReduction = .mean) -> Tensor<S> {
    checkSameShape("binaryCrossEntropy", probabilities, target)
    // Clamping the argument at the smallest positive number first keeps log
    // away from -inf (whose gradient would be 0 / 0 = NaN); the clamp of the
    // log then gives PyTorch's -100 exactly, in Float as in Double.
    func clampedLog(_ t: Tensor<S>) -> Tensor<S> {
        clamp(log(clamp(t, min: S.leastNonzeroMagnitude)), min: -100)
    }
    let p = probabilities, y = target
    return (-(y * clampedLog(p) + (1 - y) * clampedLog(1 - p))).lossReduced(reduction)
}

/// Binary cross-entropy on logits x, with σ folded in
/// (`binary_cross_entropy_with_logits`), in its numerically stable form:
///
///   ℓ = max(x, 0) - x y + log(1 + e^(-|x|))
///
/// equal to -[y log σ(x) + (1 - y) log(1 - σ(x))] but with no overflow for
/// large |x|. The gradient is σ(x) - y (at x = 0 too: `maximum`'s even
/// split at the tie supplies the ½).
///
/// ```swift
/// binaryCrossEntropyWithLogits(s2, y)
/// ```
public func binaryCrossEntropyWithLogits<S: TensorScalar>(_ logits: Tensor<S>, _ target: Tensor<S>,
                                                          reduction: LossReduction = .mean) -> Tensor<S> {
    checkSameShape("binaryCrossEntropyWithLogits", logits, target)
    let x = logits
    // softplus(-|x|) = log(1 + e^(-|x|)), computed with log1p; -|x| <= 0 never
    // reaches softplus's linear threshold.
    return (maximum(x, Tensor(0)) - x * target + softplus(-abs(x))).lossReduced(reduction)
}

// MARK: - Multi-class classification

/// Checks logits of shape [C] (one point) or [N, C] against N class indices.
private func checkClassIndices<S>(_ op: String, _ logits: Tensor<S>, _ classIndices: [Int]) {
    precondition(logits.rank == 1 || logits.rank == 2,
                 "\(op): input must have shape [C] or [N, C], got \(logits.shape)")
    let rows = logits.rank == 1 ? 1 : logits.shape[0]
    let classes = logits.shape[logits.rank - 1]
    precondition(classIndices.count == rows,
                 "\(op): input shape \(logits.shape) needs \(rows) class indices, got \(classIndices.count)")
    for (k, c) in classIndices.enumerated() where !(0..<classes).contains(c) {
        preconditionFailure("\(op): class index \(c) at position \(k) is out of range 0..<\(classes) for input shape \(logits.shape)")
    }
}

/// Cross-entropy from logits and class indices (`cross_entropy`):
///
///   ℓ_n = -log softmax(v_n)[c_n] = -v_n[c_n] + log Σ_j exp(v_n[j])
///
/// through a stable log-softmax. `.mean` averages over the N points of the
/// batch (PyTorch's convention), not over classes. Logits may be [N, C] or a
/// single point [C] with one index. The gradient is softmax(v) - onehot(c)
/// (divided by N for `.mean`): the lab's dJ/dv = o - y.
///
/// ```swift
/// crossEntropy(Tensor<Double>([10, 5]), classIndices: [0])   // 0.0067153
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func crossEntropy<S: TensorScalar>(_ logits: Tensor<S>, classIndices: [Int],
                                          reduction: LossReduction = .mean) -> Tensor<S> {
    checkClassIndices("crossEntropy", logits, classIndices)
    if reduction == .none { return -logSoftmax(logits, axis: -1).gathered(classIndices: classIndices) }
    return Tensor.crossEntropyIndices(logits, classIndices, mean: reduction == .mean)
}

/// Cross-entropy from logits and target class probabilities (soft labels),
/// as PyTorch's `cross_entropy` with a probability target:
///
///   ℓ_n = -Σ_j y_n[j] log softmax(v_n)[j]
///
/// `.mean` averages over the N points of the batch.
///
/// ```swift
/// crossEntropy(Tensor<Double>([10, 5]), probabilities: Tensor([1, 0]))   // 0.0067153
/// ```
public func crossEntropy<S: TensorScalar>(_ logits: Tensor<S>, probabilities: Tensor<S>,
                                          reduction: LossReduction = .mean) -> Tensor<S> {
    precondition(logits.rank == 1 || logits.rank == 2,
                 "crossEntropy: input must have shape [C] or [N, C], got \(logits.shape)")
    precondition(logits.shape == probabilities.shape,
                 "crossEntropy: input shape \(logits.shape) and target probabilities shape \(probabilities.shape) differ")
    return (-(probabilities * logSoftmax(logits, axis: -1)).sum(axis: -1)).lossReduced(reduction)
}

/// Negative log-likelihood from log-probabilities and class indices
/// (`nll_loss`): ℓ_n = -logp_n[c_n]. `crossEntropy` is `nllLoss` after
/// `logSoftmax`.
///
/// ```swift
/// nllLoss(logSoftmax(logits), classIndices: labels)
/// ```
public func nllLoss<S: TensorScalar>(_ logProbabilities: Tensor<S>, classIndices: [Int],
                                     reduction: LossReduction = .mean) -> Tensor<S> {
    checkClassIndices("nllLoss", logProbabilities, classIndices)
    return (-logProbabilities.gathered(classIndices: classIndices)).lossReduced(reduction)
}

// MARK: - Regularization

/// Weight regularization, in one of its two common forms, each with its
/// correct gradient:
///
///   halved: false   S = λ ||W||²_F        dS/dW = 2 λ W
///   halved: true    S = (λ/2) ||W||²_F    dS/dW = λ W     (the lab's form)
///
/// The objective is J = L + S, so dJ/dS = 1.
///
/// ```swift
/// let w: Tensor<Double> = [[1, 5, 7], [3, 2, 4]]
/// l2Regularization(w, lambda: 0.1, halved: true)    // 5.2
/// l2Regularization(w, lambda: 0.1, halved: false)   // 10.4
/// ```
public func l2Regularization<S: TensorScalar>(_ weight: Tensor<S>, lambda: S, halved: Bool) -> Tensor<S> {
    weight.squared().sum() * (halved ? lambda / 2 : lambda)
}

/// The regularization of several weights: the sum of
/// ``l2Regularization(_:lambda:halved:)`` over them.
///
/// ```swift
/// let S = l2Regularization([w1, w2], lambda: 1e-4, halved: true)
/// ```
public func l2Regularization<S: TensorScalar>(_ weights: [Tensor<S>], lambda: S, halved: Bool) -> Tensor<S> {
    weights.reduce(Tensor<S>(0)) { $0 + l2Regularization($1, lambda: lambda, halved: halved) }
}

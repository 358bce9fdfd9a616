import BackpropCore

/// An optimizer whose per-parameter state (moments, momentum buffers, step
/// counts) can be saved and restored, so that a resumed run takes exactly the
/// steps an uninterrupted one would.
///
/// The names are those of PyTorch's `optimizer.state_dict()["state"]`, flattened:
/// `state.<parameter index>.<buffer>`, the index counting the optimizer's
/// parameters in order (`model.parameters()`), e.g. `state.0.exp_avg`,
/// `state.0.exp_avg_sq`, `state.0.step` (a 0-dimensional tensor) for Adam,
/// `state.1.momentum_buffer` for SGD, `state.0.square_avg` for RMSprop. A
/// parameter that has not been stepped yet has no entries, as in PyTorch.
///
/// ```swift
/// let saved = optimizer.stateDict()            // [("state.0.momentum_buffer", ...), ...]
/// let fresh = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)
/// try fresh.loadStateDict(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }))
/// ```
public protocol OptimizerStateDict<Scalar>: Optimizer {
    /// The scalar type of the parameters and of the state.
    associatedtype Scalar: TensorScalar
    /// The state by PyTorch's names (copies: later steps do not change them), in parameter order.
    func stateDict() -> [(name: String, tensor: Tensor<Scalar>)]
    /// Replaces the state with `state` (names as ``stateDict()`` writes them). Unknown names, wrong
    /// shapes, a step that is not a non-negative whole number or a parameter with only part of its
    /// buffers are a ``StateDictError`` naming each key; nothing is changed then.
    func loadStateDict(_ state: [String: Tensor<Scalar>]) throws
}

extension StateBuffers {
    /// A copy of parameter `i`'s buffer in `shape`, or `nil` if it has not been allocated.
    func tensor(_ i: Int, shape: [Int]) -> Tensor<Scalar>? {
        guard let b = buffers[i] else { return nil }
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: b.base, count: n)))
    }

    /// Sets parameter `i`'s buffer to a copy of `t` (`nil`: unallocated, as before the first step).
    mutating func set(_ i: Int, _ t: Tensor<Scalar>?) {
        guard let t else { buffers[i] = nil; return }
        let storage = TensorStorage<Scalar>.make(zeroedCount: t.count)
        t.withUnsafeBufferPointer { src in
            if let p = src.baseAddress { storage.base.update(from: p, count: src.count) }
        }
        buffers[i] = storage
    }
}

/// The state of one parameter by buffer name, for the optimizers' `loadStateDict`.
typealias ParameterState<S: TensorScalar> = [String: Tensor<S>]

/// Checks `state` against `parameters` and splits it by parameter index. Each parameter has either
/// none or all of `buffers` (plus `step` when `stepped`); buffers have the parameter's shape.
func splitOptimizerState<S: TensorScalar>(_ state: [String: Tensor<S>], parameters: [Tensor<S>],
                                          buffers: [String], stepped: Bool) throws -> [Int: ParameterState<S>] {
    var problems: [String] = []
    var result: [Int: ParameterState<S>] = [:]
    let expected = Set(buffers + (stepped ? ["step"] : []))
    for key in state.keys.sorted() {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "state", let i = Int(parts[1]), i >= 0, String(i) == parts[1] else {
            problems.append("\(key): unexpected key (expected state.<index>.<buffer>)")
            continue
        }
        let name = String(parts[2]), t = state[key]!
        guard i < parameters.count else {
            problems.append("\(key): there are only \(parameters.count) parameters")
            continue
        }
        guard expected.contains(name) else {
            problems.append("\(key): unexpected buffer (this optimizer keeps \(expected.sorted().joined(separator: ", ")))")
            continue
        }
        if name == "step" {
            let v = t.count == 1 ? t.withUnsafeBufferPointer { Double($0[0]) } : -1
            guard t.shape.count <= 1, v >= 0, v == v.rounded(), v < 1e15 else {
                problems.append("\(key): a step count must be one non-negative whole number, got shape \(t.shape)\(t.count == 1 ? " value \(v)" : "")")
                continue
            }
        } else if t.shape != parameters[i].shape {
            problems.append("\(key): expected \(parameters[i].shape), got \(t.shape)")
            continue
        }
        result[i, default: [:]][name] = t
    }
    for i in result.keys.sorted() {
        let missing = expected.subtracting(result[i]!.keys).sorted()
        if !missing.isEmpty { problems.append("state.\(i): missing " + missing.joined(separator: ", ")) }
    }
    guard problems.isEmpty else { throw StateDictError(problems: problems) }
    return result
}

func stepTensor<S: TensorScalar>(_ steps: Int) -> Tensor<S> { Tensor(shape: [], scalars: [S(Double(steps))]) }
func stepCount<S: TensorScalar>(_ t: Tensor<S>?) -> Int { t.map { t in t.withUnsafeBufferPointer { Int(Double($0[0])) } } ?? 0 }

extension SGD: OptimizerStateDict {
    /// `state.<i>.momentum_buffer` for each parameter stepped with momentum.
    public func stateDict() -> [(name: String, tensor: Tensor<Scalar>)] {
        parameters.indices.compactMap { i in
            momentumBuffers.tensor(i, shape: parameters[i].shape).map { ("state.\(i).momentum_buffer", $0) }
        }
    }

    /// Restores the momentum buffers written by ``stateDict()``.
    public func loadStateDict(_ state: [String: Tensor<Scalar>]) throws {
        let split = try splitOptimizerState(state, parameters: parameters, buffers: ["momentum_buffer"], stepped: false)
        for i in parameters.indices { momentumBuffers.set(i, split[i]?["momentum_buffer"]) }
    }
}

extension Adam: OptimizerStateDict {
    /// `state.<i>.step`, `exp_avg`, `exp_avg_sq` (and `max_exp_avg_sq` with AMSGrad) for each stepped parameter.
    public func stateDict() -> [(name: String, tensor: Tensor<Scalar>)] {
        var out: [(name: String, tensor: Tensor<Scalar>)] = []
        for i in parameters.indices where steps[i] > 0 {
            let shape = parameters[i].shape
            out.append(("state.\(i).step", stepTensor(steps[i])))
            if let m = firstMoments.tensor(i, shape: shape) { out.append(("state.\(i).exp_avg", m)) }
            if let v = secondMoments.tensor(i, shape: shape) { out.append(("state.\(i).exp_avg_sq", v)) }
            if amsgrad, let v = maxSecondMoments.tensor(i, shape: shape) { out.append(("state.\(i).max_exp_avg_sq", v)) }
        }
        return out
    }

    /// Restores the moments and step counts written by ``stateDict()``.
    public func loadStateDict(_ state: [String: Tensor<Scalar>]) throws {
        let split = try splitOptimizerState(state, parameters: parameters,
                                            buffers: ["exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : []), stepped: true)
        for i in parameters.indices {
            steps[i] = stepCount(split[i]?["step"])
            firstMoments.set(i, split[i]?["exp_avg"])
            secondMoments.set(i, split[i]?["exp_avg_sq"])
            maxSecondMoments.set(i, split[i]?["max_exp_avg_sq"])
        }
    }
}

extension AdamW: OptimizerStateDict {
    /// As ``Adam/stateDict()``.
    public func stateDict() -> [(name: String, tensor: Tensor<Scalar>)] { adam.stateDict() }
    /// As ``Adam/loadStateDict(_:)``.
    public func loadStateDict(_ state: [String: Tensor<Scalar>]) throws { try adam.loadStateDict(state) }
}

extension RMSprop: OptimizerStateDict {
    /// `state.<i>.step`, `square_avg` (and `momentum_buffer` with momentum, `grad_avg` when centered).
    public func stateDict() -> [(name: String, tensor: Tensor<Scalar>)] {
        var out: [(name: String, tensor: Tensor<Scalar>)] = []
        for i in parameters.indices where steps[i] > 0 {
            let shape = parameters[i].shape
            out.append(("state.\(i).step", stepTensor(steps[i])))
            if let s = squareAverages.tensor(i, shape: shape) { out.append(("state.\(i).square_avg", s)) }
            if momentum > 0, let b = momentumBuffers.tensor(i, shape: shape) { out.append(("state.\(i).momentum_buffer", b)) }
            if centered, let g = gradAverages.tensor(i, shape: shape) { out.append(("state.\(i).grad_avg", g)) }
        }
        return out
    }

    /// Restores the averages, buffers and step counts written by ``stateDict()``.
    public func loadStateDict(_ state: [String: Tensor<Scalar>]) throws {
        let buffers = ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : [])
        let split = try splitOptimizerState(state, parameters: parameters, buffers: buffers, stepped: true)
        for i in parameters.indices {
            steps[i] = stepCount(split[i]?["step"])
            squareAverages.set(i, split[i]?["square_avg"])
            momentumBuffers.set(i, split[i]?["momentum_buffer"])
            gradAverages.set(i, split[i]?["grad_avg"])
        }
    }
}

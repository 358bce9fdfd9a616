import BackpropCore
// Modules: layers and networks built from them. A module's parameters are
// found by reflection over its stored properties, so a layer declares a
// `Tensor` property and nothing else; names follow PyTorch's state_dict
// ("0.weight", "encoder.2.bias").

/// A layer or a network of layers: a function of one tensor with parameters.
///
/// Parameters are collected automatically from stored properties:
/// - a `Tensor<Scalar>` (or `Tensor<Scalar>?`) that requires a gradient is a
///   parameter named after the property (`weight`, `bias`);
/// - a child module (or an array of them) contributes its own parameters,
///   prefixed with the property name (`encoder.weight`, `blocks.0.weight`);
/// - an array of such tensors gives `name.0`, `name.1`, ...
///
/// A custom module only declares its properties, `isTraining` and the call:
///
/// ```swift
/// final class TwoLayer: Module {
///     var isTraining = true
///     let hidden = Linear<Float>(2, 8)
///     let output = Linear<Float>(8, 1)
///     func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { output(relu(hidden(x))) }
/// }
/// TwoLayer().namedParameters().map(\.name)
/// // ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
/// ```
public protocol Module<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar

    /// The forward pass.
    func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>

    /// `true` in training mode (the default), `false` after ``eval()``.
    /// Only some layers (``Dropout``) behave differently.
    var isTraining: Bool { get set }

    /// The direct sub-modules with their names. The default reflects over
    /// stored properties; ``Sequential`` names its layers "0", "1", ...
    func namedChildren() -> [(name: String, module: any Module<Scalar>)]

    /// Every parameter with its state_dict name, in declaration order,
    /// each shared parameter once. The default reflects over stored properties.
    func namedParameters() -> [(name: String, tensor: Tensor<Scalar>)]
}

extension Module {
    /// Child modules found by reflection: a stored module property is named after the
    /// property, an array of modules gives `name.0`, `name.1`, ...
    public func namedChildren() -> [(name: String, module: any Module<Scalar>)] {
        var children: [(name: String, module: any Module<Scalar>)] = []
        forEachStoredProperty(of: self) { label, value in
            if let m = value as? any Module<Scalar> {
                children.append((label, m))
            } else if let list = value as? [any Module<Scalar>] {
                for (i, m) in list.enumerated() { children.append(("\(label).\(i)", m)) }
            }
        }
        return children
    }

    /// Parameters found by reflection over stored properties (tensors that require a
    /// gradient), then those of ``namedChildren()`` with their prefix; a tensor
    /// shared by two properties is listed once, under its first name.
    ///
    /// ```swift
    /// let layer = Linear<Float>(3, 2)
    /// layer.namedParameters().map(\.name)   // ["weight", "bias"]
    /// ```
    public func namedParameters() -> [(name: String, tensor: Tensor<Scalar>)] {
        var result: [(name: String, tensor: Tensor<Scalar>)] = []
        var seen = Set<ObjectIdentifier>()
        func add(_ name: String, _ t: Tensor<Scalar>) {
            if seen.insert(ObjectIdentifier(t.handle)).inserted { result.append((name, t)) }
        }
        forEachStoredProperty(of: self) { label, value in
            if let t = value as? Tensor<Scalar> {
                if t.requiresGrad { add(label, t) }
            } else if let list = value as? [Tensor<Scalar>] {
                for (i, t) in list.enumerated() where t.requiresGrad { add("\(label).\(i)", t) }
            }
        }
        for (prefix, child) in namedChildren() {
            for (name, t) in child.namedParameters() { add("\(prefix).\(name)", t) }
        }
        return result
    }

    /// Buffers found by reflection over stored ``Buffer`` properties (named by
    /// the buffer's own name), then those of ``namedChildren()`` with their
    /// prefix, like PyTorch's `named_buffers()`.
    ///
    /// ```swift
    /// BatchNorm2d<Float>(16).namedBuffers().map(\.name)
    /// // ["running_mean", "running_var", "num_batches_tracked"]
    /// ```
    public func namedBuffers() -> [(name: String, buffer: Buffer<Scalar>)] {
        var result: [(name: String, buffer: Buffer<Scalar>)] = []
        var seen = Set<ObjectIdentifier>()
        forEachStoredProperty(of: self) { _, value in
            if let b = value as? Buffer<Scalar>, seen.insert(ObjectIdentifier(b)).inserted { result.append((b.name, b)) }
        }
        for (prefix, child) in namedChildren() {
            for (name, b) in child.namedBuffers() where seen.insert(ObjectIdentifier(b)).inserted {
                result.append(("\(prefix).\(name)", b))
            }
        }
        return result
    }

    /// The parameters, in the order of ``namedParameters()``: what an optimizer takes.
    ///
    /// ```swift
    /// let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1)
    /// ```
    public func parameters() -> [Tensor<Scalar>] { namedParameters().map(\.tensor) }

    /// The number of scalars over all parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

    /// Clears the `.grad` of every parameter.
    public func zeroGrad() {
        for (_, t) in namedParameters() { t.zeroGrad() }
    }

    /// Sets training mode (or evaluation mode with `false`) here and in every sub-module.
    ///
    /// ```swift
    /// model.train()
    /// ```
    public func train(_ mode: Bool = true) {
        isTraining = mode
        for (_, child) in namedChildren() { child.train(mode) }
    }

    /// Sets evaluation mode here and in every sub-module (``Dropout`` becomes the identity).
    public func eval() { train(false) }

    /// The parameters and buffers by state_dict name, detached: later optimizer steps do
    /// not change a state dict taken now.
    ///
    /// ```swift
    /// let saved = model.stateDict()     // ["0.weight": ..., "0.bias": ..., ...]
    /// ```
    public func stateDict() -> [String: Tensor<Scalar>] {
        var dict: [String: Tensor<Scalar>] = [:]
        for (name, t) in namedParameters() { dict[name] = t.detached() }
        for (name, b) in namedBuffers() { dict[name] = b.value.detached() }
        return dict
    }

    /// Copies values into the parameters (and buffers), in place (an optimizer holding them
    /// sees the new values), like PyTorch's `load_state_dict`.
    ///
    /// A shape mismatch is always an error. With `strict` (the default), a
    /// parameter without an entry and an entry without a parameter are errors
    /// too. Nothing is changed when an error is thrown.
    ///
    /// ```swift
    /// try model.loadStateDict(saved)
    /// // throws "0.weight: expected [8, 4], got [4, 8]" for a wrong shape
    /// ```
    public func loadStateDict(_ dict: [String: Tensor<Scalar>], strict: Bool = true) throws {
        let params = namedParameters()
        let buffers = namedBuffers()
        var problems: [String] = []
        for (name, t) in params + buffers.map({ ($0.name, $0.buffer.value) }) {
            if let v = dict[name] {
                if v.shape != t.shape { problems.append("\(name): expected \(t.shape), got \(v.shape)") }
            } else if strict {
                problems.append("\(name): missing from the state dict")
            }
        }
        if strict {
            let known = Set(params.map(\.name) + buffers.map(\.name))
            for key in dict.keys.sorted() where !known.contains(key) {
                problems.append("\(key): unexpected key (the module has no such parameter)")
            }
        }
        guard problems.isEmpty else { throw StateDictError(problems: problems) }
        for (name, t) in params {
            guard let v = dict[name] else { continue }
            v.withUnsafeBufferPointer { src in
                t.updateInPlace { dst, n in dst.update(from: src.baseAddress!, count: n) }
            }
        }
        for (name, b) in buffers {
            guard let v = dict[name] else { continue }
            b.value = Tensor(shape: v.shape, scalars: v.scalars)
        }
    }
}

/// Why ``Module/loadStateDict(_:strict:)`` refused a state dict. Each
/// problem names the key: `0.weight: expected [8, 4], got [4, 8]`.
public struct StateDictError: Error, CustomStringConvertible, Sendable {
    /// One line per problem, each starting with the state_dict key.
    public let problems: [String]
    /// The problems joined by `; `, one line.
    public var description: String { problems.joined(separator: "; ") }
}

/// Calls `body` with the label and value of every stored property of an
/// object, including those of its superclasses. Lazy and wrapped properties
/// are named without their storage prefix.
private func forEachStoredProperty(of object: AnyObject, _ body: (String, Any) -> Void) {
    var mirror: Mirror? = Mirror(reflecting: object)
    while let m = mirror {
        for child in m.children {
            guard var label = child.label else { continue }
            if label.hasPrefix("$__lazy_storage_$_") { label.removeFirst("$__lazy_storage_$_".count) }
            if label.hasPrefix("_") { label.removeFirst() }
            body(label, child.value)
        }
        mirror = m.superclassMirror
    }
}

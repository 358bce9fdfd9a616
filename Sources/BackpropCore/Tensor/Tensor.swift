/// An n-dimensional array of `Float` or `Double` in row-major order, with
/// reverse-mode automatic differentiation.
///
/// A tensor is a value: copying one and then changing an element never
/// changes the other copy. A tensor that requires a gradient is also a
/// *variable*, as in PyTorch: its copies share one `.grad`, and an optimizer
/// updates the values that every copy sees.
///
/// ```swift
/// let x = Tensor<Double>([[1, 2], [3, 4]], requiresGrad: true)
/// let y = (x * x).sum()
/// y.backward()
/// print(x.grad!)   // tensor([[2., 4.], [6., 8.]], dtype=float64)
/// ```
public struct Tensor<Scalar: TensorScalar> {
    @usableFromInline package var handle: TensorHandle<Scalar>

    init(handle: TensorHandle<Scalar>) { self.handle = handle }

    /// A tensor of the given shape over existing storage.
    package init(storage: TensorStorage<Scalar>, shape: [Int]) {
        handle = TensorHandle(storage: storage, shape: shape)
    }

    /// The size of each dimension; `[]` for a scalar.
    public var shape: [Int] { handle.shape }
    /// The number of dimensions.
    public var rank: Int { handle.shape.count }
    /// The number of elements.
    public var count: Int { handle.count }
    /// `true` for a rank-0 tensor.
    public var isScalar: Bool { handle.shape.isEmpty }

    /// The elements in row-major order.
    public var scalars: [Scalar] {
        Array(UnsafeBufferPointer(start: handle.storage.base, count: count))
    }

    /// The only element of a tensor with one element.
    ///
    /// ```swift
    /// Tensor<Float>([[3]]).item   // 3.0
    /// ```
    public var item: Scalar {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return handle.storage.base[0]
    }

    /// Reads the data without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: handle.storage.base, count: count))
    }

    package var base: UnsafeMutablePointer<Scalar> { handle.storage.base }
}

/// The shared part of a tensor: its storage, its shape, and its place in the
/// autograd graph. Copies of a `Tensor` share one handle.
@usableFromInline
package final class TensorHandle<Scalar: TensorScalar> {
    var storage: TensorStorage<Scalar>
    let shape: [Int]
    let count: Int
    /// Leaves: set by the user. Results: set when an input requires a gradient.
    var requiresGrad = false
    /// Keep `.grad` on a non-leaf too (PyTorch's `retain_grad()`).
    var retainsGrad = false
    var grad: Tensor<Scalar>?
    /// How this tensor was computed; `nil` for a leaf.
    var gradFn: GradFunction<Scalar>?
    /// Gradient being accumulated during one backward pass.
    var pendingGrad: Tensor<Scalar>?
    /// The last backward traversal that reached this handle.
    var visitMark = 0

    package init(storage: TensorStorage<Scalar>, shape: [Int]) {
        self.storage = storage
        self.shape = shape
        self.count = shape.reduce(1, *)
        precondition(storage.count >= count, "internal: storage smaller than shape \(shape)")
    }
}

// MARK: - Creating from Swift values

extension Tensor {
    /// A tensor holding `scalars` with the given shape.
    ///
    /// ```swift
    /// let m = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    /// ```
    public init(shape: [Int], scalars: [Scalar], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        let n = shape.reduce(1, *)
        precondition(n == scalars.count,
                     "Tensor: shape \(shape) needs \(n) scalars, got \(scalars.count)")
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        scalars.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: n) }
        self.init(storage: storage, shape: shape)
        if requiresGrad { handle.requiresGrad = true }
    }

    /// A rank-0 tensor.
    public init(_ value: Scalar, requiresGrad: Bool = false) {
        self.init(shape: [], scalars: [value], requiresGrad: requiresGrad)
    }

    /// A vector.
    ///
    /// ```swift
    /// let v = Tensor<Float>([1, 2, 3])   // shape [3]
    /// ```
    public init(_ values: [Scalar], requiresGrad: Bool = false) {
        self.init(shape: [values.count], scalars: values, requiresGrad: requiresGrad)
    }

    /// A matrix from its rows. Rows of different lengths stop with a message.
    public init(_ rows: [[Scalar]], requiresGrad: Bool = false) {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() where r.count != cols {
            preconditionFailure("Tensor: ragged nested array: row \(i) has \(r.count) elements, row 0 has \(cols)")
        }
        self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 }, requiresGrad: requiresGrad)
    }

    /// A rank-3 tensor from nested arrays.
    public init(_ planes: [[[Scalar]]], requiresGrad: Bool = false) {
        let nested = NestedArray.list(planes.map { .list($0.map { .list($0.map { .scalar(Double($0)) }) }) })
        let (shape, flat) = nested.flattened(context: "Tensor")
        self.init(shape: shape, scalars: flat.map { Scalar($0) }, requiresGrad: requiresGrad)
    }

    /// A tensor filled with one value.
    public init(repeating value: Scalar, shape: [Int]) {
        let n = shape.reduce(1, *)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        Kernels.fill(storage.base, value, n)
        self.init(storage: storage, shape: shape)
    }

    /// The same values in another scalar type.
    ///
    /// ```swift
    /// let d = Tensor<Double>(Tensor<Float>([1, 2]))
    /// ```
    public init<Other: TensorScalar>(_ other: Tensor<Other>) {
        let n = other.count
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        let src = other.base
        for i in 0..<n { storage.base[i] = Scalar(src[i]) }
        self.init(storage: storage, shape: other.shape)
    }
}

/// A nested array literal or JSON array, before its shape is known.
public indirect enum NestedArray: Sendable, ExpressibleByArrayLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// A single number (a leaf of the nesting).
    case scalar(Double)
    /// A list of elements, which must all have the same shape.
    case list([NestedArray])

    /// A list from an array literal: `[[1, 2], [3, 4]]`.
    public init(arrayLiteral elements: NestedArray...) { self = .list(elements) }
    /// A scalar from a floating-point literal.
    public init(floatLiteral value: Double) { self = .scalar(value) }
    /// A scalar from an integer literal.
    public init(integerLiteral value: Int) { self = .scalar(Double(value)) }

    /// The shape and the row-major values; stops on a ragged array.
    func flattened(context: String) -> ([Int], [Double]) {
        switch validatedShape() {
        case .success(let shape):
            var out: [Double] = []
            out.reserveCapacity(shape.reduce(1, *))
            appendScalars(to: &out)
            return (shape, out)
        case .failure(let message):
            preconditionFailure("\(context): \(message)")
        }
    }

    /// The shape, or a message naming where the array is ragged.
    public func validatedShape(path: String = "") -> Result<[Int], NestedArrayError> {
        switch self {
        case .scalar: return .success([])
        case .list(let items):
            guard let first = items.first else { return .success([0]) }
            let firstShape: [Int]
            switch first.validatedShape(path: path + "[0]") {
            case .success(let s): firstShape = s
            case .failure(let e): return .failure(e)
            }
            for (i, item) in items.enumerated().dropFirst() {
                switch item.validatedShape(path: path + "[\(i)]") {
                case .success(let s) where s == firstShape: continue
                case .success(let s):
                    return .failure(NestedArrayError(message: "ragged nested array: element \(path)[\(i)] has shape \(s), element \(path)[0] has shape \(firstShape)"))
                case .failure(let e): return .failure(e)
                }
            }
            return .success([items.count] + firstShape)
        }
    }

    package func appendScalars(to out: inout [Double]) {
        switch self {
        case .scalar(let v): out.append(v)
        case .list(let items): for item in items { item.appendScalars(to: &out) }
        }
    }
}

/// Why a nested array is not a tensor.
public struct NestedArrayError: Error, CustomStringConvertible, Sendable {
    /// Where the array is ragged and the two shapes that disagree.
    public let message: String
    /// The message.
    public var description: String { message }
}

extension Tensor: ExpressibleByArrayLiteral {
    /// A tensor from a nested array literal of any depth.
    ///
    /// ```swift
    /// let w: Tensor<Float> = [[1, 5, 7], [3, 2, 4]]
    /// ```
    public init(arrayLiteral elements: NestedArray...) {
        let (shape, flat) = NestedArray.list(elements).flattened(context: "Tensor literal")
        self.init(shape: shape, scalars: flat.map { Scalar($0) })
    }

    /// A tensor from a nested array of any depth; a ragged array stops with a message.
    public init(nested: NestedArray, requiresGrad: Bool = false) {
        let (shape, flat) = nested.flattened(context: "Tensor")
        self.init(shape: shape, scalars: flat.map { Scalar($0) }, requiresGrad: requiresGrad)
    }
}

// MARK: - Element access (copy-on-write)

extension Tensor {
    /// Makes this tensor's storage unique before a write, so that other
    /// copies keep their values. Writing into a tensor that is part of a
    /// recorded graph is an error, as in PyTorch.
    mutating func makeUniqueForWriting() {
        if !isKnownUniquelyReferenced(&handle) {
            let copy = TensorHandle(storage: TensorStorage.make(copying: base, count: count), shape: shape)
            copy.requiresGrad = handle.requiresGrad && handle.gradFn == nil
            handle = copy
        } else if !isKnownUniquelyReferenced(&handle.storage) {
            handle.storage = TensorStorage.make(copying: base, count: count)
        }
    }

    /// The element at a full index, one integer per dimension.
    ///
    /// ```swift
    /// var m: Tensor<Float> = [[1, 2], [3, 4]]
    /// m[element: 1, 0] = 9
    /// ```
    public subscript(element indices: Int...) -> Scalar {
        get { base[flatIndex(indices)] }
        set {
            let i = flatIndex(indices)
            makeUniqueForWriting()
            base[i] = newValue
        }
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "index: \(indices.count) indices for a tensor of rank \(rank), shape \(shape)")
        var flat = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index: \(i) out of range for axis \(axis) of size \(shape[axis])")
            flat = flat * shape[axis] + i
        }
        return flat
    }
}

extension Tensor: Equatable {
    /// Same shape and same values (not identity).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor {
    /// `true` when both have the same shape and every pair of elements is
    /// within `atol + rtol * |other|`, like `torch.allclose`.
    public func isClose(to other: Tensor, rtol: Scalar = 1e-5, atol: Scalar = 1e-8) -> Bool {
        guard shape == other.shape else { return false }
        let a = base, b = other.base
        for i in 0..<count where !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) {
            if a[i].isNaN && b[i].isNaN { continue }
            return false
        }
        return true
    }
}

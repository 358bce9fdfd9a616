// The shape rule of each op that can be given mismatched shapes, written once.
// An op traps with the rule's message (a mismatch inside a program is a
// programmer mistake); the expression language, whose shapes come from the
// user's text, throws the same message as an error at the op's position.

/// Why shapes do not fit an op, naming the op and the shapes:
/// `matmul: [2, 3] x [2, 3]: inner dimensions 3 and 2 differ`.
///
/// ```swift
/// do { _ = try ShapeRule.matmul([2, 3], [2, 3]) }
/// catch { print(error) }   // matmul: [2, 3] x [2, 3]: inner dimensions 3 and 2 differ
/// ```
public struct ShapeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The whole message, starting with the op's name.
    public let message: String

    /// An error with `message`, which should start with the op's name.
    ///
    /// ```swift
    /// let e = ShapeError("add: shapes [2, 3] and [4] cannot be broadcast together")
    /// ```
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// The shape rules of the ops: each returns the result's shape for operand
/// shapes that fit, or throws a ``ShapeError`` that names the op and the shapes.
///
/// ```swift
/// try ShapeRule.matmul([5, 2, 3], [3])            // [5, 2]
/// try ShapeRule.broadcast("add", [2, 3], [3])     // [2, 3]
/// ShapeRule.check { try ShapeRule.matmul(a.shape, b.shape) }   // traps with the message on a mismatch
/// ```
public enum ShapeRule {
    /// The shape of an elementwise op on two operands, by NumPy's broadcasting
    /// rule: shapes are aligned at their last axis, and a size-1 (or missing)
    /// axis stretches to the other operand's size.
    ///
    /// ```swift
    /// try ShapeRule.broadcast("mul", [4, 1, 3], [2, 1])   // [4, 2, 3]
    /// ```
    public static func broadcast(_ op: String, _ a: [Int], _ b: [Int]) throws(ShapeError) -> [Int] {
        guard let shape = Shape.broadcast(a, b) else {
            throw ShapeError("\(op): shapes \(a) and \(b) cannot be broadcast together")
        }
        return shape
    }

    /// The shape of `matmul(a, b)` by PyTorch's rules: a 1-D operand is a
    /// vector (its axis dropped from the result), the last axis of `a` meets
    /// the second-to-last of `b`, and leading batch axes broadcast.
    ///
    /// ```swift
    /// try ShapeRule.matmul([2, 3], [3])          // [2]
    /// try ShapeRule.matmul([7, 2, 3], [3, 4])    // [7, 2, 4]
    /// ```
    public static func matmul(_ a: [Int], _ b: [Int]) throws(ShapeError) -> [Int] {
        func failure(_ reason: String) -> ShapeError { ShapeError("matmul: \(a) x \(b): \(reason)") }
        guard !a.isEmpty && !b.isEmpty else { throw failure("both operands need at least one axis (use * to scale by a number)") }
        let k1 = a[a.count - 1], k2 = b.count == 1 ? b[0] : b[b.count - 2]
        guard k1 == k2 else { throw failure("inner dimensions \(k1) and \(k2) differ") }
        // Two matrices, the common case, without the batch arrays below (they cost 1,900
        // instructions, 40% of a small matmul node).
        if a.count == 2 && b.count == 2 { return [a[0], b[1]] }
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        guard let batch = Shape.broadcast(batchA, batchB) else {
            throw failure("batch shapes \(batchA) and \(batchB) cannot be broadcast together")
        }
        return batch + (a.count >= 2 ? [a[a.count - 2]] : []) + (b.count >= 2 ? [b[b.count - 1]] : [])
    }

    /// The parameters of a linear map: a weight `[out, in]` and an optional
    /// bias `[out]`. Returns `(out, in)`.
    ///
    /// ```swift
    /// try ShapeRule.linearParameters(weight: [3, 5], bias: [3])   // (3, 5)
    /// ```
    public static func linearParameters(weight: [Int], bias: [Int]?) throws(ShapeError) -> (outputs: Int, inputs: Int) {
        guard weight.count == 2 else { throw ShapeError("linear: weight must have shape [out, in], got \(weight)") }
        if let bias, !(bias.count == 1 && bias[0] == weight[0]) {
            throw ShapeError("linear: bias \(bias) does not fit weight \(weight): expected [\(weight[0])]")
        }
        return (weight[0], weight[1])
    }

    /// The shape of `linear(x, weight:bias:)`, y = x Wᵀ + b: the input's last
    /// axis meets the weight's `in`, and becomes `out`.
    ///
    /// ```swift
    /// try ShapeRule.linear(input: [8, 5], weight: [3, 5], bias: [3])   // [8, 3]
    /// ```
    public static func linear(input x: [Int], weight: [Int], bias: [Int]?) throws(ShapeError) -> [Int] {
        let (outputs, inputs) = try linearParameters(weight: weight, bias: bias)
        guard let features = x.last else {
            throw ShapeError("linear: input \(x) does not fit weight \(weight): the input needs at least one axis")
        }
        guard features == inputs else {
            throw ShapeError("linear: input \(x) does not fit weight \(weight): the input's last axis is \(features), the weight expects \(inputs)")
        }
        var shape = x
        shape[shape.count - 1] = outputs
        return shape
    }

    /// Runs a rule for an op, stopping the program with the rule's message
    /// when the shapes do not fit: mismatched shapes passed to an op are a
    /// programmer mistake, like an index out of range.
    ///
    /// ```swift
    /// let shape = ShapeRule.check { try ShapeRule.broadcast("add", a.shape, b.shape) }
    /// ```
    @inline(__always)
    public static func check<T>(_ rule: () throws -> T) -> T {
        do { return try rule() } catch { preconditionFailure("\(error)") }
    }
}

import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
// Evaluating a program builds a graph of Tensor ops in Double. Every node
// keeps its value; backpropagation from the last statement gives each node
// the gradient of the output with respect to it, and each op's own autograd
// gives the local partial derivatives along its edges. The chain rule is then
// visible on every row: grad(input) = Σ over its uses of grad(node) · ∂node/∂input.

/// What a node of an ``ExpressionGraph`` computes.
public enum ExpressionOperation: Equatable, Sendable {
    /// A variable given a value from outside the program.
    case input
    /// A number or tensor literal of the program.
    case constant
    /// Unary minus, `-x`.
    case negate
    /// An operator applied to two inputs: `+ - * / ^ @`.
    case binary(BinaryOperator)
    /// `x ^ p` with a literal exponent: one input.
    case power(Double)
    /// A built-in function applied to one input.
    case function(ExpressionFunction)

    /// The short name shown in tables: `mul`, `pow 2`, `tanh`.
    public var name: String {
        switch self {
        case .input: return "input"
        case .constant: return "const"
        case .negate: return "neg"
        case .binary(let op):
            switch op {
            case .add: return "add"
            case .subtract: return "sub"
            case .multiply: return "mul"
            case .divide: return "div"
            case .power: return "pow"
            case .matmul: return "matmul"
            }
        case .power(let p): return "pow \(formatNumber(p))"
        case .function(let f): return f.rawValue
        }
    }

    /// The symbol drawn in an op node: `+`, `*`, `^2`, `@`, `tanh`.
    public var symbol: String {
        switch self {
        case .input, .constant: return ""
        case .negate: return "-"
        case .binary(let op): return String(op.rawValue)
        case .power(let p): return "^" + formatNumber(p)
        case .function(let f): return f.rawValue
        }
    }

    /// `true` when output element i depends only on element i of each
    /// same-shaped input, so the local Jacobian is diagonal.
    var isElementwise: Bool {
        switch self {
        case .binary(.matmul): return false
        case .function(let f): return f.isElementwise
        default: return true
        }
    }
}

/// A local partial derivative ∂node/∂input of one op, computed by
/// differentiating that op alone at its input values.
public struct LocalPartial {
    /// How ``value`` is laid out.
    public enum Kind: String, Sendable {
        /// Scalar node and scalar input: a number.
        case scalar
        /// Elementwise op, input of the node's shape: the diagonal of the
        /// Jacobian, in the input's shape.
        case elementwise
        /// The full Jacobian, of shape node.shape + input.shape.
        case jacobian
        /// Too large to compute for a table (more than 4096 entries).
        case omitted
    }

    /// The index of the input node.
    public let input: Int
    /// How ``value`` is laid out.
    public let kind: Kind
    /// The derivative; empty for ``Kind/omitted``.
    public let value: Tensor<Double>
}

/// A program evaluated into a graph of nodes with values, local partial
/// derivatives and gradients.
///
/// ```swift
/// let graph = try ExpressionGraph(
///     program: ExpressionProgram(parsing: "a = x*y + z; b = a*(x + x); w = a*b + b"),
///     at: Bindings.parse("x=1,y=2,z=3"))
/// graph.value(of: "w")!.item      // 60
/// graph.gradient(of: "x")!.item   // 104
/// ```
public struct ExpressionGraph {
    /// One value in the graph: an input, a constant, or an op's result.
    public struct Node {
        /// The node's index in ``ExpressionGraph/nodes``.
        public let id: Int
        /// The names bound to this node (a statement's name, an input's name); may be empty.
        public internal(set) var names: [String]
        /// The node's source text, as in `x*y`; for an input, its name.
        public let text: String
        /// What the node computes (or that it is an input or a constant).
        public let operation: ExpressionOperation
        /// Indices of the input nodes, in argument order.
        public let inputs: [Int]
        /// The node's value at the given bindings.
        public let value: Tensor<Double>
        /// d output / d node; `nil` when the node does not depend on any input.
        public internal(set) var gradient: Tensor<Double>?
        /// One per input, in the same order. Computed when first read (a table or
        /// a drawing reads them; the values and gradients alone do not need them).
        public var localPartials: [LocalPartial] { partials.value }
        /// Computes and keeps ``localPartials``.
        let partials: LocalPartialsCache
        /// The label used in tables and drawings: the first name, else the text.
        public var label: String { names.first ?? text }
    }

    /// The program the graph was built from.
    public let program: ExpressionProgram
    /// Every node, inputs first, each after the nodes it depends on.
    public private(set) var nodes: [Node]
    /// Every named variable and statement, in order of definition, with its node.
    public private(set) var namedNodes: [(name: String, node: Int)]
    /// The node of the last statement, the one backpropagated from.
    public let output: Int
    /// The output's display name (its statement name or text).
    public let outputName: String
    /// `true` when the output is not a scalar and was summed before backpropagating.
    public var outputWasSummed: Bool { nodes[output].value.count != 1 }

    /// Evaluates `program` with the given variable values and backpropagates
    /// from the last statement (summed if it is not a scalar). Each node's
    /// local partial derivatives are computed when first read.
    ///
    /// Throws ``ExpressionError`` for an unbound variable, a shape mismatch
    /// (found before the op runs), or a name defined twice.
    public init(program: ExpressionProgram, at values: [(name: String, value: Tensor<Double>)]) throws {
        self.program = program
        var builder = GraphBuilder()
        for (name, value) in values {
            let leaf = Tensor(shape: value.shape, scalars: value.scalars, requiresGrad: true)
            try builder.defineInput(name, leaf)
        }
        try builder.run(program)
        nodes = builder.nodes
        namedNodes = builder.named
        output = builder.lastStatementNode!
        outputName = program.statements.last!.displayName

        // Backpropagate once, capturing the gradient of every node that needs one.
        let out = nodes[output].value
        let tracked = nodes.indices.filter { nodes[$0].value.requiresGrad }
        if out.requiresGrad {
            let grads = gradients(of: out, wrt: tracked.map { nodes[$0].value }, seed: Tensor.ones(out.shape))
            for (i, g) in zip(tracked, grads) { nodes[i].gradient = g }
        }
    }

    /// The value of a named variable or statement.
    public func value(of name: String) -> Tensor<Double>? {
        namedNodes.first { $0.name == name }.map { nodes[$0.node].value }
    }

    /// d output / d name for a named variable or statement (`nil` for an unknown name or a constant).
    public func gradient(of name: String) -> Tensor<Double>? {
        namedNodes.first { $0.name == name }.flatMap { nodes[$0.node].gradient }
    }

    /// Evaluates `program` with the given tensors as its variables, without
    /// building a report: the function behind `backprop jacobian`. Gradients
    /// flow to whichever given tensors require them.
    ///
    /// ```swift
    /// let J = jacobian(of: { x in try! ExpressionGraph.evaluate(program, with: ["W": w, "x": x]) }, at: x0)
    /// ```
    public static func evaluate(_ program: ExpressionProgram, with values: [String: Tensor<Double>],
                                order: [String]? = nil) throws -> Tensor<Double> {
        var builder = GraphBuilder()
        for name in order ?? values.keys.sorted() { try builder.defineInput(name, values[name]!) }
        try builder.run(program)
        return builder.nodes[builder.lastStatementNode!].value
    }
}

/// Builds nodes statement by statement; checks shapes before each op runs
/// with the op's own ``ShapeRule``, because core ops stop the program on a mismatch.
struct GraphBuilder {
    var nodes: [ExpressionGraph.Node] = []
    var named: [(name: String, node: Int)] = []
    var bindings: [String: Int] = [:]
    var lastStatementNode: Int?
    var inputNames: Set<String> = []

    mutating func add(_ op: ExpressionOperation, _ inputs: [Int], _ value: Tensor<Double>, text: String) -> Int {
        let partials = LocalPartialsCache(operation: op, inputs: inputs, arguments: inputs.map { nodes[$0].value }, value: value)
        nodes.append(.init(id: nodes.count, names: [], text: text, operation: op, inputs: inputs,
                           value: value, gradient: nil, partials: partials))
        return nodes.count - 1
    }

    mutating func defineInput(_ name: String, _ value: Tensor<Double>) throws {
        guard bindings[name] == nil else { throw ExpressionError("'\(name)' is given twice") }
        if ExpressionFunction(rawValue: name) != nil {
            throw ExpressionError("'\(name)' is a function name and cannot be a variable")
        }
        let id = add(.input, [], value, text: name)
        nodes[id].names = [name]
        bindings[name] = id
        inputNames.insert(name)
        named.append((name, id))
    }

    mutating func run(_ program: ExpressionProgram) throws {
        for statement in program.statements {
            let id = try evaluate(statement, of: program)
            if let name = statement.name {
                if bindings[name] != nil {
                    let how = inputNames.contains(name) ? "is given a value" : "is already assigned"
                    throw ExpressionError("'\(name)' \(how); each name is one node of the graph", at: statement.location)
                }
                bindings[name] = id
                nodes[id].names.append(name)
                named.append((name, id))
            } else {
                named.append((statement.displayName, id))
            }
            lastStatementNode = id
        }
    }

    /// Evaluates a statement's expressions in program order (each after its
    /// operands), so a long chain needs no recursion; returns the node of the
    /// statement's value.
    mutating func evaluate(_ statement: ExpressionProgram.Statement, of program: ExpressionProgram) throws -> Int {
        let first = statement.firstExpression
        // The graph node of each expression of the statement; -1 until evaluated.
        var node = [Int](repeating: -1, count: statement.expression - first + 1)
        func id(_ e: Int) -> Int { node[e - first] }
        for index in first...statement.expression {
            let e = program.expressions[index]
            let text = { program.text(of: index) }
            let result: Int
            switch e.kind {
            case .number(let v):
                if e.isLiteralExponent { continue }   // part of its power node
                result = add(.constant, [], Tensor(v), text: text())
            case .tensor(let shape, let scalars):
                result = add(.constant, [], Tensor(shape: shape, scalars: scalars), text: text())
            case .variable(let name):
                guard let bound = bindings[name] else {
                    let known = bindings.keys.sorted().joined(separator: ", ")
                    throw ExpressionError("unbound variable '\(DataError.excerpt(name, limit: 40))'" + (known.isEmpty ? "" : " (defined: \(DataError.excerpt(known)))"),
                                          at: e.location, subject: .unboundVariable(name))
                }
                result = bound
            case .negate(let operand):
                let x = id(operand)
                result = add(.negate, [x], Self.apply(.negate, [nodes[x].value]), text: text())
            case .call(let function, let argument):
                let x = id(argument)
                result = add(.function(function), [x], Self.apply(.function(function), [nodes[x].value]), text: text())
            case .binary(.power, let base, let exponent):
                let b = id(base)
                if case .number(let p) = program.expressions[exponent].kind {
                    result = add(.power(p), [b], Self.apply(.power(p), [nodes[b].value]), text: text())
                } else {
                    let p = id(exponent)
                    try checkShapes(.power, nodes[b].value.shape, nodes[p].value.shape, at: e.location)
                    result = add(.binary(.power), [b, p], Self.apply(.binary(.power), [nodes[b].value, nodes[p].value]), text: text())
                }
            case .binary(let op, let lhs, let rhs):
                let a = id(lhs), b = id(rhs)
                let sa = nodes[a].value.shape, sb = nodes[b].value.shape
                try checkShapes(op, sa, sb, at: e.location)
                result = add(.binary(op), [a, b], Self.apply(.binary(op), [nodes[a].value, nodes[b].value]), text: text())
            }
            node[index - first] = result
        }
        return id(statement.expression)
    }

    /// The op's own shape rule (the one its precondition uses), thrown at the op's position.
    func checkShapes(_ op: BinaryOperator, _ a: [Int], _ b: [Int], at location: SourcePosition) throws {
        do {
            _ = try op == .matmul ? ShapeRule.matmul(a, b) : ShapeRule.broadcast(ExpressionOperation.binary(op).name, a, b)
        } catch {
            throw ExpressionError(error.message, at: location)
        }
    }

    /// Applies one op with the library's Tensor functions; shapes were checked before.
    static func apply(_ op: ExpressionOperation, _ x: [Tensor<Double>]) -> Tensor<Double> {
        switch op {
        case .input, .constant: return x[0]
        case .negate: return -x[0]
        case .power(let p): return pow(x[0], p)
        case .binary(let b):
            switch b {
            case .add: return x[0] + x[1]
            case .subtract: return x[0] - x[1]
            case .multiply: return x[0] * x[1]
            case .divide: return x[0] / x[1]
            case .power: return pow(x[0], x[1])
            case .matmul: return matmul(x[0], x[1])
            }
        case .function(let f):
            switch f {
            case .exp: return exp(x[0])
            case .log: return log(x[0])
            case .sqrt: return sqrt(x[0])
            case .abs: return abs(x[0])
            case .sin: return sin(x[0])
            case .cos: return cos(x[0])
            case .activation(let a): return a(x[0])
            case .sum: return x[0].sum()
            case .mean: return x[0].mean()
            }
        }
    }
}

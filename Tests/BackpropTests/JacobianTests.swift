import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

@Suite("Jacobians of linear maps")
struct JacobianTests {
    func random(_ rows: Int, _ cols: Int, _ rng: inout SeededGenerator) -> [[Double]] {
        (0..<rows).map { _ in Tensor<Double>.randomNormal([cols], generator: &rng).scalars }
    }

    func literal(_ m: [[Double]]) -> String { "[" + m.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" }

    /// The matrix product by plain loops, independent of the library's matmul.
    func product(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        a.map { row in (0..<b[0].count).map { j in zip(row, b).map { $0 * $1[j] }.reduce(0, +) } }
    }

    func J(_ program: String, _ at: String) throws -> ExpressionJacobian {
        try ExpressionJacobian(program: ExpressionProgram(parsing: program), wrt: "x", at: Bindings.parse(at))
    }

    func expectMatrix(_ j: ExpressionJacobian, _ expected: [[Double]]) {
        #expect(j.matrix.shape == [expected.count, expected[0].count])
        #expect(j.matrix.isClose(to: Tensor(expected), rtol: 1e-12, atol: 1e-12))
        #expect(j.modesAgree, "reverse and forward mode differ by \(j.maxDifference)")
    }

    @Test(arguments: [11, 12, 13])
    func sumOfLinearMapsHasTheSumOfMatrices(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let w1 = random(3, 4, &rng), w2 = random(3, 4, &rng)
        let x = Tensor<Double>.randomNormal([4], generator: &rng).scalars
        let at = "W1=\(literal(w1)),W2=\(literal(w2)),x=[\(x.map { "\($0)" }.joined(separator: ","))]"
        // J(W1 x + W2 x) = W1 + W2
        expectMatrix(try J("W1@x + W2@x", at), zip(w1, w2).map { zip($0, $1).map { $0 + $1 } })
        // ... which is 2 W1 when W2 = W1.
        let same = "W1=\(literal(w1)),W2=\(literal(w1)),x=[\(x.map { "\($0)" }.joined(separator: ","))]"
        expectMatrix(try J("f = W1@x; g = W2@x; f + g", same), w1.map { $0.map { 2 * $0 } })
    }

    @Test(arguments: [21, 22, 23])
    func compositionHasTheProductOfMatrices(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let w1 = random(3, 4, &rng), w2 = random(2, 3, &rng)   // W1: b x a, W2: c x b
        let x = Tensor<Double>.randomNormal([4], generator: &rng).scalars
        let xs = "x=[\(x.map { "\($0)" }.joined(separator: ","))]"
        // J(W2 (W1 x)) = W2 W1
        expectMatrix(try J("W2 @ (W1 @ x)", "W1=\(literal(w1)),W2=\(literal(w2)),\(xs)"), product(w2, w1))
        // ... which is W1² when W1 = W2 (square).
        let s = random(4, 4, &rng)
        expectMatrix(try J("f = W1@x; W2@f", "W1=\(literal(s)),W2=\(literal(s)),\(xs)"), product(s, s))
    }

    @Test func nonlinearJacobianAgreesInBothModes() throws {
        let program = try ExpressionProgram(parsing: "tanh(W@x) * sum(x) + x^2")
        let at = try Bindings.parse("W=[[1,2],[3,4]],x=[0.3,-0.2]")
        let j = try ExpressionJacobian(program: program, wrt: "x", at: at)
        #expect(j.modesAgree && j.maxDifference < 1e-12)
        // Central differences, column by column.
        let eps = 1e-6
        for c in 0..<2 {
            func f(_ d: Double) throws -> [Double] {
                var x = at[1].value.scalars
                x[c] += d
                return try ExpressionGraph.evaluate(program, with: ["W": at[0].value, "x": Tensor(x)]).scalars
            }
            let plus = try f(eps), minus = try f(-eps)
            for r in 0..<2 {
                #expect(abs((plus[r] - minus[r]) / (2 * eps) - j.matrix.scalars[r * 2 + c]) < 1e-8)
            }
        }
    }

    @Test func reportPrintsTheMatrixAndTheCheck() throws {
        let text = try JacobianCommand.output(program: "W2 @ (W1 @ x)", wrt: "x",
                                              at: ["W1=[[1,2],[3,4]]", "W2=[[0,1],[1,1]]", "x=[1,-1]"])
        #expect(text == """
            J = ∂(W2 @ (W1 @ x))/∂x: output shape [2], input shape [2], a 2 x 2 matrix (row i: ∂(W2 @ (W1 @ x))_i/∂x_j, elements in row-major order)
            [[3, 4],
             [4, 6]]
            reverse mode (2 backward passes, one per output element) and forward mode (2 Jacobian-vector products, one per input element) agree: max |difference| = 0

            """)
    }

    @Test func unknownVariableIsNamed() {
        #expect(throws: ExpressionError("no variable 'q' to differentiate with respect to; the variables given values are: x",
                                        subject: .wrt("q"))) {
            try ExpressionJacobian(program: ExpressionProgram(parsing: "x*x"), wrt: "q", at: Bindings.parse("x=1"))
        }
    }
}

import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

@Suite("Expression language")
struct ExpressionTests {
    func error(_ program: String) -> String? {
        do { _ = try ExpressionProgram(parsing: program); return nil } catch { return "\(error)" }
    }

    func value(_ program: String, _ at: String) throws -> [Double] {
        try ExpressionGraph(program: ExpressionProgram(parsing: program), at: Bindings.parse(at)).nodes.last!.value.scalars
    }

    @Test func parseErrorsGiveLineColumnAndWhatWasExpected() {
        #expect(error("a = x*y*") == "1:9: expected an expression after '*'")
        #expect(error("a = x*y +") == "1:10: expected an expression after '+'")
        #expect(error("a = (x + y") == "1:11: expected ')' to close the '(' at 1:5, found end of input")
        #expect(error("a = x y") == "1:7: expected an operator, ';' or a new line before 'y'")
        #expect(error("a = x\nb = a +\nc = b") == "2:8: expected an expression after '+'")
        #expect(error("w = foo(x)")?.hasPrefix("1:5: unknown function 'foo'; the functions are exp, log, sqrt") == true)
        #expect(error("w = x $ y") == "1:7: unexpected character '$'")
        #expect(error("w = ") == "1:5: expected an expression after '='")
        #expect(error("w = exp x") == "1:9: expected '(' after the function 'exp'")
        #expect(error(";;") == "1:3: expected a statement such as 'w = x*y + z'")
        #expect(error("w = [[1, 2], [3]]")?.hasPrefix("1:5: ragged nested array") == true)
    }

    @Test func precedenceAndAssociativity() throws {
        #expect(try value("-x^2", "x=3") == [-9])
        #expect(try value("2^3^2", "") == [512])
        #expect(try value("x - y - z", "x=10,y=3,z=2") == [5])
        #expect(try value("8/2/2", "") == [2])
        #expect(try value("1 + 2*3", "") == [7])
        #expect(try value("(1 + 2)*3", "") == [9])
        #expect(try value("2*-x", "x=4") == [-8])
        #expect(try value("x^-1", "x=4") == [0.25])
        #expect(try value("1.5e1 + .5", "") == [15.5])
        // An integral power of a negative base is real, as in PyTorch (core pow kernel fix).
        #expect(try value("x^3 + x^-1 + x^y", "x=-2,y=3") == [-16.5])
    }

    @Test func statementsSeparatedBySemicolonsOrNewlines() throws {
        let program = try ExpressionProgram(parsing: "a = x + 1  # a comment\n\nb = (a *\n  2); c = b - a")
        #expect(program.statements.map(\.name) == ["a", "b", "c"])
        #expect(try value("a = x + 1\nb = (a *\n 2); c = b - a", "x=1") == [2])
    }

    @Test func functionsApplyTheLibraryOps() throws {
        let x = [-1.5, 0.3, 2.0]
        let at = "x=[-1.5, 0.3, 2]"
        #expect(try value("exp(x)", at) == exp(Tensor(x)).scalars)
        #expect(try value("tanh(x) + sigmoid(x)", at) == (tanh(Tensor(x)) + sigmoid(Tensor(x))).scalars)
        #expect(try value("relu(x)", at) == [0, 0.3, 2])
        #expect(try value("abs(x)", at) == [1.5, 0.3, 2])
        #expect(try value("sum(x)", at) == Tensor(x).sum().scalars)
        #expect(try value("mean(x)", at)[0].isApproximatelyEqual(to: 0.8 / 3))
        #expect(try value("gelu(x)", at) == gelu(Tensor(x)).scalars)
        #expect(try value("softplus(x)", at) == softplus(Tensor(x)).scalars)
        #expect(try value("sqrt(abs(x)) + log(abs(x)) + sin(x) * cos(x)", at)
                == (sqrt(abs(Tensor(x))) + log(abs(Tensor(x))) + sin(Tensor(x)) * cos(Tensor(x))).scalars)
    }

    @Test func bindingsKeepCommasInsideBrackets() throws {
        let b = try Bindings.parse("W=[[1,2],[3,4]],x=[1,1],c=-0.5,d=2e-3")
        #expect(b.map(\.name) == ["W", "x", "c", "d"])
        #expect(b[0].value == Tensor<Double>([[1, 2], [3, 4]]))
        #expect(b[1].value == Tensor<Double>([1, 1]))
        #expect(b[2].value.shape == [] && b[2].value.item == -0.5)
        #expect(b[3].value.item == 0.002)
        #expect(try Bindings.parse("").isEmpty)
    }

    @Test func bindingErrorsNameTheColumn() {
        func message(_ s: String) -> String? { do { _ = try Bindings.parse(s); return nil } catch { return "\(error)" } }
        #expect(message("x=[1,") == "values \"x=[1,\", column 6: expected a number in the tensor literal, found end of input")
        #expect(message("x=1,y") == "values \"x=1,y\", column 6: expected '=' after 'y', found end of input")
        #expect(message("x=1;y=2") == "values \"x=1;y=2\", column 4: expected ',' between values, found ';'")
        #expect(throws: ExpressionError("expected ',' between values, found ';'", at: SourcePosition(line: 1, column: 4),
                                        subject: .values("x=1;y=2"))) { try Bindings.parse("x=1;y=2") }
        #expect(message("W=[[1,2],[3]]")?.contains("ragged nested array") == true)
        #expect(message("x=1,x=2")?.contains("'x' is given twice") == true)
    }

    @Test func unboundVariablesAndShapeMismatchesAreNamed() throws {
        func message(_ program: String, _ at: String) -> String? {
            do { _ = try ExpressionGraph(program: ExpressionProgram(parsing: program), at: Bindings.parse(at)); return nil }
            catch { return "\(error)" }
        }
        #expect(message("w = x * q", "x=1") == "1:9: unbound variable 'q' (defined: x)")
        // Shape errors are the ops' own rules (ShapeRule), the text their preconditions stop with.
        #expect(message("w = x + y", "x=[1,2],y=[1,2,3]") == "1:7: add: shapes [2] and [3] cannot be broadcast together")
        #expect(message("w = W @ x", "W=[[1,2],[3,4]],x=[1,2,3]") == "1:7: matmul: [2, 2] x [3]: inner dimensions 2 and 3 differ")
        #expect(message("w = x @ y", "x=2,y=3") == "1:7: matmul: [] x []: both operands need at least one axis (use * to scale by a number)")
        #expect(message("w = x ^ y", "x=[1,2],y=[1,2,3]") == "1:7: pow: shapes [2] and [3] cannot be broadcast together")
        #expect(message("a = x; a = x + 1", "x=1") == "1:8: 'a' is already assigned; each name is one node of the graph")
        #expect(message("x = 2", "x=1") == "1:1: 'x' is given a value; each name is one node of the graph")
        // Broadcasting that is valid goes through.
        #expect(message("w = W * x + 1", "W=[[1,2],[3,4]],x=[1,2]") == nil)
    }
}

extension Double {
    fileprivate func isApproximatelyEqual(to other: Double) -> Bool { Swift.abs(self - other) <= 1e-12 * Swift.max(1, Swift.abs(other)) }
}

import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Programmer mistakes stop with a message that names the op and the shapes.
/// Exit tests run the body in a child process and read its stderr.
@Suite("Error messages")
struct ErrorMessageTests {
    @Test func matmulInnerDimensions() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([2, 3]))
        }
        #expect(stderrText(r).contains("matmul: [2, 3] x [2, 3]: inner dimensions 3 and 2 differ"))
    }

    @Test func broadcastMismatch() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]) + Tensor<Float>.zeros([4])
        }
        #expect(stderrText(r).contains("add: shapes [2, 3] and [4] cannot be broadcast together"))
    }

    @Test func raggedArray() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let _: Tensor<Float> = [[1, 2], [3]]
        }
        #expect(stderrText(r).contains("ragged nested array"))
    }

    @Test func reshapeCount() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).reshaped(to: [4])
        }
        #expect(stderrText(r).contains("reshape: cannot reshape tensor of shape [2, 3] (6 elements) to [4]"))
    }

    @Test func backwardOnNonScalar() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            (Tensor<Float>([1, 2]).requiringGrad() * 2).backward()
        }
        #expect(stderrText(r).contains("backward: output has shape [2]; a non-scalar needs a seed gradient"))
    }

    @Test func backwardTwice() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor<Float>(2).requiringGrad()
            let y = x * x
            y.backward()
            y.backward()
        }
        #expect(stderrText(r).contains("a second time"))
    }

    @Test func raggedArrayIsReportedWithoutTrapping() {
        let nested: NestedArray = [[1, 2], [3]]
        guard case .failure(let e) = nested.validatedShape() else { Issue.record("expected an error"); return }
        #expect(e.message == "ragged nested array: element [1] has shape [1], element [0] has shape [2]")
    }
}

private func stderrText(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

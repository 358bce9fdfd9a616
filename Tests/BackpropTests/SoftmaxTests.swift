import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

@Suite("Softmax and softargmax")
struct SoftmaxTests {
    @Test func reportForOneTwoThree() throws {
        let text = try SoftmaxCommand.output(values: "1,2,3", betas: "1,10")
        // β = 1: e^i / (e + e² + e³) = [0.0900, 0.2447, 0.6652]; log(e + e² + e³) = 3.40761.
        #expect(text.contains("[0.0900, 0.2447, 0.6652]"))
        #expect(text.contains("3.407606"))
        // β = 10: nearly one-hot, and within log(3)/10 of the max.
        #expect(text.contains("[0.0000, 0.0000, 1.0000]"))
        #expect(text.contains("tends to the one-hot vector of index 2"))
        #expect(text.contains("tends to max(e) = 3 from above"))
        try VizTestSupport.checkGolden(text, "softmax_123.txt")
    }

    @Test(arguments: [0.5, 1, 4, 50, 1000])
    func smoothMaximumLiesBetweenMaxAndMaxPlusLogNOverBeta(beta: Double) {
        let e = Tensor<Double>([0.3, -1.2, 2.5, 2.1])
        let m = smoothMaximum(e, beta: beta).item
        #expect(m >= 2.5 - 1e-12 && m <= 2.5 + log(4.0) / beta + 1e-12)
        let p = softargmax(e, beta: beta).scalars
        #expect(abs(p.reduce(0, +) - 1) < 1e-12)
    }

    @Test func tiesAndErrors() throws {
        let text = try softmaxReport(values: [1, 3, 3], betas: [100])
        #expect(text.contains("1/2 on each of the tied maxima (indices 1, 2)"))
        #expect(throws: (any Error).self) { try softmaxReport(values: [1, 2], betas: [0]) }
        #expect(throws: (any Error).self) { try SoftmaxCommand.output(values: "1,x", betas: "1") }
        #expect(throws: (any Error).self) { try SoftmaxCommand.output(values: "", betas: "1") }
        // A negative first value is a value, not an option.
        let command = try SoftmaxCommand.parse(["-1,2,3", "--beta", "-1,1"])
        #expect(command.values == ["-1,2,3"] && command.beta == "-1,1")
    }
}

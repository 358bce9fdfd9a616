import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Asserts elementwise closeness with a message that shows both tensors.
func expectClose<S: TensorScalar>(_ actual: Tensor<S>, _ expected: Tensor<S>, rtol: S = 1e-6, atol: S = 1e-9,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "shape \(actual.shape) != \(expected.shape)", sourceLocation: sourceLocation)
    #expect(actual.isClose(to: expected, rtol: rtol, atol: atol), "\(actual) != \(expected)", sourceLocation: sourceLocation)
}

func expectClose(_ actual: Double, _ expected: Double, tol: Double = 1e-9,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Swift.abs(actual - expected) <= tol * Swift.max(1, Swift.abs(expected)), "\(actual) != \(expected)",
            sourceLocation: sourceLocation)
}

/// Runs gradcheck and records the worst element on failure.
func expectGradcheck(_ name: String, _ inputs: [Tensor<Double>], atol: Double = 1e-5, rtol: Double = 1e-4,
                     sourceLocation: SourceLocation = #_sourceLocation,
                     _ f: @escaping ([Tensor<Double>]) -> Tensor<Double>) {
    let r = gradcheck(f, at: inputs, atol: atol, rtol: rtol)
    #expect(r.passed, "\(name): \(r)", sourceLocation: sourceLocation)
}

func randn(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var g = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape, generator: &g)
}

import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// Core's functional activations against PyTorch (float64): values and the
/// gradient of Σ upstream ⊙ f(x), including exact zeros (the kink
/// conventions) and both branches of softplus's threshold.
@Suite("Activation fixtures")
struct ActivationFixtureTests {
    static func activation(_ name: String, _ params: [String: Any]) throws -> (Tensor<Double>) -> Tensor<Double> {
        let number = { (key: String) in try #require(params[key] as? Double, "\(name): missing \(key)") }
        let axis = { try #require((params["dim"] as? NSNumber)?.intValue, "\(name): missing dim") }
        switch name {
        case "relu": return { relu($0) }
        case "relu_scaled": let s = try number("scale"); return { relu($0) * s }
        case "leaky_relu": let a = try number("negative_slope"); return { leakyReLU($0, negativeSlope: a) }
        case "tanh": return { tanh($0) }
        case "sigmoid": return { sigmoid($0) }
        case "softplus":
            let b = try number("beta"), t = try number("threshold")
            return { softplus($0, beta: b, threshold: t) }
        case "gelu":
            let modeName = try #require(params["approximate"] as? String)
            let mode = try #require(GELUApproximation(rawValue: modeName))
            return { gelu($0, approximate: mode) }
        case "elu": let a = try number("alpha"); return { elu($0, alpha: a) }
        case "silu": return { silu($0) }
        case "softmax": let d = try axis(); return { softmax($0, axis: d) }
        case "log_softmax": let d = try axis(); return { logSoftmax($0, axis: d) }
        case "softargmax": let b = try number("beta"), d = try axis(); return { softargmax($0, beta: b, axis: d) }
        case "smooth_max": let b = try number("beta"), d = try axis(); return { smoothMaximum($0, beta: b, axis: d) }
        default: throw LossTests.FixtureError.unknown(name)
        }
    }

    @Test("forward and backward of every activation match PyTorch")
    func cases() throws {
        let root = try PyTorchFixture.object("activations.json")
        let cases = try #require(root["cases"] as? [[String: Any]])
        #expect(cases.count >= 18)
        for c in cases {
            let id = try #require(c["id"] as? String)
            let name = try #require(c["name"] as? String)
            let f = try Self.activation(name, c["params"] as? [String: Any] ?? [:])
            let x = try PyTorchFixture.tensor(c["x"]).requiringGrad()
            let y = f(x)
            expectClose(y, try PyTorchFixture.tensor(c["y"]), "\(id) y")
            y.backward(seed: try PyTorchFixture.tensor(c["upstream"]))
            expectClose(try #require(x.grad), try PyTorchFixture.tensor(c["dx"]), "\(id) dx")
        }
    }

    @Test("derivative curves at fixed points (the lecture) match PyTorch")
    func points() throws {
        let points = try PyTorchFixture.object("activations.json")["activation_points"] as? [[String: Any]] ?? []
        #expect(points.count >= 4)
        for p in points {
            let id = try #require(p["id"] as? String)
            let name = try #require(p["name"] as? String)
            let f = try Self.activation(name, p["params"] as? [String: Any] ?? [:])
            let x = try PyTorchFixture.tensor(p["x"])
            let (y, dydx) = vjp(of: f, at: x, cotangent: Tensor.ones(like: x))
            expectClose(y, try PyTorchFixture.tensor(p["y"]), "\(id) y")
            expectClose(dydx, try PyTorchFixture.tensor(p["dydx"]), "\(id) dy/dx")
        }
    }
}

import Testing
import Backprop
@testable import BackpropCore

/// The C kernels are requirements of ``TensorScalar`` (`S.sgdStep`, `S.adamStep`, `S.im2col`, ...),
/// answered once per type; each type's answer against values worked by hand.
@Suite("Scalar type requirements: optimizer steps and im2col per type")
struct ScalarKernelTests {
    func close<S: TensorScalar>(_ a: [S], _ b: [Double], _ tolerance: Double) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance }
    }

    /// p = [1, -2], grad = [0.5, 1], η = 0.1, μ = 0.9, λ = 0.1, two steps with the same gradient:
    ///   step 1: g = grad + λp = [0.6, 0.8], b = g, p = p - ηb = [0.94, -2.08]
    ///   step 2: g = [0.594, 0.792], b = 0.9 [0.6, 0.8] + g = [1.134, 1.512], p = [0.8266, -2.2312]
    func sgd<S: TensorScalar>(_: S.Type, tolerance: Double) {
        var p: [S] = [1, -2], b: [S] = [0, 0]
        let g: [S] = [0.5, 1]
        for first in [true, false] {
            S.sgdStep(param: &p, grad: g, momentumBuffer: &b, count: 2, learningRate: 0.1, momentum: 0.9, dampening: 0,
                      nesterov: false, weightDecay: 0.1, firstStep: first, kernelPath: -1)
            if first { #expect(close(p, [0.94, -2.08], tolerance) && close(b, [0.6, 0.8], tolerance), "\(S.self) \(p)") }
        }
        #expect(close(b, [1.134, 1.512], tolerance), "\(S.self) \(b)")
        #expect(close(p, [0.8266, -2.2312], tolerance), "\(S.self) \(p)")
    }

    /// Adam's first step, η = 0.1, β = (0.9, 0.999), ε = 1e-8, grad = [2, -0.5]:
    /// m = 0.1 grad = [0.2, -0.05], v = 0.001 grad² = [0.004, 0.00025], step size η / (1 - β1) = 1,
    /// √v / √(1 - β2) = |grad| = [2, 0.5], so each parameter moves by η against its gradient's sign:
    /// p = [1, 3] -> [0.9, 3.1]. AdamW with λ = 0.1 first scales p by 1 - ηλ = 0.99: [0.89, 3.07].
    func adam<S: TensorScalar>(_: S.Type, tolerance: Double) {
        for (decay, expected) in [(S(1), [0.9, 3.1]), (S(0.99), [0.89, 3.07])] {
            var p: [S] = [1, 3], m: [S] = [0, 0], v: [S] = [0, 0]
            S.adamStep(param: &p, grad: [2, -0.5], firstMoment: &m, secondMoment: &v, maxSecondMoment: nil, count: 2,
                       stepSize: 1, biasCorrection2Sqrt: S(0.001).squareRoot(), beta1: 0.9, beta2: 0.999, eps: 1e-8,
                       l2Decay: 0, decoupledDecayFactor: decay, kernelPath: -1)
            #expect(close(m, [0.2, -0.05], tolerance) && close(v, [0.004, 0.00025], tolerance), "\(S.self) \(m) \(v)")
            #expect(close(p, expected, tolerance), "\(S.self) decay \(decay): \(p)")
        }
    }

    /// x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], a 2 x 2 window: stride 1 without padding gives the four
    /// windows' taps as rows; stride 2 with padding 1 puts zeros where a tap falls outside.
    func im2col<S: TensorScalar>(_: S.Type) {
        let x: [S] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        func geometry(stride: Int, pad: Int) -> ConvGeometry {
            ConvGeometry(batch: 1, channels: 1, height: 3, width: 3, outChannels: 1, kernelH: 2, kernelW: 2,
                         strideH: stride, strideW: stride, padTop: pad, padBottom: pad, padLeft: pad, padRight: pad,
                         dilationH: 1, dilationW: 1, groups: 1)
        }
        let plain = geometry(stride: 1, pad: 0), padded = geometry(stride: 2, pad: 1)
        #expect(plain.outH == 2 && padded.outH == 2)
        var cols = [S](repeating: .nan, count: 16)
        S.im2col(x, geometry: plain.imageGeometry, cols: &cols, ld: 4)
        #expect(cols == [1, 2, 4, 5,  2, 3, 5, 6,  4, 5, 7, 8,  5, 6, 8, 9], "\(S.self)")
        S.im2col(x, geometry: padded.imageGeometry, cols: &cols, ld: 4)
        #expect(cols == [0, 0, 0, 5,  0, 0, 4, 6,  0, 2, 0, 8,  1, 3, 7, 9], "\(S.self)")
        // col2im, the adjoint: all-ones columns count the windows covering each element.
        var dx = [S](repeating: .nan, count: 9)
        S.col2im([S](repeating: 1, count: 16), ld: 4, geometry: plain.imageGeometry, dx: &dx)
        #expect(dx == [1, 2, 1, 2, 4, 2, 1, 2, 1], "\(S.self)")
    }

    @Test("SGD with momentum and weight decay: two steps, each type's kernel")
    func sgdSteps() {
        sgd(Float.self, tolerance: 1e-6)
        sgd(Double.self, tolerance: 1e-14)
    }

    @Test("Adam and AdamW: the first step, each type's kernel")
    func adamSteps() {
        adam(Float.self, tolerance: 1e-6)
        adam(Double.self, tolerance: 1e-8)   // ε moves p by up to 2e-9
    }

    @Test("im2col and col2im of one image, each type's kernel")
    func im2colPerType() {
        im2col(Float.self)
        im2col(Double.self)
    }
}

import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

@Suite("Autograd")
struct AutogradTests {
    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor<Double>([1, 2]).requiringGrad()
        (x * 3).sum().backward()
        (x * x).sum().backward()
        #expect(x.grad! == [5, 7])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func broadcastGradientsAreSummedBackToInputShape() {
        let a = randn([4, 3], seed: 1).requiringGrad()
        let b = randn([3], seed: 2).requiringGrad()
        let c = randn([4, 1], seed: 3).requiringGrad()
        let s = Tensor<Double>(2).requiringGrad()
        ((a + b) * c * s).sum().backward()
        #expect(b.grad!.shape == [3] && c.grad!.shape == [4, 1] && s.grad!.shape == [])
        expectClose(b.grad!, (c.detached() * s.detached()).sum(axis: 0, keepDims: false).expanded(to: [3]) * 1)
        expectClose(c.grad!, ((a.detached() + b.detached()) * s.detached()).sum(axis: 1, keepDims: true))
        expectClose(s.grad!, ((a.detached() + b.detached()) * c.detached()).sum())
        expectGradcheck("broadcast", [randn([4, 3], seed: 1), randn([3], seed: 2), randn([4, 1], seed: 3)]) { t in
            (t[0] + t[1]) * t[2] - t[1] / (t[2].squared() + 1)
        }
    }

    @Test func detachedAndNoGradRecordNothing() {
        let x = Tensor<Double>([1, 2]).requiringGrad()
        #expect(!(x.detached() * 2).requiresGrad)
        let y = noGrad { x * 2 }
        #expect(!y.requiresGrad && y.isLeaf)
        #expect(isGradEnabled)
        let z = noGrad { enableGrad { x * 2 } }
        #expect(z.requiresGrad)
    }

    @Test func retainGraphAllowsASecondBackward() {
        let x = Tensor<Double>(3).requiringGrad()
        let y = x * x
        y.backward(retainGraph: true)
        y.backward()
        #expect(x.grad!.item == 12)
    }

    @Test func retainGradKeepsIntermediateGradients() {
        let x = Tensor<Double>(2).requiringGrad()
        let h = x * 3
        h.retainGrad()
        (h * h).backward()
        #expect(h.grad!.item == 12 && x.grad!.item == 36)
    }

    @Test func gradientsFunctionLeavesGradUntouched() {
        let x = Tensor<Double>([1, 2]).requiringGrad()
        let g = gradients(of: (x * x).sum(), wrt: [x])
        #expect(g[0] == [2, 4])
        #expect(x.grad == nil)
    }

    @Test func secondDerivativeOfTanh() {
        // d²/dx² tanh x = -2 tanh x (1 - tanh² x)
        for v in [-1.5, -0.2, 0.0, 0.7, 2.0] {
            let x = Tensor<Double>(v).requiringGrad()
            let dy = gradients(of: tanh(x), wrt: [x], createGraph: true)[0]
            let d2y = gradients(of: dy, wrt: [x])[0]
            let t = Double.tanh(v)
            expectClose(dy.item, 1 - t * t, tol: 1e-14)
            expectClose(d2y.item, -2 * t * (1 - t * t), tol: 1e-14)
        }
        // The same through backward(createGraph:) and .grad.
        let x = Tensor<Double>(0.3).requiringGrad()
        tanh(x).backward(createGraph: true)
        let first = x.grad!
        x.zeroGrad()
        first.backward()
        expectClose(x.grad!.item, -2 * Double.tanh(0.3) * (1 - Double.tanh(0.3) * Double.tanh(0.3)), tol: 1e-14)
    }

    @Test func hessianOfQuadraticFormIsAPlusATranspose() {
        let a = randn([4, 4], seed: 21), x = randn([4], seed: 22)
        let h = hessian(of: { x in (x * matmul(a, x)).sum() }, at: x)
        expectClose(h, a + a.T, rtol: 1e-12, atol: 1e-12)
    }

    @Test func transformsAgreeWithEachOther() {
        let w = randn([3, 4], seed: 31), x = randn([4], seed: 32), u = randn([3], seed: 33), v = randn([4], seed: 34)
        let f = { (x: Tensor<Double>) in tanh(matmul(w, x)) }
        let j = jacobian(of: f, at: x)
        expectClose(jacobian(of: f, at: x, mode: .forward), j, rtol: 1e-12, atol: 1e-14)
        expectClose(vjp(of: f, at: x, cotangent: u).vjp, matmul(u, j), rtol: 1e-12, atol: 1e-14)
        expectClose(jvp(of: f, at: x, tangent: v).jvp, matmul(j, v), rtol: 1e-12, atol: 1e-14)
        let (value, grad) = valueWithGradient(of: { f($0).sum() }, at: x)
        expectClose(value, f(x).sum())
        expectClose(grad, j.sum(axis: 0), rtol: 1e-12, atol: 1e-14)
        expectClose(gradient(of: { f($0).sum() }, at: x), grad)
        let multi = gradient(of: { p in (p[0] * p[1]).sum() }, at: [x, v])
        expectClose(multi[0], v)
        expectClose(multi[1], x)
    }

    @Test func gradientsComeBackInTheParameterShape() {
        let w = randn([2, 3], seed: 41).requiringGrad(), b = randn([2], seed: 42).requiringGrad()
        let x = randn([5, 3], seed: 43)
        (matmul(x, w.T) + b).squared().mean().backward()
        #expect(w.grad!.shape == [2, 3] && b.grad!.shape == [2])
    }

    @Test func gradcheckReportsTheWorstElement() {
        // A deliberately wrong derivative: sign has zero gradient but the function is x·|x|' ≠ 0.
        let r = gradcheck({ x in Tensor<Double>.record("bad", [x[0]], x[0].mapped(.square).handle.storage, shape: x[0].shape) { g, _, _ in [g] } },
                          at: [Tensor<Double>([1, 3])])
        #expect(!r.passed)
        #expect(r.worstElement == 1 && r.worstOutputElement == 1)
        expectClose(r.analytic, 1)
        expectClose(r.numeric, 6, tol: 1e-6)
        #expect(r.description.contains("FAILED"))
    }
}

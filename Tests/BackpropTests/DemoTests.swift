import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

/// `backprop demo`: the lab's network, with the backward pass worked by hand:
/// dC/do = 2(o - y) = (0, 14); dC/dh = Mᵀ(0, 14) = (42, 56, 14); all z > 0, so
/// dC/dz = dC/dh; dC/dW = dC/dz xᵀ; dC/dx = Wᵀ dC/dz = (252, 406).
@Suite("Demo")
struct DemoTests {
    @Test func labNetworkNumbers() {
        let r = LabNetwork().run()
        #expect(r.z == [24, 47, 86] && r.h == [24, 47, 86])
        #expect(r.o == [320, 347])
        #expect(r.cost == 49)
        #expect(r.dCdo == [0, 14])
        #expect(r.dCdM == [[0, 0, 0], [336, 658, 1204]])
        #expect(r.dCdc == [0, 14])
        #expect(r.dCdh == [42, 56, 14] && r.dCdz == [42, 56, 14] && r.dCdb == [42, 56, 14])
        #expect(r.dCdW == [[420, 210], [560, 280], [140, 70]])
        #expect(r.dCdx == [252, 406])
    }

    @Test func reportShowsTheTables() {
        let text = LabNetwork().report()
        #expect(text.contains("o       M h + c               [2]       tensor([320., 347.])"))
        #expect(text.contains("dC/dx   Wᵀ dC/dz              [2]       tensor([252., 406.])"))
        #expect(text.contains("                                        [ 336.,  658., 1204.]])"))
    }
}

/// The README's tensor example prints what the README says.
@Suite("README")
struct ReadmeTests {
    @Test func tensorExample() {
        let w = Tensor<Double>([[1, 5, 7], [3, 2, 4]], requiresGrad: true)
        let x = Tensor<Double>([2, 10, 5], requiresGrad: true)
        let b = Tensor<Double>([4, 9], requiresGrad: true)
        let z = matmul(w, x) + b
        #expect(z.description == "tensor([91., 55.], dtype=torch.float64, grad_fn=<AddBackward>)")
        z.backward(seed: [1, 1])
        #expect(x.grad!.description == "tensor([ 4.,  7., 11.], dtype=torch.float64)")
        #expect(w.grad! == [[2, 10, 5], [2, 10, 5]])
        #expect(w.grad!.description == "tensor([[ 2., 10.,  5.],\n        [ 2., 10.,  5.]], dtype=torch.float64)")
    }
}

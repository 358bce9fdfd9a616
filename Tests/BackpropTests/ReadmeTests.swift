import Testing
import Backprop

@Suite("README examples, as written")
struct ReadmeTests {
    /// "Tensors and autograd": the lab's linear layer, with what each `print` shows.
    @Test func tensorsAndAutograd() {
        let w = Tensor<Double>([[1, 5, 7], [3, 2, 4]], requiresGrad: true)
        let x = Tensor<Double>([2, 10, 5], requiresGrad: true)
        let b = Tensor<Double>([4, 9], requiresGrad: true)
        let z = matmul(w, x) + b
        #expect("\(z)" == "tensor([91., 55.], dtype=torch.float64, grad_fn=<AddBackward>)")
        z.backward(seed: [1, 1])
        #expect("\(x.grad!)" == "tensor([ 4.,  7., 11.], dtype=torch.float64)")
        #expect("\(w.grad!)" == "tensor([[ 2., 10.,  5.],\n        [ 2., 10.,  5.]], dtype=torch.float64)")
    }
}

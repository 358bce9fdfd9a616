import BackpropCore
import BackpropNN
import BackpropData
import BackpropTraining
import Foundation

/// The lab's full network of the lab, worked forward and backward with the
/// library's autograd: x = (10, 5) -> Linear(W, b) -> ReLU -> Linear(M, c)
/// -> o, with the squared-distance cost C = ||o - y||² and y = (320, 340).
///
/// ```swift
/// print(LabNetwork().report())
/// ```
public struct LabNetwork {
    /// The input x = (10, 5).
    public let x: Tensor<Double> = [10, 5]
    /// The target y = (320, 340).
    public let y: Tensor<Double> = [320, 340]
    /// The first layer's weight W (3 x 2).
    public let w: Tensor<Double> = [[1, 2], [2, 5], [7, 3]]
    /// The first layer's bias b.
    public let b: Tensor<Double> = [4, 2, 1]
    /// The second layer's weight M (2 x 3).
    public let m: Tensor<Double> = [[4, 1, 2], [3, 4, 1]]
    /// The second layer's bias c.
    public let c: Tensor<Double> = [5, 1]

    /// Every intermediate value and gradient.
    public struct Result {
        /// z = W x + b, h = ReLU(z), o = M h + c.
        public let z, h, o: Tensor<Double>
        /// C = ||o - y||² (49 for the lab's numbers: o = (320, 347)).
        public let cost: Double
        /// dC/d(each value and parameter), each in the shape of what it differentiates.
        public let dCdo, dCdM, dCdc, dCdh, dCdz, dCdW, dCdb, dCdx: Tensor<Double>
    }

    /// The lab's network with the lab's numbers.
    ///
    /// ```swift
    /// let result = LabNetwork().run()
    /// result.cost   // 49.0
    /// ```
    public init() {}

    /// Runs the forward pass, then `backward()` from the cost.
    public func run() -> Result {
        let (xv, wv, bv, mv, cv) = (x.detached().requiringGrad(), w.detached().requiringGrad(),
                                    b.detached().requiringGrad(), m.detached().requiringGrad(),
                                    c.detached().requiringGrad())
        let z = matmul(wv, xv) + bv
        let h = relu(z)
        let o = matmul(mv, h) + cv
        for t in [z, h, o] { t.retainGrad() }
        let cost = (o - y).squared().sum()
        cost.backward()
        return Result(z: z.detached(), h: h.detached(), o: o.detached(), cost: cost.item,
                      dCdo: o.grad!, dCdM: mv.grad!, dCdc: cv.grad!, dCdh: h.grad!, dCdz: z.grad!,
                      dCdW: wv.grad!, dCdb: bv.grad!, dCdx: xv.grad!)
    }

    /// The forward and backward tables as text.
    public func report() -> String {
        let r = run()
        func row(_ name: String, _ formula: String, _ t: Tensor<Double>) -> String {
            let label = (name + String(repeating: " ", count: max(0, 8 - name.count)))
            let f = formula + String(repeating: " ", count: max(0, 22 - formula.count))
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
            let body = t.description.replacingOccurrences(of: ", dtype=torch.float64", with: "")
                .replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: 40))
            return label + f + shape + String(repeating: " ", count: max(1, 10 - shape.count)) + body
        }
        var lines = ["The lab's worked network: x -> Linear(W, b) -> ReLU -> Linear(M, c) -> o, C = ||o - y||²", "",
                     "Forward"]
        lines += [row("x", "input", x), row("z", "W x + b", r.z), row("h", "ReLU(z)", r.h),
                  row("o", "M h + c", r.o), row("y", "target", y),
                  "C       ||o - y||²              " + String(r.cost)]
        lines += ["", "Backward (each gradient in the shape of its parameter)"]
        lines += [row("dC/do", "2 (o - y)", r.dCdo), row("dC/dM", "dC/do hᵀ", r.dCdM), row("dC/dc", "dC/do", r.dCdc),
                  row("dC/dh", "Mᵀ dC/do", r.dCdh), row("dC/dz", "dC/dh ⊙ 1[z > 0]", r.dCdz),
                  row("dC/dW", "dC/dz xᵀ", r.dCdW), row("dC/db", "dC/dz", r.dCdb), row("dC/dx", "Wᵀ dC/dz", r.dCdx)]
        return lines.joined(separator: "\n") + "\n"
    }
}

import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropData

/// What differs between Float and Double is a requirement of the scalar type
/// (``TensorScalar``, ``StorableScalar``); these check each type's answers.
@Suite("Scalar type requirements")
struct ScalarTypeTests {
    /// A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]:
    /// A B = [[58, 64], [139, 154]] (worked by hand).
    func products<S: TensorScalar>(_: S.Type) {
        let a: [S] = [1, 2, 3, 4, 5, 6], aT: [S] = [1, 4, 2, 5, 3, 6]
        let b: [S] = [7, 8, 9, 10, 11, 12], bT: [S] = [7, 9, 11, 8, 10, 12]
        let expected: [S] = [58, 64, 139, 154]
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [S](repeating: .nan, count: 4)   // overwritten, never read
            S.gemm(transposeA: ta, transposeB: tb, m: 2, n: 2, k: 3, a: ta ? aT : a, lda: ta ? 2 : 3,
                   b: tb ? bT : b, ldb: tb ? 3 : 2, c: &c, ldc: 2, accumulate: false)
            #expect(c == expected, "\(S.self) transposeA \(ta) transposeB \(tb)")
        }
        var c: [S] = [1, 1, 1, 1]
        S.gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2,
               c: &c, ldc: 2, accumulate: true)
        #expect(c == [59, 65, 140, 155])
    }

    @Test("gemm: each type's kernel gives the hand-worked product, with transposes and accumulation")
    func gemm() {
        products(Float.self)
        products(Double.self)
    }

    @Test("dtype names, as PyTorch prints them; only the non-default one is shown")
    func dtypeNames() {
        #expect(Float.dtypeName == "float32" && Double.dtypeName == "float64")
        #expect(Tensor<Float>([1, 2]).description == "tensor([1., 2.])")
        #expect(Tensor<Double>([1, 2]).description == "tensor([1., 2.], dtype=torch.float64)")
    }

    @Test("file dtypes: safetensors F32/F64, npy <f4/<f8, IEEE little-endian bytes")
    func storable() {
        #expect(Float.safetensorsDType == .f32 && Double.safetensorsDType == .f64)
        #expect(SafetensorsDType.of(Double.self).byteCount == 8)
        #expect(Float.npyDescr == "<f4" && Double.npyDescr == "<f8")
        let bytes = Npy.encode(Tensor<Double>([1, -2]))
        let header = String(decoding: bytes[10..<(bytes.count - 16)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"))
        // 1.0 = 0x3FF0_0000_0000_0000, -2.0 = 0xC000_0000_0000_0000, little-endian.
        #expect(Array(bytes.suffix(16)) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0xC0])
        let single = Npy.encode(Tensor<Float>([1]))
        #expect(Array(single.suffix(4)) == [0, 0, 0x80, 0x3F])   // 1.0f = 0x3F80_0000
    }
}

/// Shape arithmetic shared by ops and kernels.
package enum Shape {
    package static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// NumPy broadcasting: align trailing dimensions; each pair must be equal
    /// or contain a 1. Returns nil when the shapes do not broadcast.
    package static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        if a == b { return a }
        let n = max(a.count, b.count)
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Strides of `shape` seen as `target` after broadcasting: 0 on expanded axes.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    /// An axis in -rank..<rank, made non-negative; stops on an axis out of range.
    static func normalize(axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < max(rank, 1), "\(op): axis \(axis) out of range for a tensor of rank \(rank)")
        return a
    }
}

extension Kernels {
    /// Calls `body(outOffset, offsets..., innerCount)` for each innermost run of
    /// an iteration over `shape`, where operand k steps by `strides[k]`.
    /// The last axis is the run; its strides are passed to the body.
    @inline(__always)
    static func forEachRow(shape: [Int], strides: [[Int]], _ body: (Int, [Int]) -> Void) {
        let rank = shape.count
        let total = Shape.count(shape)
        if total == 0 { return }
        if rank == 0 { body(0, [Int](repeating: 0, count: strides.count)); return }
        let inner = shape[rank - 1]
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var offsets = [Int](repeating: 0, count: strides.count)
        var out = 0
        let rows = total / inner
        for _ in 0..<rows {
            body(out, offsets)
            out += inner
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                for k in 0..<strides.count { offsets[k] += strides[k][axis] }
                if index[axis] < shape[axis] { break }
                for k in 0..<strides.count { offsets[k] -= strides[k][axis] * shape[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// out = a op b with NumPy broadcasting to `outShape`.
    static func broadcastBinary<S: TensorScalar>(_ op: BinaryOp, _ a: UnsafePointer<S>, _ aShape: [Int],
                                                 _ b: UnsafePointer<S>, _ bShape: [Int],
                                                 _ out: UnsafeMutablePointer<S>, _ outShape: [Int]) {
        let n = Shape.count(outShape)
        let aCount = Shape.count(aShape), bCount = Shape.count(bShape)
        // Equal counts: the shapes differ only by axes of size 1 ([1, n] + [n]).
        if aShape == bShape || (aCount == n && bCount == n) { binary(op, a, 1, b, 1, out, n); return }
        if bCount == 1 { binary(op, a, 1, b, 0, out, n); return }
        if aCount == 1 { binary(op, a, 0, b, 1, out, n); return }
        // One operand repeats along leading axes (a bias row added to every row): no plan needed.
        if aCount == n, bCount > 0, isTrailingBlock(bShape, of: outShape) {
            for r in stride(from: 0, to: n, by: bCount) { binary(op, a + r, 1, b, 1, out + r, bCount) }
            return
        }
        if bCount == n, aCount > 0, isTrailingBlock(aShape, of: outShape) {
            for r in stride(from: 0, to: n, by: aCount) { binary(op, a, 1, b + r, 1, out + r, aCount) }
            return
        }
        let (shape, strides) = collapse(outShape, [Shape.broadcastStrides(aShape, to: outShape),
                                                   Shape.broadcastStrides(bShape, to: outShape)])
        let inner = shape.last!
        let sa = strides[0].last!, sb = strides[1].last!
        forEachRow(shape: shape, strides: strides) { o, offs in
            binary(op, a + offs[0], sa, b + offs[1], sb, out + o, inner)
        }
    }

    /// Whether `shape`, without its leading 1s, is the trailing axes of `outShape`:
    /// its elements then repeat as one contiguous block of the output.
    static func isTrailingBlock(_ shape: [Int], of outShape: [Int]) -> Bool {
        var lead = 0
        while lead < shape.count && shape[lead] == 1 { lead += 1 }
        let kept = shape.count - lead
        guard kept <= outShape.count else { return false }
        for i in 0..<kept where shape[lead + i] != outShape[outShape.count - kept + i] { return false }
        return true
    }

    /// Merges adjacent axes that every operand walks contiguously, so that
    /// common cases (bias add) become a few long runs.
    static func collapse(_ shape: [Int], _ strides: [[Int]]) -> ([Int], [[Int]]) {
        guard !shape.isEmpty else { return (shape, strides) }
        var outShape = [shape[0]]
        var outStrides = strides.map { [$0[0]] }
        for axis in 1..<shape.count {
            let mergeable = strides.allSatisfy { s in s[axis - 1] == s[axis] * shape[axis] }
            if mergeable {
                outShape[outShape.count - 1] *= shape[axis]
                for k in 0..<strides.count { outStrides[k][outStrides[k].count - 1] = strides[k][axis] }
            } else {
                outShape.append(shape[axis])
                for k in 0..<strides.count { outStrides[k].append(strides[k][axis]) }
            }
        }
        return (outShape, outStrides)
    }

    /// Copies a strided view of `src` (dimensions `shape`, element strides
    /// `srcStrides`) into contiguous `dst`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func gather<S: TensorScalar>(_ src: UnsafePointer<S>, shape: [Int], srcStrides: [Int], _ dst: UnsafeMutablePointer<S>) {
        if shape.isEmpty { dst[0] = src[0]; return }
        let (cshape, cstrides) = collapse(shape, [srcStrides])
        let inner = cshape.last!, step = cstrides[0].last!
        // Blocked transpose for the common 2-D case, which is cache-hostile row by row.
        if cshape.count == 2, step != 1, cstrides[0][0] == 1, inner >= 16, cshape[0] >= 16 {
            let rows = cshape[0], cols = inner
            let block = 32
            var r0 = 0
            while r0 < rows {
                var c0 = 0
                while c0 < cols {
                    for r in r0..<min(r0 + block, rows) {
                        for c in c0..<min(c0 + block, cols) { dst[r * cols + c] = src[r + c * step] }
                    }
                    c0 += block
                }
                r0 += block
            }
            return
        }
        forEachRow(shape: cshape, strides: cstrides) { o, offs in
            let s = src + offs[0], d = dst + o
            if step == 1 { d.update(from: s, count: inner) } else if step == 0 {
                fill(d, s[0], inner)
            } else { for i in 0..<inner { d[i] = s[i * step] } }
        }
    }

    // MARK: reductions over the middle axis of [outer, reduced, inner]

    enum Reduction { case sum, max, min }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func reduce<S: TensorScalar>(_ kind: Reduction, _ x: UnsafePointer<S>, outer: Int, reduced: Int, inner: Int,
                                        _ y: UnsafeMutablePointer<S>) {
        for o in 0..<outer {
            let src = x + o * reduced * inner
            let dst = y + o * inner
            if inner == 1 {
                dst[0] = reduceRow(kind, src, reduced)
                continue
            }
            if reduced == 0 {
                fill(dst, kind == .sum ? 0 : (kind == .max ? -.infinity : .infinity), inner)
                continue
            }
            dst.update(from: src, count: inner)
            for r in 1..<reduced {
                let row = src + r * inner
                switch kind {
                case .sum: zip(UnsafePointer(dst), 1, row, 1, dst, inner, { $0 + $1 }, { $0 + $1 })
                case .max: select(UnsafePointer(dst), 1, row, 1, dst, inner) { $1 > $0 || $1.isNaN ? $1 : $0 }
                case .min: select(UnsafePointer(dst), 1, row, 1, dst, inner) { $1 < $0 || $1.isNaN ? $1 : $0 }
                }
            }
        }
    }

    @inline(__always)
    static func reduceRow<S: TensorScalar>(_ kind: Reduction, _ x: UnsafePointer<S>, _ n: Int) -> S {
        switch kind {
        case .sum:
            var acc = SIMD16<S>(repeating: 0)
            var i = 0
            while i + 16 <= n { acc += loadVector(x + i); i += 16 }
            var s = acc.sum()
            while i < n { s += x[i]; i += 1 }
            return s
        case .max:
            var m = -S.infinity
            for i in 0..<n { let v = x[i]; if v > m || v.isNaN { m = v; if v.isNaN { break } } }
            return m
        case .min:
            var m = S.infinity
            for i in 0..<n { let v = x[i]; if v < m || v.isNaN { m = v; if v.isNaN { break } } }
            return m
        }
    }

    /// Index of the first maximum along the middle axis.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func argmax<S: TensorScalar>(_ x: UnsafePointer<S>, outer: Int, reduced: Int, inner: Int, largest: Bool,
                                        _ y: UnsafeMutablePointer<S>) {
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                var bestValue = x[o * reduced * inner + j]
                for r in 1..<max(reduced, 1) {
                    let v = x[(o * reduced + r) * inner + j]
                    if bestValue.isNaN { break }
                    if v.isNaN || (largest ? v > bestValue : v < bestValue) { best = r; bestValue = v }
                }
                y[o * inner + j] = S(best)
            }
        }
    }
}

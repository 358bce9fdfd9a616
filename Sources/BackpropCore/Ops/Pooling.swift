// Pooling and flattening. One pair of primitives carries all the gradient
// code here: a gather by flat indices and its adjoint, a scatter-add, each
// the other's vjp. Max pooling picks the indices (no gradient flows through
// the choice) and gathers; average pooling is a depthwise convolution with a
// constant kernel; adaptive average pooling is two products with averaging
// matrices; flatten is a reshape. None of those has gradient code.

extension Tensor {
    /// out[i] = self[indices[i]] (flat indices), in the given shape. Block b
    /// of `blocks` equal parts of the indices points only into block b of
    /// the input, which lets the scatter-add of the gradient run in parallel.
    func gatheredFlat(_ indices: [Int], shape outShape: [Int], blocks: Int, window: ConvGeometry? = nil) -> Tensor {
        precondition(indices.count == Shape.count(outShape), "internal: gather of \(indices.count) indices into \(outShape)")
        let storage = TensorStorage<Scalar>.make(uninitializedCount: indices.count)
        indices.withUnsafeBufferPointer { Kernels.gatherFlat(base, $0.baseAddress!, $0.count, storage.base) }
        return gatheredFlat(indices, shape: outShape, blocks: blocks, values: storage, window: window)
    }

    /// ``gatheredFlat(_:shape:blocks:window:)`` whose result, `values`, a kernel
    /// has already computed (max pooling picks and gathers in one pass).
    /// `window`: set when index i lies in the 2 x 2, stride-2 window of output i
    /// (see ``Kernels/maxUnpool2x2(_:_:_:_:)``), which the scatter-add then uses.
    func gatheredFlat(_ indices: [Int], shape outShape: [Int], blocks: Int, values storage: TensorStorage<Scalar>,
                      window: ConvGeometry? = nil) -> Tensor {
        let inShape = shape
        return Tensor.record("gather_flat", [self], storage, shape: outShape) { g, _, _ in
            [g.scatterAddedFlat(indices, into: inShape, blocks: blocks, window: window)]
        }
    }

    /// Zeros of `target` shape with out[indices[i]] += self[i]: the adjoint of ``gatheredFlat(_:shape:blocks:window:)``.
    func scatterAddedFlat(_ indices: [Int], into target: [Int], blocks: Int, window: ConvGeometry? = nil) -> Tensor {
        let n = Shape.count(target)
        let storage = TensorStorage<Scalar>.make(uninitializedCount: n)
        indices.withUnsafeBufferPointer {
            if let window, $0.count == count, n == window.batch * window.channels * window.height * window.width {
                // Each window written once (its element or zero), with no zeroing pass and no scatter.
                Kernels.maxUnpool2x2(base, $0.baseAddress!, window, storage.base)
            } else {
                Kernels.scatterAddFlat(base, $0.baseAddress!, $0.count, blocks: blocks, storage.base, outCount: n)
            }
        }
        let inShape = shape
        return Tensor.record("scatter_add_flat", [self], storage, shape: target) { g, _, _ in
            [g.gatheredFlat(indices, shape: inShape, blocks: blocks, window: window)]
        }
    }
}

/// The geometry of a pooling window over x [N, C, H, W] (channels pooled separately).
private func poolGeometry(_ op: String, _ x: [Int], kernel: Size2, stride: Size2?, padding: Size2, dilation: Size2 = 1) -> ConvGeometry {
    let stride = stride ?? kernel
    precondition(kernel.height >= 1 && kernel.width >= 1, "\(op): kernel size must be positive, got \(kernel)")
    precondition(stride.height >= 1 && stride.width >= 1, "\(op): stride must be positive, got \(stride)")
    precondition(padding.height >= 0 && padding.width >= 0 && padding.height * 2 <= kernel.height && padding.width * 2 <= kernel.width,
                 "\(op): padding should be at most half of kernel size, got padding \(padding) for kernel \(kernel)")
    let g = ConvGeometry(batch: x[0], channels: x[1], height: x[2], width: x[3], outChannels: x[1],
                         kernelH: kernel.height, kernelW: kernel.width, strideH: stride.height, strideW: stride.width,
                         padTop: padding.height, padBottom: padding.height, padLeft: padding.width, padRight: padding.width,
                         dilationH: dilation.height, dilationW: dilation.width, groups: x[1])
    precondition(g.outH >= 1 && g.outW >= 1, "\(op): kernel \(kernel) is larger than the padded input \(x)")
    return g
}

/// Applies `body` to x as [N, C, H, W], accepting one image [C, H, W] too.
private func batched<S: TensorScalar>(_ op: String, _ x: Tensor<S>, _ body: (Tensor<S>) -> Tensor<S>) -> Tensor<S> {
    precondition(x.rank == 4 || x.rank == 3, "\(op): input must be [N, C, H, W] or [C, H, W], got \(x.shape)")
    return x.rank == 3 ? body(x.unsqueezed(axis: 0)).squeezed(axis: 0) : body(x)
}

/// The largest element of each window of each channel, like
/// `torch.nn.functional.max_pool2d` (stride defaults to the kernel size;
/// padding counts as -∞). The gradient goes to the chosen element (the first
/// of equal ones).
///
/// ```swift
/// let x: Tensor<Float> = [[[[1, 2], [3, 4]]]]
/// maxPool2d(x, kernelSize: 2)   // [[[[4]]]]
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func maxPool2d<S: TensorScalar>(_ x: Tensor<S>, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0,
                                       dilation: Size2 = 1) -> Tensor<S> {
    batched("max_pool2d", x) { x in
        let g = poolGeometry("max_pool2d", x.shape, kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
        let count = g.batch * g.channels * g.positions
        if Kernels.isMaxPool2x2(g) {
            let values = TensorStorage<S>.make(uninitializedCount: count)
            let indices = [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { Kernels.maxPool2x2(x.base, g, values: values.base, indices: buffer.baseAddress!) }
                initialized = count
            }
            return x.gatheredFlat(indices, shape: g.outputShape, blocks: g.batch * g.channels, values: values, window: g)
        }
        var indices = [Int](repeating: 0, count: count)
        indices.withUnsafeMutableBufferPointer { Kernels.maxPoolIndices(x.base, g, $0.baseAddress!) }
        return x.gatheredFlat(indices, shape: g.outputShape, blocks: g.batch * g.channels)
    }
}

/// The mean of each window of each channel, like
/// `torch.nn.functional.avg_pool2d` with PyTorch's defaults
/// (`count_include_pad=True`: padded zeros count in the mean). A depthwise
/// convolution with the constant kernel 1/(kH·kW).
///
/// ```swift
/// let x: Tensor<Float> = [[[[1, 2], [3, 4]]]]
/// avgPool2d(x, kernelSize: 2)   // [[[[2.5]]]]
/// ```
public func avgPool2d<S: TensorScalar>(_ x: Tensor<S>, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0) -> Tensor<S> {
    batched("avg_pool2d", x) { x in
        let g = poolGeometry("avg_pool2d", x.shape, kernel: kernelSize, stride: stride, padding: padding)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let kernel = Tensor<S>.full([1, 1, kernelSize.height, kernelSize.width], 1 / S(kernelSize.height * kernelSize.width))
        let planes = x.reshaped(to: [n * c, 1, h, w])
        let y = conv2d(planes, weight: kernel, stride: Size2(g.strideH, g.strideW), padding: .explicit(padding))
        return y.reshaped(to: [n, c, g.outH, g.outW])
    }
}

/// The mean over PyTorch's adaptive bins: output cell i of n covers input
/// rows ⌊i·H/n⌋ ..< ⌈(i+1)·H/n⌉ (likewise columns), like
/// `torch.nn.functional.adaptive_avg_pool2d`. Output 1x1 is the global
/// average pool; other sizes are two products with averaging matrices.
///
/// ```swift
/// adaptiveAvgPool2d(features, outputSize: 1)   // [N, C, 1, 1]
/// ```
public func adaptiveAvgPool2d<S: TensorScalar>(_ x: Tensor<S>, outputSize: Size2) -> Tensor<S> {
    batched("adaptive_avg_pool2d", x) { x in
        precondition(outputSize.height >= 1 && outputSize.width >= 1,
                     "adaptive_avg_pool2d: output size must be positive, got \(outputSize)")
        if outputSize == Size2(1) { return x.mean(axes: [2, 3], keepDims: true) }
        func averaging(_ out: Int, _ size: Int) -> Tensor<S> {
            var m = [S](repeating: 0, count: out * size)
            for i in 0..<out {
                let start = i * size / out, end = ((i + 1) * size + out - 1) / out
                for j in start..<end { m[i * size + j] = 1 / S(end - start) }
            }
            return Tensor(shape: [out, size], scalars: m)
        }
        let rows = averaging(outputSize.height, x.shape[2])       // [oh, H]
        let cols = averaging(outputSize.width, x.shape[3]).T      // [W, ow]
        return matmul(matmul(rows, x), cols)
    }
}

/// The axes `startAxis...endAxis` joined into one, like `torch.flatten`
/// (the module ``Flatten`` starts at axis 1, keeping the batch axis).
///
/// ```swift
/// flatten(Tensor<Float>.zeros([64, 64, 5, 5]), startAxis: 1)   // [64, 1600]
/// ```
public func flatten<S: TensorScalar>(_ x: Tensor<S>, startAxis: Int = 0, endAxis: Int = -1) -> Tensor<S> {
    if x.rank == 0 { return x.reshaped(to: [1]) }
    let start = Shape.normalize(axis: startAxis, rank: x.rank, op: "flatten")
    let end = Shape.normalize(axis: endAxis, rank: x.rank, op: "flatten")
    precondition(start <= end, "flatten: start axis \(startAxis) comes after end axis \(endAxis) for shape \(x.shape)")
    let joined = x.shape[start...end].reduce(1, *)
    return x.reshaped(to: Array(x.shape[..<start]) + [joined] + Array(x.shape[(end + 1)...]))
}

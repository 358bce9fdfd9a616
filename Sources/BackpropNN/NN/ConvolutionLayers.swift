import BackpropCore

// Convolution layers: thin shells over conv1d/conv2d (Ops/Convolution.swift)
// holding the weight and bias, initialised as PyTorch's nn.Conv1d/nn.Conv2d.

/// PyTorch's default convolution initialisation: weight and bias uniform in
/// [-1/√fan_in, 1/√fan_in] with fan_in = in/groups · kernel elements
/// (`kaiming_uniform_(a=√5)` for the weight), weight drawn first.
private func convParameters<S: TensorScalar>(_ weightShape: [Int], bias: Bool, generator: inout SeededGenerator)
    -> (Tensor<S>, Tensor<S>?) {
    let fanIn = weightShape.dropFirst().reduce(1, *)
    let bound = fanIn > 0 ? S(1 / Double(fanIn).squareRoot()) : 0
    let w = Tensor<S>.randomUniform(weightShape, low: -bound, high: bound, generator: &generator)
    let b = bias ? Tensor<S>.randomUniform([weightShape[0]], low: -bound, high: bound, generator: &generator) : nil
    return (w.requiringGrad(), b?.requiringGrad())
}

private func checkChannels(_ op: String, _ inChannels: Int, _ outChannels: Int, groups: Int) {
    precondition(inChannels >= 1 && outChannels >= 1, "\(op): channel counts must be positive, got \(inChannels) -> \(outChannels)")
    precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                 "\(op): in_channels \(inChannels) and out_channels \(outChannels) must be divisible by groups \(groups)")
}

/// A 2-D convolution layer over [N, C, H, W], like `torch.nn.Conv2d`:
/// weight [out, in/groups, kH, kW], bias [out], PyTorch's defaults and
/// initialisation.
///
/// ```swift
/// let conv = Conv2d<Float>(1, 32, kernelSize: 3)
/// let y = conv(Tensor<Float>.zeros([64, 1, 28, 28]))   // [64, 32, 26, 26]
/// ```
public final class Conv2d<Scalar: TensorScalar>: Module {
    /// [out, in/groups, kH, kW].
    public var weight: Tensor<Scalar>
    /// [out], or `nil` without bias.
    public var bias: Tensor<Scalar>?
    /// Step between windows.
    public let stride: Size2
    /// Zeros around the input.
    public let padding: ConvolutionPadding
    /// Spacing of the kernel taps.
    public let dilation: Size2
    /// Channel groups (in and out channels split into this many independent convolutions).
    public let groups: Int
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true

    /// A layer initialised from `generator` as PyTorch does.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: ConvolutionPadding = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        checkChannels("Conv2d", inChannels, outChannels, groups: groups)
        (weight, self.bias) = convParameters([outChannels, inChannels / groups, kernelSize.height, kernelSize.width],
                                             bias: bias, generator: &generator)
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// A layer initialised from the global generator (see ``GlobalRandom``): after
    /// `GlobalRandom.seed(s)` it equals the layer made with `SeededGenerator(seed: s)`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1,
                padding: ConvolutionPadding = 0, dilation: Size2 = 1, groups: Int = 1, bias: Bool = true) {
        checkChannels("Conv2d", inChannels, outChannels, groups: groups)
        (weight, self.bias) = GlobalRandom.with {
            convParameters([outChannels, inChannels / groups, kernelSize.height, kernelSize.width], bias: bias, generator: &$0)
        }
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// A layer with the given values (copied; the copies require gradients).
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil, stride: Size2 = 1, padding: ConvolutionPadding = 0,
                dilation: Size2 = 1, groups: Int = 1) {
        precondition(weight.rank == 4, "Conv2d: weight must be [out, in/groups, kH, kW], got \(weight.shape)")
        self.weight = Tensor(shape: weight.shape, scalars: weight.scalars, requiresGrad: true)
        self.bias = bias.map { Tensor(shape: $0.shape, scalars: $0.scalars, requiresGrad: true) }
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// The convolution of `x` ([N, C, H, W] or [C, H, W]).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// A 1-D convolution layer over [N, C, L], like `torch.nn.Conv1d`:
/// weight [out, in/groups, k], bias [out].
///
/// ```swift
/// let conv = Conv1d<Float>(2, 8, kernelSize: 5, padding: .same)
/// let y = conv(Tensor<Float>.zeros([4, 2, 100]))   // [4, 8, 100]
/// ```
public final class Conv1d<Scalar: TensorScalar>: Module {
    /// [out, in/groups, k].
    public var weight: Tensor<Scalar>
    /// [out], or `nil` without bias.
    public var bias: Tensor<Scalar>?
    /// Step between windows.
    public let stride: Int
    /// Zeros around the input (`.explicit` uses its width).
    public let padding: ConvolutionPadding
    /// Spacing of the kernel taps.
    public let dilation: Int
    /// Channel groups.
    public let groups: Int
    /// Training mode; see ``Module/train(_:)``.
    public var isTraining = true

    /// A layer initialised from `generator` as PyTorch does.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvolutionPadding = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        checkChannels("Conv1d", inChannels, outChannels, groups: groups)
        (weight, self.bias) = convParameters([outChannels, inChannels / groups, kernelSize], bias: bias, generator: &generator)
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// A layer initialised from the global generator (see ``GlobalRandom``): after
    /// `GlobalRandom.seed(s)` it equals the layer made with `SeededGenerator(seed: s)`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: ConvolutionPadding = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) {
        checkChannels("Conv1d", inChannels, outChannels, groups: groups)
        (weight, self.bias) = GlobalRandom.with {
            convParameters([outChannels, inChannels / groups, kernelSize], bias: bias, generator: &$0)
        }
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// The convolution of `x` ([N, C, L] or [C, L]).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        conv1d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

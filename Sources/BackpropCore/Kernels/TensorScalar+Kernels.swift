import CBackpropKernels

// Float's and Double's answers to the kernel requirements of ``TensorScalar``
// (optimizer steps, max pooling, im2col/col2im): each calls its type's C entry
// point in CBackpropKernels, so generic kernels call `S.sgdStep(...)` and
// never test `S.self` at run time. `kernelPath` -1 is BP_ISA_AUTO.

extension Float {
    /// SGD on `bp_ssgd_step`.
    ///
    /// ```swift
    /// Float.sgdStep(param: &p, grad: g, momentumBuffer: nil, count: 1, learningRate: 0.1, momentum: 0,
    ///             dampening: 0, nesterov: false, weightDecay: 0, firstStep: true, kernelPath: -1)
    /// ```
    @inlinable
    public static func sgdStep(param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
                               momentumBuffer: UnsafeMutablePointer<Float>?, count: Int,
                               learningRate: Float, momentum: Float, dampening: Float, nesterov: Bool,
                               weightDecay: Float, firstStep: Bool, kernelPath: Int32) {
        bp_ssgd_step(param, grad, momentumBuffer, count, learningRate, momentum, dampening, nesterov ? 1 : 0,
                     weightDecay, firstStep ? 1 : 0, kernelPath)
    }

    /// Adam and AdamW on `bp_sadam_step`.
    ///
    /// ```swift
    /// Float.adamStep(param: &p, grad: g, firstMoment: &m, secondMoment: &v, maxSecondMoment: nil, count: 1,
    ///              stepSize: 1, biasCorrection2Sqrt: 0.001.squareRoot(), beta1: 0.9, beta2: 0.999, eps: 0,
    ///              l2Decay: 0, decoupledDecayFactor: 1, kernelPath: -1)
    /// ```
    @inlinable
    public static func adamStep(param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
                                firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>,
                                maxSecondMoment: UnsafeMutablePointer<Float>?, count: Int,
                                stepSize: Float, biasCorrection2Sqrt: Float, beta1: Float, beta2: Float, eps: Float,
                                l2Decay: Float, decoupledDecayFactor: Float, kernelPath: Int32) {
        bp_sadam_step(param, grad, firstMoment, secondMoment, maxSecondMoment, count, stepSize, biasCorrection2Sqrt,
                      beta1, beta2, eps, l2Decay, decoupledDecayFactor, kernelPath)
    }

    /// RMSprop on `bp_srmsprop_step`.
    ///
    /// ```swift
    /// Float.rmspropStep(param: &p, grad: g, squareAverage: &sq, gradAverage: nil, momentumBuffer: nil, count: 1,
    ///                 learningRate: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, weightDecay: 0, kernelPath: -1)
    /// ```
    @inlinable
    public static func rmspropStep(param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
                                   squareAverage: UnsafeMutablePointer<Float>, gradAverage: UnsafeMutablePointer<Float>?,
                                   momentumBuffer: UnsafeMutablePointer<Float>?, count: Int,
                                   learningRate: Float, alpha: Float, eps: Float, momentum: Float, weightDecay: Float,
                                   kernelPath: Int32) {
        bp_srmsprop_step(param, grad, squareAverage, gradAverage, momentumBuffer, count, learningRate, alpha, eps,
                         momentum, weightDecay, kernelPath)
    }

    /// Max pooling's argmax on `bp_maxpool2d_indices_f32`.
    ///
    /// ```swift
    /// Float.maxPoolIndices(x, geometry: g, planes: 0..<1, indices: &index)
    /// ```
    @inlinable
    public static func maxPoolIndices(_ x: UnsafePointer<Float>, geometry g: bp_conv_geometry, planes: Range<Int>,
                                      indices: UnsafeMutablePointer<Int>) {
        bp_maxpool2d_indices_f32(x, planes.lowerBound, planes.upperBound, g.height, g.width, g.out_h, g.out_w,
                                 g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left,
                                 g.dilation_h, g.dilation_w, indices)
    }

    /// 2 x 2 max pooling on `bp_maxpool2d_2x2_f32`.
    ///
    /// ```swift
    /// Float.maxPool2x2(x, geometry: g, planes: 0..<1, values: &value, indices: &index)
    /// ```
    @inlinable
    public static func maxPool2x2(_ x: UnsafePointer<Float>, geometry g: bp_conv_geometry, planes: Range<Int>,
                                  values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>) {
        bp_maxpool2d_2x2_f32(x, planes.lowerBound, planes.upperBound, g.height, g.width, g.out_h, g.out_w,
                             values, indices)
    }

    /// The 2 x 2 max pooling gradient on `bp_maxunpool2d_2x2_f32`.
    ///
    /// ```swift
    /// Float.maxUnpool2x2(grad, indices: index, geometry: g, planes: 0..<1, dx: &dx)
    /// ```
    @inlinable
    public static func maxUnpool2x2(_ grad: UnsafePointer<Float>, indices: UnsafePointer<Int>, geometry g: bp_conv_geometry,
                                    planes: Range<Int>, dx: UnsafeMutablePointer<Float>) {
        bp_maxunpool2d_2x2_f32(grad, indices, planes.lowerBound, planes.upperBound, g.height, g.width, g.out_h,
                               g.out_w, dx)
    }

    /// im2col of one image on `bp_im2col_f32`.
    ///
    /// ```swift
    /// Float.im2col(x, geometry: g, cols: &cols, ld: 1)
    /// ```
    @inlinable
    public static func im2col(_ x: UnsafePointer<Float>, geometry: bp_conv_geometry, cols: UnsafeMutablePointer<Float>,
                              ld: Int) {
        withUnsafePointer(to: geometry) { bp_im2col_f32(x, $0, cols, ld) }
    }

    /// col2im of one image on `bp_col2im_f32`.
    ///
    /// ```swift
    /// Float.col2im(cols, ld: 1, geometry: g, dx: &dx)
    /// ```
    @inlinable
    public static func col2im(_ cols: UnsafePointer<Float>, ld: Int, geometry: bp_conv_geometry,
                              dx: UnsafeMutablePointer<Float>) {
        withUnsafePointer(to: geometry) { bp_col2im_f32(cols, ld, $0, dx) }
    }
}

extension Double {
    /// SGD on `bp_dsgd_step`.
    ///
    /// ```swift
    /// Double.sgdStep(param: &p, grad: g, momentumBuffer: nil, count: 1, learningRate: 0.1, momentum: 0,
    ///             dampening: 0, nesterov: false, weightDecay: 0, firstStep: true, kernelPath: -1)
    /// ```
    @inlinable
    public static func sgdStep(param: UnsafeMutablePointer<Double>, grad: UnsafePointer<Double>,
                               momentumBuffer: UnsafeMutablePointer<Double>?, count: Int,
                               learningRate: Double, momentum: Double, dampening: Double, nesterov: Bool,
                               weightDecay: Double, firstStep: Bool, kernelPath: Int32) {
        bp_dsgd_step(param, grad, momentumBuffer, count, learningRate, momentum, dampening, nesterov ? 1 : 0,
                     weightDecay, firstStep ? 1 : 0, kernelPath)
    }

    /// Adam and AdamW on `bp_dadam_step`.
    ///
    /// ```swift
    /// Double.adamStep(param: &p, grad: g, firstMoment: &m, secondMoment: &v, maxSecondMoment: nil, count: 1,
    ///              stepSize: 1, biasCorrection2Sqrt: 0.001.squareRoot(), beta1: 0.9, beta2: 0.999, eps: 0,
    ///              l2Decay: 0, decoupledDecayFactor: 1, kernelPath: -1)
    /// ```
    @inlinable
    public static func adamStep(param: UnsafeMutablePointer<Double>, grad: UnsafePointer<Double>,
                                firstMoment: UnsafeMutablePointer<Double>, secondMoment: UnsafeMutablePointer<Double>,
                                maxSecondMoment: UnsafeMutablePointer<Double>?, count: Int,
                                stepSize: Double, biasCorrection2Sqrt: Double, beta1: Double, beta2: Double, eps: Double,
                                l2Decay: Double, decoupledDecayFactor: Double, kernelPath: Int32) {
        bp_dadam_step(param, grad, firstMoment, secondMoment, maxSecondMoment, count, stepSize, biasCorrection2Sqrt,
                      beta1, beta2, eps, l2Decay, decoupledDecayFactor, kernelPath)
    }

    /// RMSprop on `bp_drmsprop_step`.
    ///
    /// ```swift
    /// Double.rmspropStep(param: &p, grad: g, squareAverage: &sq, gradAverage: nil, momentumBuffer: nil, count: 1,
    ///                 learningRate: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, weightDecay: 0, kernelPath: -1)
    /// ```
    @inlinable
    public static func rmspropStep(param: UnsafeMutablePointer<Double>, grad: UnsafePointer<Double>,
                                   squareAverage: UnsafeMutablePointer<Double>, gradAverage: UnsafeMutablePointer<Double>?,
                                   momentumBuffer: UnsafeMutablePointer<Double>?, count: Int,
                                   learningRate: Double, alpha: Double, eps: Double, momentum: Double, weightDecay: Double,
                                   kernelPath: Int32) {
        bp_drmsprop_step(param, grad, squareAverage, gradAverage, momentumBuffer, count, learningRate, alpha, eps,
                         momentum, weightDecay, kernelPath)
    }

    /// Max pooling's argmax on `bp_maxpool2d_indices_f64`.
    ///
    /// ```swift
    /// Double.maxPoolIndices(x, geometry: g, planes: 0..<1, indices: &index)
    /// ```
    @inlinable
    public static func maxPoolIndices(_ x: UnsafePointer<Double>, geometry g: bp_conv_geometry, planes: Range<Int>,
                                      indices: UnsafeMutablePointer<Int>) {
        bp_maxpool2d_indices_f64(x, planes.lowerBound, planes.upperBound, g.height, g.width, g.out_h, g.out_w,
                                 g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left,
                                 g.dilation_h, g.dilation_w, indices)
    }

    /// 2 x 2 max pooling on `bp_maxpool2d_2x2_f64`.
    ///
    /// ```swift
    /// Double.maxPool2x2(x, geometry: g, planes: 0..<1, values: &value, indices: &index)
    /// ```
    @inlinable
    public static func maxPool2x2(_ x: UnsafePointer<Double>, geometry g: bp_conv_geometry, planes: Range<Int>,
                                  values: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int>) {
        bp_maxpool2d_2x2_f64(x, planes.lowerBound, planes.upperBound, g.height, g.width, g.out_h, g.out_w,
                             values, indices)
    }

    /// The 2 x 2 max pooling gradient on `bp_maxunpool2d_2x2_f64`.
    ///
    /// ```swift
    /// Double.maxUnpool2x2(grad, indices: index, geometry: g, planes: 0..<1, dx: &dx)
    /// ```
    @inlinable
    public static func maxUnpool2x2(_ grad: UnsafePointer<Double>, indices: UnsafePointer<Int>, geometry g: bp_conv_geometry,
                                    planes: Range<Int>, dx: UnsafeMutablePointer<Double>) {
        bp_maxunpool2d_2x2_f64(grad, indices, planes.lowerBound, planes.upperBound, g.height, g.width, g.out_h,
                               g.out_w, dx)
    }

    /// im2col of one image on `bp_im2col_f64`.
    ///
    /// ```swift
    /// Double.im2col(x, geometry: g, cols: &cols, ld: 1)
    /// ```
    @inlinable
    public static func im2col(_ x: UnsafePointer<Double>, geometry: bp_conv_geometry, cols: UnsafeMutablePointer<Double>,
                              ld: Int) {
        withUnsafePointer(to: geometry) { bp_im2col_f64(x, $0, cols, ld) }
    }

    /// col2im of one image on `bp_col2im_f64`.
    ///
    /// ```swift
    /// Double.col2im(cols, ld: 1, geometry: g, dx: &dx)
    /// ```
    @inlinable
    public static func col2im(_ cols: UnsafePointer<Double>, ld: Int, geometry: bp_conv_geometry,
                              dx: UnsafeMutablePointer<Double>) {
        withUnsafePointer(to: geometry) { bp_col2im_f64(cols, ld, $0, dx) }
    }
}

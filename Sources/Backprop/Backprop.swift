// The umbrella module: `import Backprop` gives every layer of the library.
// Each layer is its own module so that the compiler keeps dependencies
// pointing one way (see docs/ARCHITECTURE.md):
//
//   BackpropCore      kernels, tensor, autograd, ops, transforms
//   BackpropNN        modules, layers, losses, optimizers, schedules
//   BackpropData      file formats and datasets
//   BackpropTraining  model descriptions, trainer, checkpoints
//   BackpropTeaching  explain, expression graphs, plots, SVG
@_exported import BackpropCore
@_exported import BackpropNN
@_exported import BackpropData
@_exported import BackpropTraining
@_exported import BackpropTeaching

/// The library's version, which the `backprop` tool prints when asked for its version.
///
/// ```swift
/// print(Backprop.version)   // 0.2.0
/// ```
public let version = backpropLibraryVersion   // set in BackpropTraining (LibraryVersion.swift)

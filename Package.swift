// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v15)],  // Synchronization (Mutex, Atomic)
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        .executable(name: "backprop", targets: ["BackpropTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // Wide-vector micro-kernels with runtime CPU dispatch. Plain C with
        // function-level target attributes, so no unsafe flags are needed.
        .target(name: "CBackpropKernels"),
        // The library's layers, each a module, dependencies pointing down only
        // (docs/ARCHITECTURE.md; scripts/check_layers.sh checks the imports).
        .target(
            name: "BackpropCore",  // kernels, tensor, autograd, ops, transforms
            dependencies: [
                "CBackpropKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(
            name: "BackpropNN",
            dependencies: ["BackpropCore", .product(name: "RealModule", package: "swift-numerics")]
        ),  // modules, layers, losses, optimizers
        .target(name: "BackpropData", dependencies: ["BackpropCore"]),  // file formats, datasets
        .target(name: "BackpropTraining", dependencies: ["BackpropCore", "BackpropNN", "BackpropData"]),
        .target(
            name: "BackpropTeaching",  // explain, expression graphs, plots, SVG
            dependencies: ["BackpropCore", "BackpropNN", "BackpropData", "BackpropTraining"]
        ),
        // The umbrella: `import Backprop` re-exports every layer above.
        .target(
            name: "Backprop",
            dependencies: ["BackpropCore", "BackpropNN", "BackpropData", "BackpropTraining", "BackpropTeaching"]
        ),
        // The commands live in a library so that tests can run them and compare output.
        .target(
            name: "BackpropCLI",
            dependencies: [
                "Backprop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "BackpropTool", dependencies: ["BackpropCLI"], path: "Sources/backprop"),
        .testTarget(
            name: "BackpropTests",
            dependencies: ["Backprop", "BackpropCLI"],
            resources: [.copy("Fixtures")]
        ),
    ]
)

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
        .target(
            name: "Backprop",
            dependencies: [
                "CBackpropKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
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

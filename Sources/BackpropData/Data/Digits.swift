import BackpropCore
/// The UCI optical handwritten digits (8 x 8 images, pixels 0...16, 1,797
/// examples, labels 0...9), shipped inside the library so that training on
/// real data needs no download and no path. Source and licence:
/// `Data/digits/README.md`.
///
/// The bytes are embedded in the binary (gzip + base64 in
/// `DigitsData.swift`, written by `scripts/embed_digits.py`), not bundled as
/// a SwiftPM resource: a resource bundle is found next to the executable, so
/// a `backprop` binary copied or installed elsewhere would lose its data.
///
/// ```swift
/// let digits = try Digits.load()            // features [1797, 64] in [0, 1], 10 classes
/// let (train, validation) = digits.trainValidationSplit(validationFraction: 0.2, seed: 1)
/// ```
public enum Digits {
    /// The raw IDX files, decoded from the embedded copy.
    public static func idxFiles() throws -> (images: IDXFile, labels: IDXFile) {
        func decode(_ base64: String, _ name: String, _ size: Int) throws -> IDXFile {
            let raw = try Gzip.decompress(Base64.decode(base64, source: name), path: name)
            guard raw.count == size else { throw DataError(path: name, "embedded copy is \(raw.count) bytes, expected \(size)") }
            return try IDXFile(bytes: raw, path: name)
        }
        return (try decode(DigitsData.imagesGzipBase64, "embedded digits-images.idx3-ubyte", DigitsData.imagesByteCount),
                try decode(DigitsData.labelsGzipBase64, "embedded digits-labels.idx1-ubyte", DigitsData.labelsByteCount))
    }

    /// The dataset: features `[1797, 64]` (pixels divided by 16, so in
    /// [0, 1]) and class targets 0...9.
    public static func load() throws -> TensorDataset<Float> {
        let (images, labels) = try idxFiles()
        return try IDXDataset.classification(images: images, labels: labels, scale: 16,
                                             imagesPath: "embedded digits", labelsPath: "embedded digits")
    }
}

/// Building datasets from IDX image/label pairs (digits, MNIST, Fashion-MNIST).
public enum IDXDataset {
    /// Flattened images divided by `scale`, with labels as classes.
    public static func classification(images: IDXFile, labels: IDXFile, scale: Float,
                                      imagesPath: String, labelsPath: String) throws -> TensorDataset<Float> {
        guard images.shape.count >= 2 else {
            throw DataError(path: imagesPath, "IDX: images have shape \(images.shape); expected [count, rows, columns]")
        }
        guard labels.shape.count == 1 else {
            throw DataError(path: labelsPath, "IDX: labels have shape \(labels.shape); expected [count]")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DataError(path: imagesPath, "IDX: \(images.shape[0]) images but \(labels.shape[0]) labels in \(labelsPath)")
        }
        let n = images.shape[0]
        // Checked: with no images, the other dimensions can still multiply past Int.max (found by fuzzing).
        guard let d = MemoryBudget.bytes(Array(images.shape.dropFirst()), elementSize: 1) else {
            throw DataError(path: imagesPath, "IDX: images have shape \(images.shape); one image's pixels multiply past \(Int.max)")
        }
        guard d > 0 else {
            throw DataError(path: imagesPath, "IDX: images have shape \(images.shape); each image needs at least one pixel")
        }
        let maxLabel = Int(labels.bytes.max() ?? 0)
        guard maxLabel < 256 else { throw DataError(path: labelsPath, "IDX: label \(maxLabel) out of range") }
        let inv = 1 / scale
        let features = Tensor<Float>(shape: [n, d], scalars: images.bytes.map { Float($0) * inv })
        let targets = Tensor<Float>(shape: [n], scalars: labels.bytes.map { Float($0) })
        let k = max(10, maxLabel + 1)
        var data = TensorDataset(features: features, targets: targets, classCount: k, classNames: (0..<k).map(String.init))
        data.featureScale = Double(scale)
        return data
    }
}

/// MNIST and Fashion-MNIST from a folder holding the four standard files,
/// raw or gzip-compressed: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (with or without `.gz`;
/// a `.` in place of the last `-` is accepted too).
///
/// ```swift
/// let train = try MNIST.load(folder: "~/data/fashion-mnist", split: .train)   // [60000, 784], 10 classes
/// ```
public enum MNIST {
    /// Which half of the data: `train` (60,000 images) or `test` (`t10k`, 10,000 images).
    public enum Split: String, Sendable { case train, test }

    /// The path of one of the four files, trying the usual spellings.
    public static func path(folder: String, split: Split, kind: String) throws -> String {
        let prefix = split == .train ? "train" : "t10k"
        let rank = kind == "images" ? 3 : 1
        let candidates = ["\(prefix)-\(kind)-idx\(rank)-ubyte", "\(prefix)-\(kind).idx\(rank)-ubyte"]
            .flatMap { [$0, $0 + ".gz"] }
        for name in candidates where FileIO.exists(folder + "/" + name) { return folder + "/" + name }
        guard FileIO.isDirectory(folder) else { throw DataError(path: folder, "MNIST folder does not exist") }
        throw DataError(path: folder, "no \(candidates[0]) or \(candidates[1]) (MNIST/Fashion-MNIST IDX files, raw or .gz)")
    }

    /// One split, pixels divided by 255 into [0, 1], images flattened to 784 features.
    public static func load(folder: String, split: Split) throws -> TensorDataset<Float> {
        let imagesPath = try path(folder: folder, split: split, kind: "images")
        let labelsPath = try path(folder: folder, split: split, kind: "labels")
        let images = try IDXFile(path: imagesPath)
        let labels = try IDXFile(path: labelsPath)
        guard images.shape.count == 3 else {
            throw DataError(path: imagesPath, "IDX: images have shape \(images.shape); expected rank 3 (magic 0x00000803)")
        }
        if let bad = labels.bytes.first(where: { $0 > 9 }) {
            throw DataError(path: labelsPath, "IDX: label \(bad) is not a digit class 0...9")
        }
        return try IDXDataset.classification(images: images, labels: labels, scale: 255,
                                             imagesPath: imagesPath, labelsPath: labelsPath)
    }
}

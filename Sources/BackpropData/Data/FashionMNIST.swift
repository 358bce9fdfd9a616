import BackpropCore

// Fashion-MNIST (Zalando's 28 x 28 grey clothing images, 10 classes) from
// the four gzip IDX files that Debian's `dataset-fashion-mnist` package
// installs, as images for convolutional models or flat rows for dense ones.

/// Fashion-MNIST: 60,000 training and 10,000 test images of 28 x 28 pixels
/// scaled to [0, 1], 10 classes. Reads `/usr/share/datasets/fashion-mnist/`
/// (`apt-get install dataset-fashion-mnist`) or any folder with the four
/// MNIST-format files (see ``MNIST``).
///
/// ```swift
/// let data = try FashionMNIST.load(split: .train)          // features [60000, 1, 28, 28]
/// let (train, validation) = data.trainValidationSplit(validationFraction: 1.0 / 12, seed: 1)
/// let test = try FashionMNIST.load(split: .test)           // the official 10,000 test images
/// ```
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package puts the files.
    public static let defaultFolder = "/usr/share/datasets/fashion-mnist"

    /// The command that installs the files in ``defaultFolder``.
    public static let installCommand = "apt-get install dataset-fashion-mnist"

    /// The class names, in label order.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// How each image is shaped in the features tensor.
    public enum Layout: String, Sendable {
        /// [N, 1, 28, 28]: channels first, for convolutional models.
        case images
        /// [N, 784]: one row per image, for dense models.
        case flat
    }

    /// One split, pixels divided by 255. A folder without the files is an
    /// error that names ``installCommand``.
    ///
    /// ```swift
    /// let test = try FashionMNIST.load(split: .test, layout: .flat)   // [10000, 784]
    /// ```
    public static func load(folder: String = defaultFolder, split: MNIST.Split, layout: Layout = .images) throws -> TensorDataset<Float> {
        var data: TensorDataset<Float>
        do {
            data = try MNIST.load(folder: folder, split: split)
        } catch let e as DataError where !hasFiles(folder: folder) {
            throw DataError(path: folder, "Fashion-MNIST is not there (\(e.message)); `\(installCommand)` installs it in \(defaultFolder)")
        }
        guard data.featureSize == 28 * 28 else {
            throw DataError(path: folder, "Fashion-MNIST images are 28 x 28; these have \(data.featureSize) pixels")
        }
        data.classNames = classNames
        return layout == .flat ? data : data.withFeatures(data.features.reshaped(to: [data.count, 1, 28, 28]))
    }

    /// Whether `folder` holds the four files (raw or gzip).
    public static func hasFiles(folder: String) -> Bool {
        [MNIST.Split.train, .test].allSatisfy { split in
            ["images", "labels"].allSatisfy { (try? MNIST.path(folder: folder, split: split, kind: $0)) != nil }
        }
    }
}

import BackpropCore
import BackpropNN
import BackpropData
/// A dataset, with a short text form: `digits`, `spirals[:K]`, `moons`,
/// `sine`, `blobs[:K]`, `mnist:FOLDER` (also Fashion-MNIST), `fashion-mnist` (the files of
/// `apt-get install dataset-fashion-mnist`, see ``FashionMNIST``), `csv:FILE`.
///
/// ```swift
/// let spec = try DatasetSpec(parsing: "spirals:4")
/// let data = try spec.load(.training, options: DatasetOptions(samples: 600, seed: 1))
/// ```
public enum DatasetSpec: Equatable, Sendable, CustomStringConvertible {
    /// The 8 x 8 handwritten digits shipped with the library (1797 images, 10 classes).
    case digits
    /// Interleaved 2-D spirals, one arm per class.
    case spirals(classes: Int)
    /// Two interleaving 2-D half-circles, 2 classes.
    case moons
    /// 1-D regression: a noisy sine wave.
    case sine
    /// Gaussian 2-D clusters, one per class.
    case blobs(classes: Int)
    /// MNIST or Fashion-MNIST from the IDX files in a folder; `fashion` (`fashion-mnist[:FOLDER]`) loads
    /// them as ``FashionMNIST``: its class names, and an error naming the apt package when files are missing.
    /// (Files in ``FashionMNIST/defaultFolder`` are Fashion-MNIST either way.)
    case mnist(folder: String, fashion: Bool = false)
    /// A CSV file; the target column comes from ``DatasetOptions/target``.
    case csv(path: String)

    /// The forms accepted by ``init(parsing:)``.
    public static let forms = ["digits", "spirals[:K]", "moons", "sine", "blobs[:K]", "mnist:FOLDER", "fashion-mnist[:FOLDER]", "csv:FILE"]

    /// Parses one of ``forms`` (names are case-insensitive; `spiral`, `two_moons`, `sin`
    /// and `fashion-mnist` are accepted too). `spirals` and `blobs` default to 3 classes.
    /// Throws a ``ValueError`` with the field ``ValueError/Field/dataset`` that names
    /// the text, for an unknown name, a class count below 2, or a missing path.
    ///
    /// ```swift
    /// let spec = try DatasetSpec(parsing: "blobs:4")   // .blobs(classes: 4)
    /// print(spec)                                       // blobs:4
    /// ```
    public init(parsing text: String) throws {
        let (name, argument): (Substring, String?) = {
            guard let colon = text.firstIndex(of: ":") else { return (Substring(text), nil) }
            return (text[..<colon], String(text[text.index(after: colon)...]))
        }()
        func classes(_ default: Int) throws -> Int {
            guard let a = argument else { return `default` }
            guard let k = Int(a), k >= 2 else {
                throw ValueError(.dataset, "dataset \(DataError.excerpt(text)): the class count must be an integer >= 2, got \(a)")
            }
            return k
        }
        func path() throws -> String {
            guard let a = argument, !a.isEmpty else { throw ValueError(.dataset, "dataset \(DataError.excerpt(text)): needs a path: \(name):PATH") }
            return a
        }
        switch name.lowercased() {
        case "digits": self = .digits
        case "spirals", "spiral": self = .spirals(classes: try classes(3))
        case "moons", "two_moons": self = .moons
        case "sine", "sin": self = .sine
        case "blobs": self = .blobs(classes: try classes(3))
        case "mnist": self = .mnist(folder: try path())
        case "fashion-mnist", "fashion_mnist":
            self = .mnist(folder: argument.flatMap { $0.isEmpty ? nil : $0 } ?? FashionMNIST.defaultFolder, fashion: true)
        case "csv": self = .csv(path: try path())
        default:
            throw ValueError(.dataset, "unknown dataset \(DataError.excerpt(text)); use one of \(DatasetSpec.forms.joined(separator: ", "))")
        }
    }

    /// The canonical text form, which ``init(parsing:)`` reads back (`spirals:3`, `csv:data.csv`).
    public var description: String {
        switch self {
        case .digits: return "digits"
        case .spirals(let k): return "spirals:\(k)"
        case .moons: return "moons"
        case .sine: return "sine"
        case .blobs(let k): return "blobs:\(k)"
        case .mnist(let f, false): return "mnist:\(f)"
        case .mnist(let f, true): return f == FashionMNIST.defaultFolder ? "fashion-mnist" : "fashion-mnist:\(f)"
        case .csv(let p): return "csv:\(p)"
        }
    }

    /// `true` for the generated 2-D/1-D tasks.
    public var isSynthetic: Bool {
        switch self {
        case .spirals, .moons, .sine, .blobs: return true
        default: return false
        }
    }

    /// Training data, or data to evaluate a trained model on.
    public enum Purpose: Sendable { case training, evaluation }

    /// Loads the data. For evaluation, MNIST gives its test split and the
    /// synthetic tasks a fresh sample (another seed); digits and CSV give
    /// the whole set (the caller splits off validation as in training).
    public func load(_ purpose: Purpose, options: DatasetOptions) throws -> TensorDataset<Float> {
        let seed = purpose == .training ? options.seed : options.seed &+ 1_000_003
        if let noise = options.noise, !(noise.isFinite && noise >= 0) {
            throw DataError(path: "noise", "\(noise) must be a finite number, 0 or more")
        }
        switch self {
        case .digits: return try Digits.load()
        case .spirals(let k): return Synthetic.spirals(count: options.samples, classes: k, noise: options.noise ?? 0.2, seed: seed)
        case .moons: return Synthetic.twoMoons(count: options.samples, noise: options.noise ?? 0.1, seed: seed)
        case .sine: return Synthetic.sine(count: options.samples, noise: options.noise ?? 0.05, seed: seed)
        case .blobs(let k): return Synthetic.blobs(count: options.samples, classes: k, features: 2, std: options.noise ?? 1, seed: seed)
        case .mnist(let folder, let fashion):
            let split: MNIST.Split = purpose == .training ? .train : .test
            if fashion || folder == FashionMNIST.defaultFolder { return try FashionMNIST.load(folder: folder, split: split, layout: .flat) }
            return try MNIST.load(folder: folder, split: split)
        case .csv(let path):
            guard let target = options.target else {
                throw ValueError(.target, "the CSV dataset \(DataError.excerpt(path, limit: 400)) needs a target column (a header name or a 0-based index)")
            }
            return try TensorDataset.csv(path: path, target: target, features: options.features, task: options.task)
        }
    }
}

/// Settings for loading a ``DatasetSpec``.
public struct DatasetOptions: Sendable {
    /// Number of examples to generate for a synthetic task.
    public var samples: Int
    /// Seed of the synthetic generators (evaluation data uses a derived seed).
    public var seed: UInt64
    /// Noise level of a synthetic task; `nil` for its default.
    public var noise: Double?
    /// The target column of a CSV dataset; required for `csv:FILE`.
    public var target: CSVColumn?
    /// The feature columns of a CSV dataset; `nil` for every column but the target.
    public var features: [CSVColumn]?
    /// Whether a CSV target is read as classes or as regression values.
    public var task: CSVTask

    /// Options with defaults for everything not given.
    ///
    /// ```swift
    /// let options = DatasetOptions(samples: 500, seed: 7, noise: 0.1)
    /// let csv = DatasetOptions(target: "species")
    /// ```
    public init(samples: Int = 1000, seed: UInt64 = 1, noise: Double? = nil, target: CSVColumn? = nil,
                features: [CSVColumn]? = nil, task: CSVTask = .automatic) {
        self.samples = samples
        self.seed = seed
        self.noise = noise
        self.target = target
        self.features = features
        self.task = task
    }
}

extension ValueError.Field {
    /// A dataset's text form, read by ``DatasetSpec/init(parsing:)``.
    public static let dataset = ValueError.Field("dataset")
}

import BackpropCore
import BackpropData

extension Inference {
    /// The dataset options a checkpoint's `training` metadata records (seed, sample count, validation
    /// fraction), checked before anything is generated: a file may hold any JSON there, and a negative
    /// seed or sample count used to trap, a sample count of 1e14 to run until killed.
    ///
    /// ```swift
    /// let r = try Inference.RecordedTraining(JSON.parse(#"{"seed": 7, "samples": 600}"#, source: "m"), path: "m.safetensors")
    /// // r.seed == 7, r.samples == 600, r.validationSplit == 0
    /// ```
    public struct RecordedTraining: Sendable, Equatable {
        /// The seed of the synthetic generators and of the validation split (1 when not recorded).
        public var seed: UInt64
        /// The number of synthetic examples (1000 when not recorded).
        public var samples: Int
        /// The fraction held out for validation in training (0 when not recorded).
        public var validationSplit: Double

        /// Reads `training` (the parsed `__metadata__.training`, `nil` when absent). Errors are
        /// ``DataError``s naming `path` and the metadata key: `m.safetensors: __metadata__.training.samples: ...`.
        /// `maximumSamples` lowers the bound on `samples` below what fits in memory.
        public init(_ training: JSON?, path: String, maximumSamples: Int? = nil) throws {
            func fail(_ key: String, _ message: String) -> DataError {
                DataError(path: path, "__metadata__.training.\(key): \(message)")
            }
            seed = 1
            if let value = training?["seed"] {
                // A number as written by training, or its decimal text (resume options record the seed as a string).
                let parsed = value.numberValue.flatMap { UInt64(exactly: $0) } ?? value.stringValue.flatMap { UInt64($0) }
                guard let parsed else {
                    throw fail("seed", "must be an integer from 0 to \(UInt64.max), got \(Self.shown(value))")
                }
                seed = parsed
            }
            samples = 1000
            if let value = training?["samples"] {
                guard let n = value.intValue, n > 0 else {
                    throw fail("samples", "must be a positive integer, got \(Self.shown(value))")
                }
                if let maximumSamples, n > maximumSamples {
                    throw fail("samples", "\(n) is more than the limit of \(maximumSamples)")
                }
                if let problem = DatasetOptions.samplesRefusal(n) {
                    throw fail("samples", "\(n) examples \(problem)")
                }
                samples = n
            }
            validationSplit = 0
            if let value = training?["validation_split"] {
                guard let f = value.numberValue, f >= 0, f < 1 else {
                    throw fail("validation_split", "must be a number in [0, 1), got \(Self.shown(value))")
                }
                validationSplit = f
            }
        }

        /// A recorded value as it reads in a message: a number as written, text quoted and cut, else its kind.
        static func shown(_ value: JSON) -> String {
            if let i = value.intValue { return "\(i)" }
            if let n = value.numberValue { return "\(n)" }
            if let s = value.stringValue { return DataError.quote(s) }
            return value.kindName
        }
    }
}

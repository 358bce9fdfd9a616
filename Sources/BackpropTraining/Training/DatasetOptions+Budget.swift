import BackpropCore
import BackpropData

extension DatasetOptions {
    /// An upper bound on the bytes a synthetic task holds for each generated example while it is made:
    /// two Float features and a class index in the generator's arrays, then again in the dataset's tensors.
    ///
    /// ```swift
    /// DatasetOptions.bytesPerSyntheticExample   // 32
    /// ```
    public static let bytesPerSyntheticExample = 32

    /// `nil` when `samples` synthetic examples fit in memory (``MemoryBudget``); otherwise what they would
    /// need, for an error message that the caller starts with the count.
    ///
    /// ```swift
    /// DatasetOptions.samplesRefusal(1000)                 // nil
    /// DatasetOptions.samplesRefusal(100_000_000_000_000)  // "would need 3.2 PB (3200000000000000 bytes); this machine has ..."
    /// ```
    public static func samplesRefusal(_ samples: Int) -> String? {
        MemoryBudget.refusal(bytes: MemoryBudget.bytes([samples], elementSize: bytesPerSyntheticExample))
    }
}

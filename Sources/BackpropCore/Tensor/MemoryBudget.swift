#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place that decides whether an allocation asked for by outside
/// input (a model size from a file, a benchmark size from the command line)
/// can fit: bytes are computed with overflow checks and compared with the
/// machine's physical memory, before anything is allocated.
///
/// ```swift
/// let bytes = MemoryBudget.bytes([64, 1_000_000_000_000], elementSize: 4)   // 256000000000000
/// MemoryBudget.refusal(bytes: bytes)   // "would need 256 TB (256000000000000 bytes); this machine has 16 GB of memory"
/// ```
public enum MemoryBudget {
    /// The machine's physical memory in bytes (`sysconf(_SC_PHYS_PAGES) * _SC_PAGESIZE`);
    /// `Int.max` when the system does not say.
    public static let physicalBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return Int.max }
        let (bytes, overflow) = Int(pages).multipliedReportingOverflow(by: Int(size))
        return overflow ? Int.max : bytes
    }()

    /// The product of `counts` times `elementSize`; `nil` when it overflows `Int`
    /// (or a count is negative).
    ///
    /// ```swift
    /// MemoryBudget.bytes([100_000, 100_000], elementSize: 4)   // 40000000000
    /// MemoryBudget.bytes([1 << 40, 1 << 40], elementSize: 4)   // nil
    /// ```
    public static func bytes(_ counts: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for c in counts {
            guard c >= 0 else { return nil }
            let (p, o) = total.multipliedReportingOverflow(by: c)
            if o { return nil }
            total = p
        }
        return total
    }

    /// The sum of `parts`; `nil` when one is `nil` or the sum overflows.
    ///
    /// ```swift
    /// MemoryBudget.sum([MemoryBudget.bytes([3, 4], elementSize: 4), 8])   // 56
    /// ```
    public static func sum(_ parts: [Int?]) -> Int? {
        var total = 0
        for part in parts {
            guard let part else { return nil }
            let (s, o) = total.addingReportingOverflow(part)
            if o { return nil }
            total = s
        }
        return total
    }

    /// `nil` when `bytes` fit in physical memory; otherwise what they would
    /// need, for an error message. `nil` input means the size overflowed.
    ///
    /// ```swift
    /// MemoryBudget.refusal(bytes: 1 << 20)   // nil
    /// MemoryBudget.refusal(bytes: nil)       // "would need more than 9223372036854775807 bytes"
    /// ```
    public static func refusal(bytes: Int?, physicalBytes: Int = physicalBytes) -> String? {
        guard let bytes else { return "would need more than \(Int.max) bytes" }
        guard bytes > physicalBytes else { return nil }
        return "would need \(formatBytes(bytes)) (\(bytes) bytes); this machine has \(formatBytes(physicalBytes)) of memory"
    }

    /// `1.5 GB`, `256 TB`: decimal units, three significant digits at most.
    ///
    /// ```swift
    /// MemoryBudget.formatBytes(40_000_000_000)   // "40 GB"
    /// ```
    public static func formatBytes(_ bytes: Int) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes), unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        if unit == 0 { return "\(bytes) bytes" }
        let rounded = value >= 100 ? value.rounded() : value >= 10 ? (value * 10).rounded() / 10 : (value * 100).rounded() / 100
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }
}

import BackpropCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a file or a value read from outside the program: the
/// message names the file and what is wrong with it, and where it is wrong
/// when that is known (`data.csv:12:3: ...`).
///
/// ```swift
/// do { _ = try SafetensorsFile(path: "model.safetensors") }
/// catch let error as DataError { print(error) }   // "model.safetensors: header is not JSON: ..."
/// ```
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file, or another label for where the value came from.
    public let path: String
    /// What is wrong, without the path.
    public let message: String

    /// An error about `path` (empty when there is no file to name).
    ///
    /// ```swift
    /// let e = DataError(path: "data.csv:12:3", "not a number: \"abc\"")
    /// print(e)   // data.csv:12:3: not a number: "abc"
    /// ```
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message` on one line, or just the message when `path` is empty.
    public var description: String {
        // A path is outside input too: control bytes escaped (no raw ESC in a terminal), at most 400 characters.
        path.isEmpty ? message : "\(DataError.excerpt(path, limit: 400)): \(message)"
    }
}

/// Reading and writing whole files with POSIX calls, so that every failure
/// is a thrown ``DataError`` naming the file and the system's reason.
public enum FileIO {
    /// The system's description of the current `errno`.
    static func systemError() -> String { String(cString: strerror(errno)) }

    /// All bytes of a file.
    ///
    /// ```swift
    /// let bytes = try FileIO.readBytes(path: "train-labels-idx1-ubyte")
    /// ```
    public static func readBytes(path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError(path: path, "cannot open for reading: \(systemError())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError(path: path, "cannot stat: \(systemError())") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DataError(path: path, "is a directory, not a file") }
        var out: [UInt8] = []
        out.reserveCapacity(Int(st.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(path: path, "read failed: \(systemError())")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The contents of a UTF-8 text file.
    public static func readText(path: String) throws -> String {
        let bytes = try readBytes(path: path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataError(path: path, "is not valid UTF-8 text")
        }
        return text
    }

    /// `true` when `path` names an existing file or directory.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// `true` when `path` names an existing directory.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes `bytes` to `path` atomically: into a temporary file in the same
    /// directory, `fsync`, then `rename` over the target, then `fsync` of the
    /// directory. A crash at any point leaves either the old file or the new
    /// one, never a half-written file; a failure removes the temporary file
    /// and leaves an existing file at `path` untouched.
    ///
    /// ```swift
    /// try FileIO.writeAtomically(Array("hello\n".utf8), to: "out.txt")
    /// ```
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        guard !path.isEmpty else { throw DataError(path: path, "empty output path") }
        if isDirectory(path) { throw DataError(path: path, "cannot write: is a directory") }
        let directory: String
        let name: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
            name = String(path[path.index(after: slash)...])
        } else {
            directory = "."
            name = path
        }
        var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw DataError(path: path, "cannot write: \(systemError())") }
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // Locked and open until after the rename, so that a later write can tell this file from one a killed
        // process left (removeStaleTemporaries).
        _ = flock(fd, LOCK_EX | LOCK_NB)
        defer { close(fd) }
        var committed = false
        defer {
            if !committed { unlink(tempPath) }
        }
        do {
            var written = 0
            try bytes.withUnsafeBytes { raw in
                while written < raw.count {
                    let n = write(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DataError(path: path, "write failed: \(systemError())")
                    }
                    written += n
                }
            }
            // mkstemp creates the file 0600; a checkpoint or plot should be as readable as other files.
            let mask = umask(0); umask(mask)
            fchmod(fd, 0o666 & ~mask)
            guard fsync(fd) == 0 else { throw DataError(path: path, "fsync failed: \(systemError())") }
        }
        guard rename(tempPath, path) == 0 else {
            throw DataError(path: path, "cannot write: rename failed: \(systemError())")
        }
        committed = true
        removeStaleTemporaries(of: name, in: directory, keeping: tempPath)
        // Make the rename itself durable.
        let dirFD = open(directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    /// Checks, before long work, that ``writeAtomically(_:to:)`` could
    /// create `path`: it makes and removes a temporary file next to it. The
    /// error is the one the real write would give.
    public static func checkWritable(_ path: String) throws {
        guard !path.isEmpty else { throw DataError(path: path, "empty output path") }
        if isDirectory(path) { throw DataError(path: path, "cannot write: is a directory") }
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var template = Array("\(directory)/.backprop-check-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw DataError(path: path, "cannot write: \(systemError())") }
        close(fd)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    /// Writes UTF-8 text atomically; see ``writeAtomically(_:to:)``.
    public static func writeText(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }
}

// MARK: - Little-endian byte helpers

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

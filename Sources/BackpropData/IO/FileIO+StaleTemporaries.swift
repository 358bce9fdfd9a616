import BackpropCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension FileIO {
    /// How old (by modification time) a temporary file of ``writeAtomically(_:to:)`` must be before
    /// a later write of the same file removes it.
    static let staleTemporaryAge: time_t = 60

    /// Removes the temporary files `.NAME.tmp-XXXXXX` that writes of `NAME` in `directory` left behind
    /// when their process was killed (SIGKILL, power loss) between creating the file and renaming it.
    ///
    /// A file is removed only when no process holds its lock (``writeAtomically(_:to:)`` holds an
    /// exclusive `flock` on its temporary file until the rename; the kernel drops it when the process
    /// dies) and it has not been modified for ``staleTemporaryAge`` seconds (which covers the moment
    /// between `mkstemp` and `flock`). Errors are ignored: this is tidying, not the write.
    static func removeStaleTemporaries(of name: String, in directory: String, keeping own: String) {
        let prefix = "." + name + ".tmp-"
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        let now = time(nil)
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            // mkstemp's suffix is exactly six characters.
            guard entryName.hasPrefix(prefix), entryName.utf8.count == prefix.utf8.count + 6 else { continue }
            let candidate = directory + "/" + entryName
            guard candidate != own else { continue }
            let fd = open(candidate, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, now - st.st_mtim.tv_sec >= staleTemporaryAge else { continue }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }   // a live writer holds it
            unlink(candidate)
        }
    }
}

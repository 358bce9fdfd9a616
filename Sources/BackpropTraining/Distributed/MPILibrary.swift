import BackpropCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Open MPI, loaded at run time with `dlopen` as MLX does, so that building
/// Backprop never needs `mpi.h` or `libmpi`, and a binary built without Open
/// MPI still runs under `mpirun` where Open MPI is installed.
///
/// Open MPI's handles (`MPI_Comm`, `MPI_Datatype`, `MPI_Op`, `MPI_Errhandler`)
/// are pointers to predefined global objects: `MPI_COMM_WORLD` is
/// `&ompi_mpi_comm_world`, `MPI_FLOAT` is `&ompi_mpi_float`, and so on, so the
/// addresses that `dlsym` returns for those symbols *are* the handles. MPICH
/// and its derivatives use integer handles instead, and are not supported.
struct MPILibrary: @unchecked Sendable {   // function pointers and addresses of libmpi's globals, never mutated
    typealias Handle = UnsafeMutableRawPointer
    typealias Status = Int32

    let commWorld: Handle
    let float: Handle, double: Handle, byte: Handle, uint64: Handle
    let sum: Handle, max: Handle, min: Handle
    let errorsReturn: Handle

    let initialized: @convention(c) (UnsafeMutablePointer<Int32>) -> Status
    let initialize: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Status
    let finalized: @convention(c) (UnsafeMutablePointer<Int32>) -> Status
    let finalize: @convention(c) () -> Status
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Status
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Status
    let commSetErrhandler: @convention(c) (Handle, Handle) -> Status
    let barrier: @convention(c) (Handle) -> Status
    // MPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm)
    let allreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Status
    // MPI_Bcast(buffer, count, datatype, root, comm)
    let bcast: @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Status
    // MPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)
    let allgather: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle) -> Status
    let errorString: @convention(c) (Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>) -> Status
    let abort: @convention(c) (Handle, Int32) -> Status

    /// Open MPI's `MPI_IN_PLACE`: `((void *) 1)`.
    static var inPlace: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: 1) }

    /// The library names tried in order: Open MPI 4 and 5 on Linux, then macOS (Homebrew).
    static let candidates = ["libmpi.so.40", "libmpi.so", "libmpi.40.dylib", "libmpi.dylib"]

    /// Loads libmpi and looks up every function and handle; `nil` and the
    /// reason (every `dlerror` message) when that fails.
    static func load() -> Result<MPILibrary, DistributedError> {
        var reasons: [String] = []
        for name in candidates {
            // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve symbols of libmpi and libopen-pal.
            guard let lib = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
                reasons.append(dlerror().map { String(cString: $0) } ?? name)
                continue
            }
            do {
                return .success(try MPILibrary(lib, name: name))
            } catch {
                reasons.append(error.description)
            }
        }
        return .failure(DistributedError(
            "could not load Open MPI's libmpi (\(reasons.joined(separator: "; "))); "
            + "install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi)"))
    }

    private init(_ lib: UnsafeMutableRawPointer, name: String) throws(DistributedError) {
        func symbol(_ s: String) throws(DistributedError) -> UnsafeMutableRawPointer {
            guard let p = dlsym(lib, s) else {
                throw DistributedError("\(name) has no symbol \(s): Backprop needs Open MPI (MPICH is not supported)")
            }
            return p
        }
        func function<F>(_ s: String) throws(DistributedError) -> F {
            unsafeBitCast(try symbol(s), to: F.self)
        }
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        byte = try symbol("ompi_mpi_byte")
        uint64 = try symbol("ompi_mpi_uint64_t")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        min = try symbol("ompi_mpi_op_min")
        errorsReturn = try symbol("ompi_mpi_errors_return")
        initialized = try function("MPI_Initialized")
        initialize = try function("MPI_Init")
        finalized = try function("MPI_Finalized")
        finalize = try function("MPI_Finalize")
        commRank = try function("MPI_Comm_rank")
        commSize = try function("MPI_Comm_size")
        commSetErrhandler = try function("MPI_Comm_set_errhandler")
        barrier = try function("MPI_Barrier")
        allreduce = try function("MPI_Allreduce")
        bcast = try function("MPI_Bcast")
        allgather = try function("MPI_Allgather")
        errorString = try function("MPI_Error_string")
        abort = try function("MPI_Abort")
    }

    /// MPI's own text for an error code (`MPI_Error_string`).
    func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)   // MPI_MAX_ERROR_STRING is 256 in Open MPI
        var length: Int32 = 0
        guard errorString(code, &buffer, &length) == 0 else { return "MPI error \(code)" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws a ``DistributedError`` naming `operation` when `code` is not `MPI_SUCCESS`.
    func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(DistributedError) {
        guard code != 0 else { return }
        throw DistributedError("\(operation()) failed: \(message(code)) (MPI error \(code))")
    }
}

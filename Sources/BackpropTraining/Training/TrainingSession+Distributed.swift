import BackpropData

extension TrainingSession {
    /// The bytes of the checkpoint to resume from. In a distributed run only rank 0 reads
    /// `path` and broadcasts the bytes, so every rank resumes from the same model, optimizer
    /// state and position even when the other hosts have no copy of the file, or a stale one
    /// (only rank 0 writes checkpoints). A file rank 0 cannot read is rank 0's error.
    static func resumeBytes(path: String, in group: ProcessGroup) throws -> [UInt8] {
        guard group.isDistributed else { return try FileIO.readBytes(path: path) }
        let mine = group.rank == 0 ? try FileIO.readBytes(path: path) : []
        return try group.broadcast(bytes: mine, from: 0)
    }
}

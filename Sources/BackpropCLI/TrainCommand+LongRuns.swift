import ArgumentParser
import Backprop
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The options of `backprop train` for long runs: resuming, schedules, clipping, threads, early stopping.
struct LongRunOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Continue from a checkpoint written by train (model, optimizer state, epoch, options); --epochs is the total.",
                                            valueName: "checkpoint"))
    var resume: String?
    @Option(name: .long, help: "Learning-rate schedule per epoch: step:EPOCHS:GAMMA (StepLR) | cosine (CosineAnnealingLR to 0 over the run).")
    var schedule: String?
    @Option(name: .customLong("clip-grad-norm"), help: ArgumentHelp("Clip the gradients' global 2-norm to X before each step.", valueName: "x"))
    var clipGradNorm: Double?
    @Option(name: .long, help: "Threads for the large kernels (default: the processors available).")
    var threads: Int?
    @Option(name: .customLong("early-stopping"),
            help: ArgumentHelp("Stop after PATIENCE epochs without a lower validation loss; keep the best checkpoint as NAME.best.safetensors.",
                               valueName: "patience"))
    var earlyStopping: Int?

    /// Copies the options into `o`; a bad value is an error naming the flag.
    func apply(to o: inout TrainingOptions) throws {
        if let schedule {
            do { o.schedule = try ScheduleKind(parsing: schedule) } catch let e as ValueError {
                throw CLIError("--schedule \(schedule): " + e.message.replacing("schedule '\(schedule)': ", with: ""))
            }
        }
        if let clipGradNorm {
            guard clipGradNorm > 0 && clipGradNorm.isFinite else { throw CLIError("--clip-grad-norm \(clipGradNorm): must be a positive number") }
            o.maxGradNorm = clipGradNorm
        }
        if let threads {
            guard threads >= 1 else { throw CLIError("--threads \(threads): must be at least 1") }
            o.threads = threads
        }
        if let earlyStopping {
            guard earlyStopping >= 1 else { throw CLIError("--early-stopping \(earlyStopping): the patience must be at least 1 epoch") }
            o.earlyStoppingPatience = earlyStopping
        }
        o.resumePath = resume
    }
}

extension TrainCommand {
    /// Options that contradict each other, refused with one line naming both flags (each would
    /// otherwise be silently ignored).
    func checkConflicts(resume: Bool) throws {
        if model != nil {
            for (flag, given) in [("--layers", layers != nil), ("--hidden", hidden != nil),
                                  ("--activation", activation != nil), ("--dropout", dropout != nil), ("--loss", loss != nil)] where given {
                throw CLIError("--model and \(flag) conflict: the model file describes the layers, activation, dropout and loss")
            }
        }
        // (--target on other data is refused by the library's own check of the options.)
        if !"\(dataset)".hasPrefix("csv:") {
            for (flag, given) in [("--task", task != nil), ("--features", features != nil)] where given {
                throw CLIError("--dataset \(dataset) and \(flag) conflict: \(flag) applies only to csv:FILE datasets")
            }
        }
        if resume {
            // The resumed run takes these from the checkpoint; a value given here would be ignored. (A flag
            // given with the library's default value cannot be told from an absent one, and passes.)
            let d = Self.defaults
            let recorded: [(String, Bool)] = [
                ("--dataset", dataset != d.dataset), ("--model", model != nil), ("--layers", layers != nil), ("--hidden", hidden != nil),
                ("--activation", Self.given(activation, d.activation)), ("--dropout", Self.given(dropout, d.dropout)),
                ("--loss", loss != nil), ("--optimizer", Self.given(optimizer, d.optimizer)), ("--lr", Self.given(learningRate, d.learningRate)),
                ("--seed", Self.given(seed, d.seed)), ("--batch-size", Self.given(batchSize, d.batchSize)),
                ("--momentum", Self.given(momentum, d.momentum)),
                ("--weight-decay", Self.given(weightDecay, d.weightDecay ?? (optimizer ?? d.optimizer).defaultWeightDecay)),
                ("--samples", Self.given(samples, d.samples)), ("--noise", noise != nil),
                ("--validation-split", Self.given(validationSplit, d.validationSplit)),
                ("--standardize", standardize != nil), ("--target", target != nil), ("--task", task != nil), ("--features", features != nil),
                ("--schedule", longRun.schedule != nil), ("--clip-grad-norm", longRun.clipGradNorm != nil),
                ("--early-stopping", longRun.earlyStopping != nil),
            ]
            for (flag, given) in recorded where given {
                throw CLIError("--resume and \(flag) conflict: a resumed run uses the options recorded in the checkpoint")
            }
        }
    }
}

extension TrainCommand {
    // Whether an option differs from its default (an unset optional does not).
    static func given<T: Equatable>(_ x: T, _ defaultValue: T) -> Bool { x != defaultValue }
    static func given<T: Equatable>(_ x: T?, _ defaultValue: T) -> Bool { x.map { $0 != defaultValue } ?? false }
}

/// The width of the terminal on standard output (TIOCGWINSZ), or 80 when it is not a terminal or does not say.
func terminalColumns(_ fd: Int32 = STDOUT_FILENO) -> Int {
    var size = winsize()
    guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
}

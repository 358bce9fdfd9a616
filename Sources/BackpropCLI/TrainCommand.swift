import ArgumentParser
import Backprop
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `backprop train`: train a multilayer perceptron on a shipped, synthetic,
/// MNIST or CSV dataset, with progress, an SVG of the curves and a
/// safetensors checkpoint that PyTorch loads.
public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network on a dataset and save a safetensors checkpoint.",
        discussion: """
            Datasets: \(DatasetSpec.forms.joined(separator: ", ")). The digits dataset (UCI handwritten digits,
            8x8, 1,797 images) is built in. Ctrl-C stops after the current batch and still saves the checkpoint.
            Example: backprop train --dataset digits --checkpoint digits.safetensors --plot curves.svg
            """
    )

    /// The library's defaults, which the flags' defaults show.
    static let defaults = TrainingOptions()

    @Option(name: .long, help: "digits | spirals[:K] | moons | sine | blobs[:K] | mnist:FOLDER | fashion-mnist[:FOLDER] | csv:FILE (default: \(defaults.dataset))",
            transform: ArgumentParsers.dataset)
    var dataset: DatasetSpec = defaults.dataset
    @Option(name: .long, parsing: .unconditional, help: "CSV target column: a header name or a 0-based index (-1: last).")
    var target: String?
    @Option(name: .long, parsing: .unconditional, help: "CSV feature columns, comma-separated (default: all but the target).",
            transform: ArgumentParsers.names)
    var features: [String]?
    @Option(name: .long, help: "CSV task (default: \(defaults.task)).")
    var task: CSVTask?
    @Option(name: .long, help: "Examples to generate for a synthetic dataset.")
    var samples = defaults.samples
    @Option(name: .long, help: "Noise of a synthetic dataset (default per dataset).")
    var noise: Double?

    @Option(name: .long, parsing: .unconditional, help: "Widths from input to output, e.g. 64,128,10 (default: the data's sizes around --hidden).",
            transform: ArgumentParsers.widths)
    var layers: [Int]?
    @Option(name: .long, parsing: .unconditional, help: "Hidden widths when --layers is not given, e.g. 128 or 64,64.",
            transform: ArgumentParsers.widths)
    var hidden: [Int]?
    @Option(name: .long, help: "Hidden activation: \(Activation.forms.joined(separator: " | ")) (default: \(defaults.activation)).",
            transform: { try Activation(parsing: $0) })
    var activation: Activation?
    @Option(name: .long, help: "Dropout probability after each hidden activation (default: \(defaults.dropout)).")
    var dropout: Double?
    @Option(name: .long, help: "Loss (default: cross_entropy for classes, mse otherwise).")
    var loss: LossKind?
    @Option(name: .long, help: "A JSON model spec {\"layers\": [...], \"activation\": ..., \"dropout\": ..., \"loss\": ..., \"training\": {\"epochs\": ...}}; flags override its training recipe.")
    var model: String?

    // The options a model file's training recipe may also set are optional here, so that a flag given
    // overrides the file and an absent one does not.
    @Option(name: .long, help: "Optimizer (default: \(defaults.optimizer)).")
    var optimizer: OptimizerKind?
    @Option(name: .customLong("lr"), help: "Learning rate (default: \(defaults.learningRate)).")
    var learningRate: Double?
    @Option(name: .long, help: "Momentum for sgd and rmsprop (default: \(defaults.momentum)).")
    var momentum: Double?
    @Option(name: .customLong("weight-decay"),
            help: "Weight decay, L2 for sgd/adam/rmsprop, decoupled for adamw (default: PyTorch's, 0.01 for adamw, 0 otherwise).")
    var weightDecay: Double?
    @Option(name: .long, help: "Passes over the training data (default per dataset; digits: 40).")
    var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Examples per step (default: \(defaults.batchSize)).")
    var batchSize: Int?
    @Option(name: .long, help: "Seed for the split, the initial weights and the shuffling (default: \(defaults.seed)).")
    var seed: UInt64?
    @Option(name: .customLong("validation-split"), help: "Fraction of the data held out for validation (default: \(defaults.validationSplit)).")
    var validationSplit: Double?
    @Flag(inversion: .prefixedNo, help: "Standardise features with the training split's mean and std (default: on, except for MNIST).")
    var standardize: Bool?

    @Option(name: .long, help: "Write the loss and accuracy curves as SVG.")
    var plot: String?
    @Option(name: .long, help: "Write a self-contained HTML report: curves, norms, confusion matrix, misclassified images, decision regions.")
    var report: String?
    @Option(name: .long, help: "Save the trained model as a safetensors checkpoint.")
    var checkpoint: String?
    @Option(name: .long, help: "Progress: auto is a bar on a terminal, lines otherwise.")
    var progress: ProgressChoice = .auto
    @OptionGroup var longRun: LongRunOptions

    public init() {}

    /// The flag of each option the library checks, for its errors.
    static let flags: KeyValuePairs<ValueError.Field, String> = [
        .dataset: "--dataset", .target: "--target", .samples: "--samples", .noise: "--noise", .layers: "--layers",
        .hidden: "--hidden", .dropout: "--dropout", .loss: "--loss",
        .learningRate: "--lr", .momentum: "--momentum", .weightDecay: "--weight-decay", .epochs: "--epochs",
        .batchSize: "--batch-size", .validationSplit: "--validation-split",
        .threads: "--threads", .maxGradNorm: "--clip-grad-norm", .earlyStoppingPatience: "--early-stopping", .schedule: "--schedule",
    ]

    /// The options as the library takes them: the defaults, then the model file's training recipe (not when
    /// resuming: the checkpoint's options apply), then the flags given.
    func options() throws -> TrainingOptions {
        try checkConflicts(resume: longRun.resume != nil)
        var o = TrainingOptions()
        if let model, longRun.resume == nil {
            try ModelSpec(json: FileIO.readText(path: model), source: model).training?.apply(to: &o)
        }
        o.dataset = dataset
        o.target = target
        o.features = features
        if let task { o.task = task }
        o.samples = samples
        o.noise = noise
        o.layers = layers
        o.hidden = hidden
        if let activation { o.activation = activation }
        if let dropout { o.dropout = dropout }
        o.loss = loss
        o.modelPath = model
        if let optimizer { o.optimizer = optimizer }
        if let learningRate { o.learningRate = learningRate }
        if let momentum { o.momentum = momentum }
        if let weightDecay { o.weightDecay = weightDecay }
        if let epochs { o.epochs = epochs }
        if let batchSize { o.batchSize = batchSize }
        if let seed { o.seed = seed }
        if let validationSplit { o.validationSplit = validationSplit }
        o.standardize = standardize
        o.checkpointPath = checkpoint
        o.progress = progress.style(isTerminal: isatty(STDOUT_FILENO) != 0)
        try longRun.apply(to: &o)
        o.terminalColumns = terminalColumns()
        return o
    }

    /// `backprop train` and the arguments it was given, for the report's heading.
    static func commandLine() -> String {
        (["backprop", "train"] + CommandLine.arguments.drop { $0 != "train" }.dropFirst()).joined(separator: " ")
    }

    /// Checks the options with the library's rules before anything runs; an error names the flag.
    public func validate() throws {
        try naming(Self.flags, validation: true) { try options().validate() }
    }

    /// Trains with ``TrainingSession``, printing progress unbuffered; Ctrl-C stops after the
    /// current batch, still saves the outputs, and exits with status 130.
    ///
    /// Under `mpirun` with several processes the ranks train together (see
    /// ``DistributedRun``): only rank 0 prints and writes files.
    public func run() throws {
        let options = try options()
        let group = try DistributedRun.group()
        let interrupt = InterruptFlag.install()
        defer { interrupt.uninstall() }
        let result = try DistributedRun.stoppingAllRanksOnError(group) {
            if let plot, group.rank == 0 { try FileIO.checkWritable(plot) }   // fail now, not after training
            if let report, group.rank == 0 { try FileIO.checkWritable(report) }
            return try naming(Self.flags) {
                try TrainingSession.run(options, output: { text in
                    writeUnbuffered(text, to: STDOUT_FILENO)
                }, shouldStop: { interrupt.isSet }, in: group)
            }
        }
        if let plot, !result.history.epochs.isEmpty, group.rank == 0 {
            let curves = LinePlot.trainingCurves(result.history.epochs, title: "backprop train --dataset \(options.dataset)")
            try FileIO.writeText(curves.svg(), to: plot)
            writeUnbuffered("plot: \(plot)\n", to: STDOUT_FILENO)
        }
        if let report, group.rank == 0 {
            try FileIO.writeText(result.htmlPage(options: options, command: TrainCommand.commandLine()).render(), to: report)
            writeUnbuffered("report: \(report)\n", to: STDOUT_FILENO)
        }
        // Interrupted runs still saved their outputs; 130 (128 + SIGINT) tells a script the run was cut short.
        if result.history.interrupted { throw ExitCode(130) }
    }
}

extension String {
    func trimmed() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Ctrl-C during training: the first SIGINT sets a flag that the training
/// loop checks after each batch (so the run stops cleanly and saves); a
/// second one exits at once.
// @unchecked: `source` is created once in init and only resumed/cancelled from the main thread.
final class InterruptFlag: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private var source: (any DispatchSourceSignal)?
    private let quit: @Sendable () -> Void
    private let message: @Sendable (String) -> Void

    /// A flag not yet tied to SIGINT; `quit` ends the process on the second signal. (Raising SIGINT
    /// again from the handler does not work: it runs on a dispatch thread that blocks the signal, so
    /// the signal stayed pending and the run went on.)
    init(quit: @escaping @Sendable () -> Void = { _exit(130) },
         message: @escaping @Sendable (String) -> Void = { writeUnbuffered($0, to: STDERR_FILENO) }) {
        self.quit = quit
        self.message = message
    }

    static func install() -> InterruptFlag {
        let f = InterruptFlag()
        signal(SIGINT, SIG_IGN)   // let the dispatch source see SIGINT instead of the default handler
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        // Two quick presses may arrive as one event: `data` counts the signals since the last one.
        source.setEventHandler { [f] in for _ in 0..<max(Int(f.source?.data ?? 1), 1) { f.signalReceived() } }
        f.source = source
        source.resume()
        return f
    }

    /// What a SIGINT does: the first sets the flag, the second quits at once (exit status 130).
    func signalReceived() {
        if flag.exchange(true, ordering: .sequentiallyConsistent) {
            message("\nCtrl-C again: quitting now\n")
            quit()
            return
        }
        message("\nCtrl-C: stopping after the current batch (press again to quit now)\n")
    }

    var isSet: Bool { flag.load(ordering: .sequentiallyConsistent) }

    func uninstall() {
        source?.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

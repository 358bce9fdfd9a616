import BackpropCore
import BackpropNN
import BackpropData

/// How a model file says it should be trained: the optional `"training"` object of a model file, with
/// the names of `backprop train`'s options (`epochs`, `schedule`, `validation_split`, ...). Each setting
/// it gives replaces the default of ``TrainingOptions``; whoever builds the options then applies their
/// own settings on top (`backprop train`'s flags override the file).
///
/// ```swift
/// let spec = try ModelSpec(json: #"{"layers": [64, 128, 10], "training": {"epochs": 10, "schedule": "cosine", "validation_split": 0}}"#)
/// var options = TrainingOptions()
/// spec.training?.apply(to: &options)   // options.epochs == 10, .schedule == .cosine, .validationSplit == 0
/// options.epochs = 12                  // a caller's own setting wins
/// ```
public struct TrainingRecipe: Equatable, Sendable {
    /// `optimizer`: ``TrainingOptions/optimizer``.
    public var optimizer: OptimizerKind?
    /// `lr`: ``TrainingOptions/learningRate``.
    public var learningRate: Double?
    /// `momentum`: ``TrainingOptions/momentum``.
    public var momentum: Double?
    /// `weight_decay`: ``TrainingOptions/weightDecay``.
    public var weightDecay: Double?
    /// `epochs`: ``TrainingOptions/epochs``.
    public var epochs: Int?
    /// `batch_size`: ``TrainingOptions/batchSize``.
    public var batchSize: Int?
    /// `validation_split`: ``TrainingOptions/validationSplit``.
    public var validationSplit: Double?
    /// `seed`: ``TrainingOptions/seed``.
    public var seed: UInt64?
    /// `schedule` (`"cosine"` or `"step:EPOCHS:GAMMA"`): ``TrainingOptions/schedule``.
    public var schedule: ScheduleKind?
    /// `clip_grad_norm`: ``TrainingOptions/maxGradNorm``.
    public var maxGradNorm: Double?
    /// `early_stopping` (the patience in epochs): ``TrainingOptions/earlyStoppingPatience``.
    public var earlyStoppingPatience: Int?

    /// A recipe that sets nothing.
    ///
    /// ```swift
    /// var recipe = TrainingRecipe()
    /// recipe.epochs = 10
    /// ```
    public init() {}

    /// The keys of the JSON object, as `backprop train`'s options are named (`--batch-size` is `batch_size`).
    public static let keys = ["optimizer", "lr", "momentum", "weight_decay", "epochs", "batch_size", "validation_split",
                              "seed", "schedule", "clip_grad_norm", "early_stopping"]

    /// Reads the `"training"` object of a model file. Unknown keys and bad values are ``SpecError``s
    /// whose path starts with `path` (`training.epochs`); the values obey the rules of ``TrainingOptions``.
    ///
    /// ```swift
    /// try TrainingRecipe(jsonValue: try JSON.parse(#"{"epochs": 0}"#))   // throws: training.epochs: must be a whole number >= 1, got 0
    /// ```
    public init(jsonValue v: JSON, path: String = "training") throws {
        guard let members = v.objectValue else {
            throw SpecError(path, "expected an object such as {\"epochs\": 10, \"schedule\": \"cosine\"}, got \(v.kindName)")
        }
        if let unknown = members.first(where: { !Self.keys.contains($0.0) }) {
            throw SpecError(path, "unknown key \"\(SpecError.clip(unknown.0))\" (known: \(Self.keys.joined(separator: ", ")))")
        }
        // A value as the file wrote it (a number) or its kind.
        func shown(_ item: JSON) -> String { item.numberValue != nil ? item.compactText : item.kindName }
        func number(_ key: String, _ rule: String, _ ok: (Double) -> Bool) throws -> Double? {
            guard let item = v[key] else { return nil }
            guard let x = item.numberValue, x.isFinite, ok(x) else {
                throw SpecError("\(path).\(key)", "must be \(rule), got \(shown(item))")
            }
            return x
        }
        func whole(_ key: String, _ minimum: Int) throws -> Int? {
            guard let item = v[key] else { return nil }
            guard let n = item.intValue, n >= minimum else {
                throw SpecError("\(path).\(key)", "must be a whole number >= \(minimum), got \(shown(item))")
            }
            return n
        }
        if let item = v["optimizer"] {
            guard let kind = item.stringValue.flatMap(OptimizerKind.init(rawValue:)) else {
                throw SpecError("\(path).optimizer", "expected one of \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            optimizer = kind
        }
        learningRate = try number("lr", "a positive number") { $0 > 0 }
        momentum = try number("momentum", "0 or more") { $0 >= 0 }
        weightDecay = try number("weight_decay", "0 or more") { $0 >= 0 }
        epochs = try whole("epochs", 1)
        batchSize = try whole("batch_size", 1)
        validationSplit = try number("validation_split", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        seed = try whole("seed", 0).map { UInt64($0) }
        if let item = v["schedule"] {
            guard let text = item.stringValue else {
                throw SpecError("\(path).schedule", "expected a string such as \"cosine\" or \"step:10:0.5\", got \(item.kindName)")
            }
            do { schedule = try ScheduleKind(parsing: text) } catch let e as ValueError {
                throw SpecError("\(path).schedule", e.message)
            }
        }
        maxGradNorm = try number("clip_grad_norm", "a positive number") { $0 > 0 }
        earlyStoppingPatience = try whole("early_stopping", 1)
    }

    /// The recipe as its JSON object, keys in the order of ``keys``, only those it sets.
    ///
    /// ```swift
    /// var recipe = TrainingRecipe()
    /// recipe.epochs = 10
    /// recipe.json.compactText   // {"epochs":10}
    /// ```
    public var json: JSON {
        var m: [(String, JSON)] = []
        if let optimizer { m.append(("optimizer", .string(optimizer.rawValue))) }
        if let learningRate { m.append(("lr", .number(learningRate))) }
        if let momentum { m.append(("momentum", .number(momentum))) }
        if let weightDecay { m.append(("weight_decay", .number(weightDecay))) }
        if let epochs { m.append(("epochs", .number(Double(epochs)))) }
        if let batchSize { m.append(("batch_size", .number(Double(batchSize)))) }
        if let validationSplit { m.append(("validation_split", .number(validationSplit))) }
        if let seed { m.append(("seed", .number(Double(seed)))) }
        if let schedule { m.append(("schedule", .string(schedule.description))) }
        if let maxGradNorm { m.append(("clip_grad_norm", .number(maxGradNorm))) }
        if let earlyStoppingPatience { m.append(("early_stopping", .number(Double(earlyStoppingPatience)))) }
        return .object(m)
    }

    /// Sets each option the recipe gives, leaving the others as they are. Apply it first, then the
    /// caller's own settings, so that they win.
    ///
    /// ```swift
    /// var options = TrainingOptions()
    /// recipe.apply(to: &options)
    /// ```
    public func apply(to o: inout TrainingOptions) {
        if let optimizer { o.optimizer = optimizer }
        if let learningRate { o.learningRate = learningRate }
        if let momentum { o.momentum = momentum }
        if let weightDecay { o.weightDecay = weightDecay }
        if let epochs { o.epochs = epochs }
        if let batchSize { o.batchSize = batchSize }
        if let validationSplit { o.validationSplit = validationSplit }
        if let seed { o.seed = seed }
        if let schedule { o.schedule = schedule }
        if let maxGradNorm { o.maxGradNorm = maxGradNorm }
        if let earlyStoppingPatience { o.earlyStoppingPatience = earlyStoppingPatience }
    }
}

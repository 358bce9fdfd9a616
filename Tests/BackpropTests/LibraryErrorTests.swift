import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

/// The library's errors about values given from outside name the value and
/// carry a typed field; only the command line turns fields into flags.
@Suite("Library errors name values, not flags")
struct LibraryErrorTests {
    /// The error `body` throws, or nil.
    func error(_ body: () throws -> Void) -> (any Error)? {
        do { try body(); return nil } catch { return error }
    }

    func options(_ edit: (inout TrainingOptions) -> Void) -> TrainingOptions {
        var o = TrainingOptions()
        edit(&o)
        return o
    }

    @Test("each bad training option is a ValueError naming the value, with the option's field")
    func trainingOptions() throws {
        let cases: [(TrainingOptions, ValueError)] = [
            (options { $0.learningRate = -1 }, ValueError(.learningRate, "learning rate must be positive, got -1.0")),
            (options { $0.learningRate = .nan }, ValueError(.learningRate, "learning rate must be positive, got nan")),
            (options { $0.batchSize = 0 }, ValueError(.batchSize, "batch size must be positive, got 0")),
            (options { $0.epochs = 0 }, ValueError(.epochs, "epochs must be at least 1, got 0")),
            (options { $0.validationSplit = 1 }, ValueError(.validationSplit, "validation split must be in [0, 1), got 1.0")),
            (options { $0.momentum = -0.1 }, ValueError(.momentum, "momentum must be 0 or more, got -0.1")),
            (options { $0.weightDecay = -1 }, ValueError(.weightDecay, "weight decay must be 0 or more, got -1.0")),
            (options { $0.samples = 0 }, ValueError(.samples, "the number of samples must be positive, got 0")),
            (options { $0.noise = -1 }, ValueError(.noise, "noise must be 0 or more, got -1.0")),
            (options { $0.layers = [64] }, ValueError(.layers, "layers [64]: need at least an input and an output width")),
            (options { $0.layers = [64, 0, 10] }, ValueError(.layers, "layers [64, 0, 10]: width 0 is not positive")),
            (options { $0.hidden = [8, -2] }, ValueError(.hidden, "hidden widths [8, -2]: width -2 is not positive")),
            (options { $0.dropout = 1 }, ValueError(.dropout, "dropout must be in [0, 1), got 1.0")),
            (options { $0.target = "y" }, ValueError(.target, "a target column applies only to csv:FILE datasets, not digits")),
        ]
        for (o, expected) in cases {
            #expect(throws: expected) { try o.validate() }
            // run checks the same way, before it loads anything
            #expect(throws: expected) { try TrainingSession.run(o, output: { _ in }) }
            // the command line has a flag for every field the library checks
            #expect(TrainCommand.flags.contains { $0.key == expected.field }, "\(expected.field)")
        }
        try TrainingOptions().validate()   // the defaults are valid
    }

    @Test("dataset texts, inputs, splits, β, step sizes and expression inputs: no flag in any message")
    func noFlagsInMessages() throws {
        let checkpoint = DataTestSupport.fixture("safetensors/swift_mlp_f32.safetensors")
        let lab = DataTestSupport.repositoryRoot + "/examples/lab-network.json"
        let errors: [(any Error)?] = [
            error { _ = try DatasetSpec(parsing: "nope") },
            error { _ = try DatasetSpec(parsing: "spirals:1") },
            error { _ = try DatasetSpec(parsing: "csv:") },
            error { _ = try DatasetSpec.csv(path: "d.csv").load(.training, options: DatasetOptions()) },
            error { _ = try Inference.predict(checkpoint: checkpoint, input: "1,x,3,4") },
            error { _ = try Inference.predict(checkpoint: checkpoint, input: "1,2") },
            error { _ = try Inference.evaluate(checkpoint: checkpoint, dataset: .moons, split: .validation) },
            error { _ = try softmaxReport(values: [1, 2], betas: []) },
            error { _ = try softmaxReport(values: [1, 2], betas: [0]) },
            error { _ = try explainFile(at: lab, learningRate: .infinity) },
            error { _ = try Bindings.parse("x=[1,") },
            error { _ = try ExpressionJacobian(program: ExpressionProgram(parsing: "x*x"), wrt: "q", at: Bindings.parse("x=1")) },
            error { _ = try ExpressionGraph(program: ExpressionProgram(parsing: "x*y"), at: Bindings.parse("x=1")) },
            error { _ = try ExpressionGraph(program: ExpressionProgram(parsing: "x = 2"), at: Bindings.parse("x=1")) },
        ]
        for e in errors {
            let text = e.map { "\($0)" }
            #expect(text != nil)
            #expect(text?.contains("--") == false, "\(text ?? "")")
        }
        #expect(throws: ValueError(.dataset, "dataset spirals:1: the class count must be an integer >= 2, got 1")) {
            try DatasetSpec(parsing: "spirals:1")
        }
        #expect(throws: ValueError(.input, "input 1,2: 2 values, but the model in \(checkpoint) takes 4 features")) {
            try Inference.predict(checkpoint: checkpoint, input: "1,2")
        }
        #expect((error { _ = try Inference.evaluate(checkpoint: checkpoint, dataset: .moons, split: .validation) } as? ValueError)?.field
                == .split)
        #expect(throws: ValueError(.betas, "β must be a finite number other than 0, got 0 (the smooth maximum divides by β)")) {
            try softmaxReport(values: [1, 2], betas: [0])
        }
        #expect(throws: ValueError(.learningRate, "learning rate must be a finite number, got inf")) {
            try explainFile(at: lab, learningRate: .infinity)
        }
        #expect((error { _ = try Bindings.parse("x=[1,") } as? ExpressionError)?.subject == .values("x=[1,"))
    }

    @Test("the command line names the flag of each library error")
    func commandLineNamesFlags() {
        let checkpoint = DataTestSupport.fixture("safetensors/swift_mlp_f32.safetensors")
        func errors(_ arguments: [String]) -> [String] {
            var lines: [String] = []
            _ = BackpropCommand.runMain(arguments: arguments, output: { _ in }, errorOutput: { lines.append($0) })
            return lines
        }
        #expect(errors(["predict", checkpoint, "--input", "1,x,3,4"]) == ["error: --input: input 1,x,3,4: value 2 'x' is not a number"])
        #expect(errors(["eval", checkpoint, "--dataset", "moons", "--split", "train"])
                == ["error: --split: the train split applies only to digits and csv:FILE datasets; moons is evaluated on a fresh sample (another seed), not on the examples trained on"])
        #expect(errors(["jacobian", "x*x", "--wrt", "x", "--at", "x=1;"])
                == ["error: --at \"x=1;\", column 4: expected ',' between values, found ';'"])
    }

    @Test("one default learning rate: the optimizer kind's, used by the options and the command line")
    func defaultLearningRate() throws {
        #expect(OptimizerKind.defaultLearningRate == 1e-3)
        #expect(TrainingOptions().learningRate == OptimizerKind.defaultLearningRate)
        #expect(try TrainCommand.parse([]).options().learningRate == OptimizerKind.defaultLearningRate)
    }
}

@Suite("AdamW weight decay: 0 means 0")
struct AdamWWeightDecayTests {
    @Test("make uses the weight decay as given; nil is PyTorch's default, 0.01 for AdamW")
    func weightDecay() throws {
        let p = [Tensor<Float>([1, 2]).requiringGrad()]
        let zero = try #require(OptimizerKind.adamw.make(parameters: p, learningRate: 0.1, momentum: 0, weightDecay: 0) as? AdamW<Float>)
        #expect(zero.weightDecay == 0)
        let standard = try #require(OptimizerKind.adamw.make(parameters: p, learningRate: 0.1, momentum: 0) as? AdamW<Float>)
        #expect(standard.weightDecay == 0.01)
        let adam = try #require(OptimizerKind.adam.make(parameters: p, learningRate: 0.1, momentum: 0) as? Adam<Float>)
        #expect(adam.weightDecay == 0)
        #expect(try TrainCommand.parse(["--optimizer", "adamw"]).options().weightDecay == nil)
        #expect(try TrainCommand.parse(["--optimizer", "adamw", "--weight-decay", "0"]).options().weightDecay == 0)
    }

    @Test("AdamW with weight decay 0 steps exactly as Adam; with the default it shrinks the weights by 1 - ηλ first")
    func stepWithoutDecay() throws {
        func step(_ kind: OptimizerKind, weightDecay: Double?) -> [Float] {
            let w = Tensor<Float>([1, -2, 3]).requiringGrad()
            let optimizer = kind.make(parameters: [w], learningRate: 0.1, momentum: 0, weightDecay: weightDecay)
            (w * w).sum().backward()
            optimizer.step()
            return w.scalars
        }
        #expect(step(.adamw, weightDecay: 0) == step(.adam, weightDecay: 0))
        // First Adam step moves each weight by η sign(g) (m̂/√v̂ = ±1); AdamW's default decay first scales by 1 - 0.1 · 0.01.
        let decayed = step(.adamw, weightDecay: nil)
        for (got, w) in zip(decayed, [1.0, -2, 3]) {
            let want = w * (1 - 0.1 * 0.01) - 0.1 * (w > 0 ? 1 : -1)
            #expect(abs(Double(got) - want) < 1e-6, "\(got) vs \(want)")
        }
    }
}

@Suite("Shape rules: one rule per op, for its precondition and the expression language")
struct ShapeRuleTests {
    static let pairs: [([Int], [Int])] = [
        ([2, 3], [3]), ([3], [3, 4]), ([3], [3]), ([2, 3], [3, 4]), ([5, 2, 3], [3, 4]), ([3], [5, 3, 4]),
        ([5, 2, 3], [3]), ([2, 1, 2, 3], [4, 3, 2]), ([2, 3], [2, 3]), ([], [3]), ([2, 5, 3], [4, 3, 2]),
    ]

    @Test("matmul: the rule's shape is the op's result shape, and its error is the expression's error")
    func matmulRule() throws {
        for (a, b) in Self.pairs {
            let text = "x @ y"
            let at = "x=\(literal(a)),y=\(literal(b))"
            do {
                let shape = try ShapeRule.matmul(a, b)
                #expect(matmul(Tensor<Double>.zeros(a), Tensor<Double>.zeros(b)).shape == shape, "\(a) x \(b)")
                let graph = try ExpressionGraph(program: ExpressionProgram(parsing: text), at: Bindings.parse(at))
                #expect(graph.nodes[graph.output].value.shape == shape)
            } catch let e as ShapeError {
                #expect(throws: ExpressionError(e.message, at: SourcePosition(line: 1, column: 3))) {
                    try ExpressionGraph(program: ExpressionProgram(parsing: text), at: Bindings.parse(at))
                }
            }
        }
        #expect(throws: ShapeError("matmul: [2, 5, 3] x [4, 3, 2]: batch shapes [2] and [4] cannot be broadcast together")) {
            try ShapeRule.matmul([2, 5, 3], [4, 3, 2])
        }
        #expect(try ShapeRule.matmul([2, 1, 2, 3], [4, 3, 2]) == [2, 4, 2, 2])
    }

    @Test("broadcasting and linear")
    func otherRules() throws {
        #expect(try ShapeRule.broadcast("mul", [4, 1, 3], [2, 1]) == [4, 2, 3])
        #expect(throws: ShapeError("add: shapes [2, 3] and [4] cannot be broadcast together")) { try ShapeRule.broadcast("add", [2, 3], [4]) }
        #expect(try ShapeRule.linear(input: [7, 8, 5], weight: [3, 5], bias: [3]) == [7, 8, 3])
        #expect(try ShapeRule.linear(input: [5], weight: [3, 5], bias: nil) == [3])
        #expect(throws: ShapeError("linear: input [2, 4] does not fit weight [3, 5]: the input's last axis is 4, the weight expects 5")) {
            try ShapeRule.linear(input: [2, 4], weight: [3, 5], bias: nil)
        }
        #expect(throws: ShapeError("linear: bias [5] does not fit weight [3, 5]: expected [3]")) {
            try ShapeRule.linear(input: [2, 5], weight: [3, 5], bias: [5])
        }
        #expect(throws: ShapeError("linear: weight must have shape [out, in], got [5]")) {
            try ShapeRule.linearParameters(weight: [5], bias: nil)
        }
        // linear's result shapes, through the fused path (rank <= 2) and the batched one.
        let w = Tensor<Float>.zeros([3, 5])
        #expect(linear(Tensor<Float>.zeros([7, 8, 5]), weight: w, bias: Tensor.zeros([3])).shape == [7, 8, 3])
        #expect(linear(Tensor<Float>.zeros([5]), weight: w).shape == [3])
    }

    @Test("ops stop with the rule's message: linear on the fused path and on the batched path")
    func linearTraps() async {
        let fused = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linear(Tensor<Float>.zeros([2, 4]), weight: Tensor<Float>.zeros([3, 5]))
        }
        let fusedText = String(decoding: fused?.standardErrorContent ?? [], as: UTF8.self)
        #expect(fusedText.contains("linear: input [2, 4] does not fit weight [3, 5]: the input's last axis is 4, the weight expects 5"))
        let batched = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linear(Tensor<Float>.zeros([2, 2, 4]), weight: Tensor<Float>.zeros([3, 5]))
        }
        let batchedText = String(decoding: batched?.standardErrorContent ?? [], as: UTF8.self)
        #expect(batchedText.contains("linear: input [2, 2, 4] does not fit weight [3, 5]: the input's last axis is 4, the weight expects 5"))
    }

    func literal(_ shape: [Int]) -> String {
        guard let first = shape.first else { return "1" }
        let inner = literal(Array(shape.dropFirst()))
        return "[" + Array(repeating: inner, count: first).joined(separator: ",") + "]"
    }
}

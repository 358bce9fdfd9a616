import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching
@testable import BackpropCLI

@Suite("Activation plots and line plots")
struct PlotTests {
    struct Points: Decodable {
        let id: String
        let x: [Double]
        let y: [Double]
        let dydx: [Double]
    }
    struct Fixture: Decodable { let activation_points: [Points] }

    static func fixture() throws -> [Points] {
        let url = VizTestSupport.fixtures.appendingPathComponent("activations.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).activation_points
    }

    @Test func derivativesByBackpropMatchPyTorch() throws {
        let cases = try Self.fixture()
        // relu, leaky_relu:0.1, softplus:1, gelu (the lecture's four), ids as on the command line.
        #expect(Set(cases.map(\.id)).isSuperset(of: ["relu", "leaky_relu:0.1", "softplus:1", "gelu"]))
        for c in cases {
            let spec = try Activation(plotting: c.id)
            let (y, dy) = spec.valuesAndDerivatives(at: c.x)
            for i in c.x.indices {
                #expect(abs(y[i] - c.y[i]) <= 1e-12 * max(1, abs(c.y[i])), "\(c.id)(\(c.x[i]))")
                #expect(abs(dy[i] - c.dydx[i]) <= 1e-12 * max(1, abs(c.dydx[i])), "\(c.id)'(\(c.x[i]))")
            }
        }
    }

    @Test func everyActivationNameParses() throws {
        for name in ["relu", "relu:3", "leaky_relu", "leaky_relu:0.2", "tanh", "sigmoid", "softplus", "softplus:2",
                     "gelu", "gelu:tanh", "elu", "elu:0.5", "silu"] {
            let spec = try Activation(plotting: name)
            let (y, dy) = spec.valuesAndDerivatives(at: [-1, 0.5, 2])
            #expect(y.allSatisfy(\.isFinite) && dy.allSatisfy(\.isFinite), "\(name)")
        }
        // relu:scale scales the function and its derivative.
        #expect(try Activation(plotting: "relu:3").valuesAndDerivatives(at: [-1, 2]) == ([0, 6], [0, 3]))
        // tanh' = 1 - tanh² and σ' = σ(1 - σ), both by backprop.
        let (t, dt) = try Activation(plotting: "tanh").valuesAndDerivatives(at: [0.7])
        #expect(abs(dt[0] - (1 - t[0] * t[0])) < 1e-15)
    }

    @Test func unknownNamesListTheValidOnes() {
        func message(_ s: String) -> String? { do { _ = try Activation(plotting: s); return nil } catch { return "\(error)" } }
        #expect(message("swish") == "unknown activation 'swish' (expected one of relu[:SCALE], leaky_relu[:SLOPE], tanh, sigmoid, softplus[:BETA[:THRESHOLD]], gelu[:none|tanh], elu[:ALPHA], silu, identity, softmax, log_softmax)")
        #expect(message("leaky_relu:abc") == "activation 'leaky_relu:abc': negative_slope 'abc' is not a number")
        #expect(message("tanh:2") == "activation 'tanh:2': tanh takes no parameters")
        #expect(message("gelu:erf") == "activation 'gelu:erf': gelu's approximate must be 'none' or 'tanh', got 'erf'")
        #expect(message("softplus:0") == "activation 'softplus:0': softplus's beta must be positive, got 0")
        #expect(message("softmax") == "activation 'softmax': softmax is not elementwise (each output depends on every input), so it has no curve to plot")
    }

    @Test func csvRows() throws {
        let csv = activationCSV([try Activation(plotting: "relu"), try Activation(plotting: "leaky_relu:0.1")], at: [-2, 0, 1.5])
        #expect(csv == """
            function,x,value,derivative
            relu,-2,0,0
            relu,0,0,0
            relu,1.5,1.5,1
            leaky_relu:0.1,-2,-0.2,0.1
            leaky_relu:0.1,0,0,0.1
            leaky_relu:0.1,1.5,1.5,1

            """)
    }

    @Test func plotSVGHasOnePathPerCurveAndPanel() throws {
        let specs = try ["relu", "leaky_relu:0.1", "softplus:1", "gelu"].map { try Activation(plotting: $0) }
        let svg = activationPlot(specs, at: LinePlot.samplePoints(-4...4, count: 81)).svg()
        let elements = try #require(VizTestSupport.parseXML(svg), "plot SVG is not well-formed XML")
        #expect(VizTestSupport.elements(elements, "path", class: "curve") == 8)
        #expect(VizTestSupport.elements(elements, "g", class: "panel") == 4)
        #expect(svg.contains(">leaky_relu:0.1</text>"))
    }

    @Test func linePlotIsGeneral() throws {
        // A loss curve with a NaN gap, on a log axis, next to a linear panel: one path per series.
        let loss = LinePlot.Series(label: "train", points: [(1, 2.0), (2, 0.5), (3, .nan), (4, 0.01)])
        let val = LinePlot.Series(label: "validation <held out>", points: [(1, 2.5), (2, 0.9), (3, 0.4), (4, 0.3)], dashed: true)
        let plot = LinePlot(title: "Loss & accuracy", panels: [
            .init(title: "loss", xLabel: "epoch", yLabel: "loss", series: [loss, val], yScale: .logarithmic),
            .init(title: "accuracy", xLabel: "epoch", yLabel: "%", series: [.init(label: "acc", points: [(1, 50), (4, 97)])]),
        ])
        let svg = plot.svg()
        let elements = try #require(VizTestSupport.parseXML(svg))
        #expect(VizTestSupport.elements(elements, "path", class: "curve") == 3)
        #expect(svg.contains("validation &lt;held out&gt;") && svg.contains("Loss &amp; accuracy"))
        // The NaN splits the train curve into two subpaths.
        let train = elements.first { $0.name == "path" && $0.attributes["stroke"] == LinePlot.palette[0] }!
        #expect(train.attributes["d"]!.filter { $0 == "M" }.count == 2)
    }

    @Test func ticksAreNiceNumbers() {
        #expect(LinePlot.niceTicks(-4, 4) == [-4, -2, 0, 2, 4])
        #expect(LinePlot.niceTicks(0, 0.93) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(LinePlot.niceTicks(0, 0.093) == [0, 0.02, 0.04, 0.06, 0.08, 0.1])
        #expect(LinePlot.niceTicks(-0.17, 1.13) == [-0.5, 0, 0.5, 1, 1.5])
        #expect(LinePlot.niceTicks(3, 3) == [2, 2.5, 3, 3.5, 4])
        #expect(LinePlot.tickLabel(0.5, ticks: [0, 0.5, 1]) == "0.5")
        #expect(LinePlot.tickLabel(-2, ticks: [-4, -2, 0]) == "-2")
    }

    @Test func pointsFromRangeOrAt() throws {
        #expect(try PlotCommand.points(range: "-4,4", count: 5, at: nil) == [-4, -2, 0, 2, 4])
        #expect(try PlotCommand.points(range: "-4,4", count: 5, at: "-1,0.5,3") == [-1, 0.5, 3])
        #expect(throws: (any Error).self) { try PlotCommand.points(range: "4,-4", count: 5, at: nil) }
        // Negative values after --range and --at are values, not options.
        let command = try PlotCommand.parse(["relu", "gelu", "--range", "-3,3", "--at", "-1,1"])
        #expect(command.range == "-3,3" && command.at == "-1,1" && command.names == ["relu", "gelu"])
    }
}

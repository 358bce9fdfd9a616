import BackpropTraining

extension LinePlot {
    /// Loss and accuracy per epoch, training and validation, as a two-panel line plot.
    public static func trainingCurves(_ epochs: [EpochRecord], title: String) -> LinePlot {
        func series(_ label: String, _ value: (EpochRecord) -> Double?) -> LinePlot.Series? {
            let points = epochs.compactMap { r in value(r).map { (x: Double(r.epoch), y: $0) } }
            return points.isEmpty ? nil : LinePlot.Series(label: label, points: points)
        }
        var panels = [LinePlot.Panel(title: "loss", xLabel: "epoch", yLabel: "loss",
                                     series: [series("train", { $0.trainLoss }), series("validation", { $0.validationLoss })].compactMap { $0 })]
        let accuracy = [series("train", { $0.trainAccuracy.map { $0 * 100 } }),
                        series("validation", { $0.validationAccuracy.map { $0 * 100 } })].compactMap { $0 }
        if !accuracy.isEmpty {
            panels.append(LinePlot.Panel(title: "accuracy", xLabel: "epoch", yLabel: "accuracy (%)", series: accuracy))
        }
        return LinePlot(title: title, panels: panels)
    }
}

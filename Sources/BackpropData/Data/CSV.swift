import BackpropCore
/// A CSV file split into fields (RFC 4180: quoted fields may hold commas,
/// quotes written `""`, and line breaks), with line numbers kept for errors.
///
/// ```swift
/// let table = try CSVTable(path: "iris.csv")            // header detected
/// table.header                                         // ["sepal_length", ..., "species"]
/// let data = try TensorDataset<Float>.csv(path: "iris.csv", target: "species")
/// ```
public struct CSVTable: Sendable {
    /// The file the table was read from, for error messages.
    public let path: String
    /// Column names, when the file has a header row.
    public let header: [String]?
    /// Data rows, every one with the same number of fields.
    public let rows: [[String]]
    /// The 1-based line number where each row starts.
    public let lineNumbers: [Int]

    /// Reads and splits a file. `hasHeader: nil` detects a header: the first
    /// row is one when none of its fields is a number. Rows of different
    /// lengths are an error.
    public init(path: String, hasHeader: Bool? = nil, delimiter: Character = ",") throws {
        try self.init(text: FileIO.readText(path: path), path: path, hasHeader: hasHeader, delimiter: delimiter)
    }

    /// Splits CSV text; `path` names it in errors.
    public init(text: String, path: String, hasHeader: Bool? = nil, delimiter: Character = ",") throws {
        self.path = path
        var records: [[String]] = []
        var lines: [Int] = []
        var field = ""
        var record: [String] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var fieldWasQuoted = false
        var iterator = text.makeIterator()
        var pending: Character? = nil
        func endRecord() {
            record.append(field)
            // A line with nothing on it is skipped (a trailing newline, blank separators).
            if !(record.count == 1 && record[0].isEmpty && !fieldWasQuoted) {
                records.append(record)
                lines.append(recordLine)
            }
            record = []
            field = ""
            fieldWasQuoted = false
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { inQuotes = false; pending = next }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !fieldWasQuoted:
                inQuotes = true
                fieldWasQuoted = true
            case delimiter:
                record.append(field)
                field = ""
                fieldWasQuoted = false
            case "\n", "\r\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.append(c)
            }
        }
        if inQuotes { throw DataError(path: path, "line \(recordLine): unterminated quoted field") }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { endRecord() }
        guard !records.isEmpty else { throw DataError(path: path, "the file is empty") }

        let header: [String]?
        switch hasHeader {
        case .some(true): header = records[0]
        case .some(false): header = nil
        case .none:
            // A header names every column: none of its fields is a number.
            let looksLikeHeader = !records[0].contains { parseNumber($0) != nil }
            header = looksLikeHeader ? records[0] : nil
        }
        if header != nil {
            records.removeFirst()
            lines.removeFirst()
        }
        let width = header?.count ?? records.first?.count ?? 0
        let widthSource = header != nil ? "the header" : "line \(lines.first ?? 1)"
        for (r, l) in zip(records, lines) where r.count != width {
            throw DataError(path: path, "line \(l): ragged row: \(r.count) fields, expected \(width) as in \(widthSource)")
        }
        guard !records.isEmpty else { throw DataError(path: path, "no data rows after the header") }
        self.header = header
        self.rows = records
        self.lineNumbers = lines
    }

    /// The number of columns.
    public var columnCount: Int { header?.count ?? rows.first?.count ?? 0 }

    /// The name of a column for messages: its header, or `column N` (1-based).
    public func columnLabel(_ index: Int) -> String {
        if let h = header, index < h.count, !h[index].isEmpty { return "column \(index + 1) (\"\(h[index])\")" }
        return "column \(index + 1)"
    }

    /// The 0-based index of a column chosen by name or by index.
    public func columnIndex(_ column: CSVColumn) throws -> Int {
        switch column {
        case .name(let name):
            guard let h = header else {
                throw DataError(path: path, "no column named \"\(name)\": the file has no header row (choose a column by 0-based index)")
            }
            guard let i = h.firstIndex(of: name) else {
                throw DataError(path: path, "no column named \"\(name)\" (columns: \(h.joined(separator: ", ")))")
            }
            return i
        case .index(let i):
            let resolved = i < 0 ? columnCount + i : i
            guard resolved >= 0 && resolved < columnCount else {
                throw DataError(path: path, "column index \(i) is out of range: the file has \(columnCount) columns (0...\(columnCount - 1))")
            }
            return resolved
        }
    }

    /// The numbers of the given columns, row-major; a non-numeric cell is an
    /// error naming the line and column.
    public func numbers(columns: [Int]) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(rows.count * columns.count)
        for (r, row) in rows.enumerated() {
            for c in columns {
                guard let v = parseNumber(row[c]) else {
                    throw DataError(path: path, "line \(lineNumbers[r]), \(columnLabel(c)): \"\(row[c])\" is not a number")
                }
                out.append(v)
            }
        }
        return out
    }
}

/// A number in a CSV cell (surrounding spaces allowed); `nil` for text or an empty cell.
package func parseNumber(_ s: String) -> Double? {
    let t = s.trimmed(of: " \t")
    guard !t.isEmpty, let v = Double(t), v.isFinite else { return nil }
    return v
}

/// A CSV column chosen by header name or by 0-based index (negative counts
/// from the end: -1 is the last column).
///
/// ```swift
/// let target: CSVColumn = "species"     // by name
/// let last = CSVColumn("-1")            // by index
/// ```
public enum CSVColumn: Equatable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// A column by its header name.
    case name(String)
    /// A column by 0-based index; negative counts from the end.
    case index(Int)

    /// An integer is an index, anything else a name.
    public init(_ text: String) { self = Int(text).map { .index($0) } ?? .name(text) }
    /// A column from a literal, as ``init(_:)``: `"3"` is an index, `"species"` a name.
    public init(stringLiteral value: String) { self.init(value) }
    /// A column by 0-based index (negative counts from the end).
    public init(integerLiteral value: Int) { self = .index(value) }

    /// The name, or the index as text.
    public var description: String {
        switch self {
        case .name(let n): return n
        case .index(let i): return String(i)
        }
    }
}

/// What a CSV target column holds.
public enum CSVTask: String, Sendable, CaseIterable {
    /// Classes when the target has text labels, or only non-negative integers
    /// with at most 100 distinct values; otherwise regression.
    case automatic
    /// Class labels: integers are class indices, text labels become 0, 1, ... in sorted order.
    case classification
    /// Numbers predicted as values.
    case regression
}

extension TensorDataset where Scalar == Float {
    /// A dataset from CSV columns.
    ///
    /// - `target`: the column to predict, by name or 0-based index.
    /// - `features`: the input columns; `nil` takes every other column.
    /// - Text labels in a classification target become classes 0, 1, ... in
    ///   sorted order (their names are kept in ``classNames``); integer labels
    ///   keep their values as class indices.
    ///
    /// Errors name the file, the line and the column: a non-numeric feature,
    /// a ragged row, a target column that does not exist.
    ///
    /// ```swift
    /// let data = try TensorDataset.csv(path: "wine.csv", target: "quality", task: .regression)
    /// ```
    public static func csv(path: String, target: CSVColumn, features: [CSVColumn]? = nil, hasHeader: Bool? = nil,
                           task: CSVTask = .automatic, delimiter: Character = ",") throws -> TensorDataset {
        let table = try CSVTable(path: path, hasHeader: hasHeader, delimiter: delimiter)
        return try csv(table: table, target: target, features: features, task: task)
    }

    /// A dataset from an already split table; see ``csv(path:target:features:hasHeader:task:delimiter:)``.
    public static func csv(table: CSVTable, target: CSVColumn, features: [CSVColumn]? = nil,
                           task: CSVTask = .automatic) throws -> TensorDataset {
        let targetIndex = try table.columnIndex(target)
        let featureIndices = try features.map { try $0.map { try table.columnIndex($0) } }
            ?? (0..<table.columnCount).filter { $0 != targetIndex }
        guard !featureIndices.isEmpty else { throw DataError(path: table.path, "no feature columns besides the target") }
        if featureIndices.contains(targetIndex) {
            throw DataError(path: table.path, "the target \(table.columnLabel(targetIndex)) is also a feature column")
        }
        let x = try table.numbers(columns: featureIndices)
        let n = table.rows.count
        let featureTensor = Tensor<Float>(shape: [n, featureIndices.count], scalars: x.map { Float($0) })
        let featureNames = featureIndices.map { table.header?[$0] ?? "column \($0 + 1)" }

        let cells = table.rows.map { $0[targetIndex].trimmed(of: " \t") }
        let numeric = cells.map(parseNumber)
        let allNumeric = !numeric.contains(nil)
        let integerLabels = allNumeric && numeric.allSatisfy { $0! >= 0 && $0! == $0!.rounded() && $0! < 1_000_000 }
        let resolved: CSVTask
        switch task {
        case .automatic:
            if !allNumeric { resolved = .classification }
            else if integerLabels && Set(numeric.map { $0! }).count <= 100 { resolved = .classification }
            else { resolved = .regression }
        default: resolved = task
        }
        if resolved == .regression {
            if let bad = numeric.firstIndex(of: nil) {
                throw DataError(path: table.path, "line \(table.lineNumbers[bad]), \(table.columnLabel(targetIndex)): \"\(cells[bad])\" is not a number (regression target)")
            }
            return TensorDataset(features: featureTensor, targets: Tensor(shape: [n, 1], scalars: numeric.map { Float($0!) }),
                                 featureNames: featureNames)
        }
        if integerLabels {
            let classes = numeric.map { Int($0!) }
            let k = (classes.max() ?? 0) + 1
            return TensorDataset(features: featureTensor, targets: Tensor(shape: [n], scalars: classes.map { Float($0) }),
                                 classCount: k, classNames: (0..<k).map(String.init), featureNames: featureNames)
        }
        if allNumeric {
            throw DataError(path: table.path, "\(table.columnLabel(targetIndex)): class labels must be non-negative integers or text; use regression for real values")
        }
        let names = Array(Set(cells)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return TensorDataset(features: featureTensor, targets: Tensor(shape: [n], scalars: cells.map { Float(index[$0]!) }),
                             classCount: names.count, classNames: names, featureNames: featureNames)
    }
}

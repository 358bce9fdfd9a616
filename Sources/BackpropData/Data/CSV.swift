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
    /// Where each field of each row starts, for `file:line:column` in errors.
    let fieldStarts: [[CSVPosition]]

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
        var starts: [[CSVPosition]] = []
        var recordStarts: [CSVPosition] = []
        var column = 1
        var fieldStart = CSVPosition(line: 1, column: 1)
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
            recordStarts.append(fieldStart)
            // A line with nothing on it is skipped (a trailing newline, blank separators).
            if !(record.count == 1 && record[0].isEmpty && !fieldWasQuoted) {
                records.append(record)
                lines.append(recordLine)
                starts.append(recordStarts)
            }
            record = []
            recordStarts = []
            field = ""
            fieldWasQuoted = false
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    column += 1
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\""); column += 1 } else { inQuotes = false; pending = next }
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" || c == "\r\n" { line += 1; column = 1 } else { column += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !fieldWasQuoted:
                inQuotes = true
                fieldWasQuoted = true
                column += 1
            case delimiter:
                record.append(field)
                recordStarts.append(fieldStart)
                field = ""
                fieldWasQuoted = false
                column += 1
                fieldStart = CSVPosition(line: line, column: column)
            case "\n", "\r\n", "\r":
                endRecord()
                line += 1
                column = 1
                recordLine = line
                fieldStart = CSVPosition(line: line, column: column)
            default:
                field.append(c)
                column += 1
            }
        }
        if inQuotes { throw DataError(path: "\(path):\(fieldStart.line):\(fieldStart.column)", "unterminated quoted field") }
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
            starts.removeFirst()
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
        self.fieldStarts = starts
    }

    /// `file:line:column` of a field, for error messages.
    public func location(row: Int, column: Int) -> String {
        let p = fieldStarts[row][column]
        return "\(path):\(p.line):\(p.column)"
    }

    /// The number in a cell, or an error naming the file, line and column and
    /// why the cell is not a finite number.
    func number(row: Int, column c: Int) throws -> Double {
        let cell = rows[row][c]
        switch CSVNumber.parse(cell) {
        case .value(let v): return v
        case .notANumber:
            throw DataError(path: location(row: row, column: c), "\(columnLabel(c)): \(DataError.quote(cell)) is not a number")
        case .notFinite:
            throw DataError(path: location(row: row, column: c), "\(columnLabel(c)): \(DataError.quote(cell)) is not a finite number")
        }
    }

    /// ``number(row:column:)`` as a `Float`; a value beyond Float's range
    /// (about ±3.4e38) is an error, not an infinity.
    func float(row: Int, column c: Int) throws -> Float {
        let v = try number(row: row, column: c)
        let f = Float(v)
        guard f.isFinite else {
            throw DataError(path: location(row: row, column: c),
                            "\(columnLabel(c)): \(DataError.quote(rows[row][c])) is out of the range of Float (±3.4e38)")
        }
        return f
    }

    /// The number of columns.
    public var columnCount: Int { header?.count ?? rows.first?.count ?? 0 }

    /// The name of a column for messages: its header, or `column N` (1-based).
    public func columnLabel(_ index: Int) -> String {
        if let h = header, index < h.count, !h[index].isEmpty { return "column \(index + 1) (\(DataError.quote(h[index], limit: 40)))" }
        return "column \(index + 1)"
    }

    /// The 0-based index of a column chosen by name or by index.
    public func columnIndex(_ column: CSVColumn) throws -> Int {
        switch column {
        case .name(let name):
            guard let h = header else {
                throw DataError(path: path, "no column named \(DataError.quote(name)): the file has no header row (choose a column by 0-based index)")
            }
            guard let i = h.firstIndex(of: name) else {
                throw DataError(path: path, "no column named \(DataError.quote(name)) (columns: \(DataError.excerpt(h.joined(separator: ", "), limit: 200)))")
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

    /// The numbers of the given columns, row-major; a cell that is not a
    /// finite decimal number is an error naming `file:line:column`.
    public func numbers(columns: [Int]) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(rows.count * columns.count)
        for r in rows.indices {
            for c in columns { out.append(try number(row: r, column: c)) }
        }
        return out
    }

    /// ``numbers(columns:)`` as `Float`s; values beyond Float's range are errors.
    public func floats(columns: [Int]) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(rows.count * columns.count)
        for r in rows.indices {
            for c in columns { out.append(try float(row: r, column: c)) }
        }
        return out
    }
}

/// Where a CSV field starts: 1-based line and column (in characters).
struct CSVPosition: Sendable {
    var line: Int
    var column: Int
}

/// The numbers a CSV cell may hold: decimal only, as `[+-]digits[.digits][(e|E)[+-]digits]`
/// with surrounding spaces. Swift's `Double(_:)` (C's strtod) would also
/// take hexadecimal (`0x1F`), `nan`, `inf`, and stop at a NUL (`2.\0` reads as 2).
enum CSVNumber {
    enum Result { case value(Double), notANumber, notFinite }

    static func parse(_ s: String) -> Result {
        let t = s.trimmed(of: " \t")
        var u = t.utf8[...]
        func digits() -> Int {
            var n = 0
            while let b = u.first, b >= 0x30 && b <= 0x39 { u = u.dropFirst(); n += 1 }
            return n
        }
        if let b = u.first, b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { u = u.dropFirst() }
        var mantissa = digits()
        if u.first == UInt8(ascii: ".") { u = u.dropFirst(); mantissa += digits() }
        guard mantissa > 0 else {
            let lower = t.lowercased()
            let word = lower.hasPrefix("+") || lower.hasPrefix("-") ? String(lower.dropFirst()) : lower
            return ["nan", "inf", "infinity"].contains(word) ? .notFinite : .notANumber
        }
        if let b = u.first, b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            u = u.dropFirst()
            if let b = u.first, b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { u = u.dropFirst() }
            guard digits() > 0 else { return .notANumber }
        }
        guard u.isEmpty, let v = Double(t) else { return .notANumber }
        return v.isFinite ? .value(v) : .notFinite
    }
}

/// A number in a CSV cell (surrounding spaces allowed); `nil` for text, an
/// empty cell, or anything ``CSVNumber`` refuses.
package func parseNumber(_ s: String) -> Double? {
    if case .value(let v) = CSVNumber.parse(s) { return v }
    return nil
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
        let x = try table.floats(columns: featureIndices)
        let n = table.rows.count
        let featureTensor = Tensor<Float>(shape: [n, featureIndices.count], scalars: x)
        let featureNames = featureIndices.map { table.header?[$0] ?? "column \($0 + 1)" }

        let cells = table.rows.map { $0[targetIndex].trimmed(of: " \t") }
        // nan and inf are neither numbers nor class names one would mean.
        if let bad = cells.indices.first(where: { if case .notFinite = CSVNumber.parse(cells[$0]) { return true }; return false }) {
            _ = try table.number(row: bad, column: targetIndex)
        }
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
            // Throws, naming file:line:column, for the first cell that is not a finite Float.
            let targets = try table.floats(columns: [targetIndex])
            return TensorDataset(features: featureTensor, targets: Tensor(shape: [n, 1], scalars: targets),
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

import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Helpers for the graph/plot tests: golden files and XML checks.
enum VizTestSupport {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Compares `actual` with Fixtures/golden/`name`; with BACKPROP_UPDATE_GOLDEN=1 rewrites the file instead.
    static func checkGolden(_ actual: String, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let url = fixtures.appendingPathComponent("golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["BACKPROP_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "output differs from golden file \(name)", sourceLocation: sourceLocation)
    }

    /// Parses `xml` with Foundation's XMLParser; returns the elements (name and attributes) or nil if it is not well-formed.
    static func parseXML(_ xml: String) -> [(name: String, attributes: [String: String])]? {
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [(name: String, attributes: [String: String])] = []
            func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
                elements.append((elementName, attributeDict))
            }
        }
        let parser = XMLParser(data: Data(xml.utf8))
        let collector = Collector()
        parser.delegate = collector
        return parser.parse() ? collector.elements : nil
    }

    static func elements(_ all: [(name: String, attributes: [String: String])], _ name: String, class cls: String) -> Int {
        all.filter { $0.name == name && ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls)) }.count
    }
}

import Foundation
import LibXML
/// Small helpers for reading libvirt's XML with XPath (LibXML, over libxml2).
struct XMLReader {
    let document: XMLDocument

    init(_ xml: String) throws {
        document = try XMLDocument(xmlString: xml, options: [])
    }

    /// Elements matching an XPath from the document root.
    func elements(_ xpath: String) -> [XMLElement] {
        ((try? document.nodes(forXPath: xpath)) ?? []).compactMap { $0 as? XMLElement }
    }

    /// The string value of the first node matching an XPath (attribute or text).
    func string(_ xpath: String) -> String? {
        guard let node = (try? document.nodes(forXPath: xpath))?.first else { return nil }
        return node.stringValue
    }
}

extension XMLElement {
    /// An attribute's value, or nil.
    func attr(_ name: String) -> String? { attribute(forName: name)?.stringValue }

    /// The first child element with the name.
    func child(_ name: String) -> XMLElement? { elements(forName: name).first }

    /// An attribute of the first child with the name.
    func childAttr(_ child: String, _ name: String) -> String? { self.child(child)?.attr(name) }
}

extension XMLElement {
    /// Appends a child element with attributes, written in name order so the
    /// output is stable, and optional text; returns it for further children.
    @discardableResult
    func appendChild(_ name: String, _ attributes: [String: String] = [:], text: String? = nil) -> XMLElement {
        let child = XMLElement(name: name, attributes: attributes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, stringValue: text)
        addChild(child)
        return child
    }
}

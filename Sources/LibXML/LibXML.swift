import CLibXML2

// FoundationXML's XMLDocument leaks several KB on every parse on Linux (and
// its nodes leak when built), which a long-running daemon cannot afford. This
// module wraps libxml2 directly, with the small part of FoundationXML's API
// the agent uses, and frees every document and tree it makes.

/// Why a document could not be parsed.
public struct XMLParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Memory behind a set of node wrappers: a parsed document, or a tree built
/// in Swift. Wrappers of nodes inside it keep it alive; a tree added under
/// another one forwards to that tree's storage.
final class XMLStorage {
    var document: xmlDocPtr?
    var root: xmlNodePtr?
    var owner: XMLStorage?

    init(document: xmlDocPtr) { self.document = document }
    init(root: xmlNodePtr) { self.root = root }

    deinit {
        if let document { xmlFreeDoc(document) }
        if let root { xmlFreeNode(root) }
    }
}

private let initialized: Bool = {
    xmlInitParser()
    return true
}()

@inline(__always)
private func withXMLChars<R>(_ text: String, _ body: (UnsafePointer<xmlChar>) -> R) -> R {
    text.withCString { body(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
}

private func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
    pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
}

private func takeString(_ pointer: UnsafeMutablePointer<xmlChar>?) -> String? {
    guard let pointer else { return nil }
    defer { virthost_xml_free(pointer) }
    return string(pointer)
}

/// A node of an XML tree: an element, an attribute or text.
///
/// Not `Sendable`: a libxml2 tree is mutable and unsynchronized, and every
/// node of a tree shares it. Build and read a tree on one thread (or task),
/// and pass its `xmlString` across threads instead.
open class XMLNode {
    /// FoundationXML's option set, accepted for source compatibility.
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
    }

    let node: xmlNodePtr?
    var storage: XMLStorage?
    /// For an attribute made by ``attribute(withName:stringValue:)`` before it is added.
    let pending: (name: String, value: String)?

    init(node: xmlNodePtr, storage: XMLStorage) {
        self.node = node
        self.storage = storage
        pending = nil
    }

    init(pendingName: String, value: String) {
        node = nil
        storage = nil
        pending = (pendingName, value)
    }

    static func wrap(_ node: xmlNodePtr, _ storage: XMLStorage) -> XMLNode {
        node.pointee.type == XML_ELEMENT_NODE ? XMLElement(node: node, storage: storage) : XMLNode(node: node, storage: storage)
    }

    /// An attribute to add to an element with ``XMLElement/addAttribute(_:)``.
    public static func attribute(withName name: String, stringValue: String) -> XMLNode {
        XMLNode(pendingName: name, value: stringValue)
    }

    /// The element's or attribute's name.
    public var name: String? {
        if let pending { return pending.name }
        return string(node?.pointee.name)
    }

    /// The text of the node (all text below it for an element); setting it
    /// replaces the content with this text, escaped as needed.
    public var stringValue: String? {
        get {
            if let pending { return pending.value }
            return node.flatMap { takeString(xmlNodeGetContent($0)) }
        }
        set {
            guard let node else { return }
            let text = newValue ?? ""
            if node.pointee.type == XML_ATTRIBUTE_NODE, let parent = node.pointee.parent, let name = node.pointee.name {
                withXMLChars(text) { _ = xmlSetProp(parent, name, $0) }
            } else {
                xmlNodeSetContent(node, nil)
                withXMLChars(text) { xmlNodeAddContent(node, $0) }
            }
        }
    }

    /// The node as XML text.
    public var xmlString: String {
        guard let node else { return "" }
        if node.pointee.type == XML_ATTRIBUTE_NODE {
            let value = stringValue ?? ""
            let escaped = value.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll("\"", "&quot;")
            return "\(name ?? "")=\"\(escaped)\""
        }
        guard let buffer = xmlBufferCreate() else { return "" }
        defer { xmlBufferFree(buffer) }
        _ = xmlNodeDump(buffer, node.pointee.doc, node, 0, 0)
        return string(xmlBufferContent(buffer)) ?? ""
    }

    /// Child nodes (elements and text), or nil when there are none.
    public var children: [XMLNode]? {
        guard let node, let storage else { return nil }
        var result: [XMLNode] = []
        var child = node.pointee.children
        while let current = child {
            result.append(XMLNode.wrap(current, storage))
            child = current.pointee.next
        }
        return result.isEmpty ? nil : result
    }

    /// Removes the node from its parent; it then lives on its own.
    public func detach() {
        guard let node, node.pointee.type == XML_ELEMENT_NODE || node.pointee.type == XML_TEXT_NODE else { return }
        xmlUnlinkNode(node)
        storage = XMLStorage(root: node)
    }
}

/// An element of an XML tree.
public final class XMLElement: XMLNode {
    /// A new, parentless element.
    public init(name: String) {
        _ = initialized
        let node = withXMLChars(name) { xmlNewNode(nil, $0) }!
        super.init(node: node, storage: XMLStorage(root: node))
    }

    /// A new element holding text (escaped when written).
    public convenience init(name: String, stringValue: String?) {
        self.init(name: name)
        if let stringValue { self.stringValue = stringValue }
    }

    /// A new element with attributes, set in the order given, children
    /// (each parentless) and text, so a small tree reads as one expression:
    /// `XMLElement(name: "source", attributes: [("network", name)])`.
    public convenience init(
        name: String, attributes: [(String, String)], children: [XMLElement] = [], stringValue: String? = nil
    ) {
        self.init(name: name, stringValue: stringValue)
        for (key, value) in attributes { setAttribute(key, value) }
        for child in children { addChild(child) }
    }

    override init(node: xmlNodePtr, storage: XMLStorage) {
        super.init(node: node, storage: storage)
    }

    /// Sets an attribute (replacing one of the same name); the value is escaped when written.
    public func setAttribute(_ name: String, _ value: String) {
        guard let node else { return }
        withXMLChars(name) { name in withXMLChars(value) { _ = xmlSetProp(node, name, $0) } }
    }

    /// Sets an attribute (replacing one of the same name).
    public func addAttribute(_ attribute: XMLNode) {
        guard let name = attribute.name else { return }
        setAttribute(name, attribute.stringValue ?? "")
    }

    /// Appends `child`, which must be parentless (a new element or a detached one).
    public func addChild(_ child: XMLNode) {
        guard let node, let childNode = child.node, let childStorage = child.storage else { return }
        precondition(childStorage.root == childNode, "addChild needs a parentless node")
        xmlAddChild(node, childNode)
        childStorage.root = nil
        childStorage.owner = storage
        child.storage = storage
    }

    /// The attribute with the name, or nil.
    public func attribute(forName name: String) -> XMLNode? {
        guard let node, let storage, let attribute = withXMLChars(name, { xmlHasProp(node, $0) }) else { return nil }
        return XMLNode(node: UnsafeMutableRawPointer(attribute).assumingMemoryBound(to: xmlNode.self), storage: storage)
    }

    /// Child elements with the name, in order.
    public func elements(forName name: String) -> [XMLElement] {
        guard let node, let storage else { return [] }
        var result: [XMLElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE, string(current.pointee.name) == name {
                result.append(XMLElement(node: current, storage: storage))
            }
            child = current.pointee.next
        }
        return result
    }
}

/// A parsed XML document. Not `Sendable`, like its nodes (see ``XMLNode``).
public final class XMLDocument {
    let storage: XMLStorage
    let document: xmlDocPtr

    /// Parses `xmlString`. The network is never used and external entities
    /// are not loaded.
    public init(xmlString text: String, options: XMLNode.Options = []) throws {
        _ = initialized
        let flags = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let length = Int32(clamping: text.utf8.count)
        let parsed = text.withCString { xmlReadMemory($0, length, nil, "UTF-8", flags) }
        guard let parsed else {
            let message = xmlGetLastError().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "not well-formed XML"
            let line = xmlGetLastError()?.pointee.line ?? 0
            xmlResetLastError()
            throw XMLParseError(description: "line \(line): \(message.trimmingSpaces())")
        }
        document = parsed
        storage = XMLStorage(document: parsed)
    }

    /// The document's root element.
    public func rootElement() -> XMLElement? {
        xmlDocGetRootElement(document).map { XMLElement(node: $0, storage: storage) }
    }

    /// Nodes matching an XPath 1.0 expression.
    public func nodes(forXPath xpath: String) throws -> [XMLNode] {
        guard let context = xmlXPathNewContext(document) else { throw XMLParseError(description: "out of memory") }
        defer { xmlXPathFreeContext(context) }
        guard let result = withXMLChars(xpath, { xmlXPathEvalExpression($0, context) }) else {
            throw XMLParseError(description: "bad XPath expression: \(xpath)")
        }
        defer { xmlXPathFreeObject(result) }
        guard let set = result.pointee.nodesetval, set.pointee.nodeNr > 0, let table = set.pointee.nodeTab else { return [] }
        return (0..<Int(set.pointee.nodeNr)).compactMap { table[$0].map { XMLNode.wrap($0, storage) } }
    }

    /// The whole document as XML text.
    public var xmlString: String {
        var memory: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpMemory(document, &memory, &size)
        return takeString(memory) ?? ""
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }

    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }
}

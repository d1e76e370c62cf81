import Foundation
import SwiftProtobuf
import VirtHostAPI

/// The proto files the agent serves, indexed for server reflection: by file
/// name and by every symbol they declare (packages' messages, nested
/// messages, enums, services, methods, extensions), each with its imports.
///
/// Built once from ``VirtHostDescriptorSet`` (protoc `--include_imports`, so
/// every import is in the set, google/protobuf/*.proto included).
struct DescriptorIndex: Sendable {
    /// Each file's serialized `FileDescriptorProto`, as reflection sends it.
    private let files: [String: Data]
    /// Each file's direct imports.
    private let dependencies: [String: [String]]
    /// Fully qualified symbol (no leading dot) to the file that declares it.
    private let symbols: [String: String]
    /// Every service declared in the set, by its fully qualified name.
    let services: Set<String>

    /// The index of the agent's own descriptor set.
    static let served: DescriptorIndex = {
        guard let bytes = Data(base64Encoded: VirtHostDescriptorSet.base64, options: .ignoreUnknownCharacters),
            let index = try? DescriptorIndex(serializedSet: bytes)
        else {
            // The set is generated and compiled in: a bad one is a build defect.
            fatalError("VirtHostDescriptorSet does not decode: run make generate")
        }
        return index
    }()

    init(serializedSet: Data) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: serializedSet)
        var files: [String: Data] = [:]
        var dependencies: [String: [String]] = [:]
        var symbols: [String: String] = [:]
        var services: Set<String> = []
        for file in set.file {
            files[file.name] = try file.serializedBytes()
            dependencies[file.name] = file.dependency
            let prefix = file.package.isEmpty ? "" : file.package + "."
            func addMessages(_ messages: [Google_Protobuf_DescriptorProto], scope: String) {
                for message in messages {
                    let name = scope + message.name
                    symbols[name] = file.name
                    for field in message.field { symbols[name + "." + field.name] = file.name }
                    for enumeration in message.enumType { symbols[name + "." + enumeration.name] = file.name }
                    for extensionField in message.extension { symbols[name + "." + extensionField.name] = file.name }
                    addMessages(message.nestedType, scope: name + ".")
                }
            }
            addMessages(file.messageType, scope: prefix)
            for enumeration in file.enumType { symbols[prefix + enumeration.name] = file.name }
            for extensionField in file.extension { symbols[prefix + extensionField.name] = file.name }
            for service in file.service {
                let name = prefix + service.name
                symbols[name] = file.name
                services.insert(name)
                for method in service.method { symbols[name + "." + method.name] = file.name }
            }
        }
        self.files = files
        self.dependencies = dependencies
        self.symbols = symbols
        self.services = services
    }

    /// The file that declares `symbol` (a leading dot is accepted), or nil.
    func file(containing symbol: String) -> String? {
        symbols[symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol]
    }

    /// Whether the set holds a file of this name.
    func hasFile(_ name: String) -> Bool { files[name] != nil }

    /// `name`'s descriptor first, then those of its imports, transitively,
    /// each once, in a stable order.
    func descriptorsWithImports(of name: String) -> [Data] {
        var seen: Set<String> = []
        var order: [String] = []
        func visit(_ file: String) {
            guard files[file] != nil, seen.insert(file).inserted else { return }
            order.append(file)
            for dependency in dependencies[file] ?? [] { visit(dependency) }
        }
        visit(name)
        return order.compactMap { files[$0] }
    }
}

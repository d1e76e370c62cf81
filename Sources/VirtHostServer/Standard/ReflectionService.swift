import GRPCCore
import SwiftProtobuf
import VirtHostAPI

/// gRPC server reflection (`grpc.reflection.v1.ServerReflection`), so that
/// grpcurl, grpcui, Postman and grpcio-reflection clients call the agent with
/// no .proto in hand.
///
/// Answers `list_services`, `file_by_filename` and `file_containing_symbol`
/// (each file with its imports, transitively) from ``DescriptorIndex``;
/// the agent declares no extensions, so `file_containing_extension` is
/// NOT_FOUND and `all_extension_numbers_of_type` lists none for a known
/// message. Problems with one request are answered in-stream with an
/// `error_response`, as the protocol asks; the stream goes on.
///
/// Readers and above may call it (see ``MethodRoles``).
struct ReflectionService: Grpc_Reflection_V1_ServerReflection.SimpleServiceProtocol {
    typealias Request = Grpc_Reflection_V1_ServerReflectionRequest
    typealias Response = Grpc_Reflection_V1_ServerReflectionResponse

    let index: DescriptorIndex
    /// The services `list_services` names: those the agent registers.
    let served: [String]

    init(index: DescriptorIndex = .served, served: Set<String>) {
        self.index = index
        self.served = served.filter(index.services.contains).sorted()
    }

    func serverReflectionInfo(
        request: RPCAsyncSequence<Request, any Error>, response: RPCWriter<Response>, context: ServerContext
    ) async throws {
        for try await message in request {
            try await response.write(answer(message))
        }
    }

    /// The answer to one request of the stream.
    func answer(_ request: Request) -> Response {
        var response = Response()
        response.validHost = request.host
        response.originalRequest = request
        func notFound(_ message: String) {
            response.errorResponse = .with {
                $0.errorCode = Int32(RPCError.Code.notFound.rawValue)
                $0.errorMessage = message
            }
        }
        func files(_ name: String) {
            response.fileDescriptorResponse = .with { $0.fileDescriptorProto = index.descriptorsWithImports(of: name) }
        }
        switch request.messageRequest {
        case .listServices:
            response.listServicesResponse = .with { list in
                list.service = served.map { name in .with { $0.name = name } }
            }
        case .fileByFilename(let name):
            if index.hasFile(name) { files(name) } else { notFound("no file named \"\(name)\"") }
        case .fileContainingSymbol(let symbol):
            if let file = index.file(containing: symbol) { files(file) } else { notFound("no symbol named \"\(symbol)\"") }
        case .fileContainingExtension(let extensionRequest):
            notFound("no extension \(extensionRequest.extensionNumber) of \"\(extensionRequest.containingType)\"")
        case .allExtensionNumbersOfType(let type):
            if index.file(containing: type) != nil {
                response.allExtensionNumbersResponse = .with { $0.baseTypeName = type }
            } else {
                notFound("no message named \"\(type)\"")
            }
        case nil:
            response.errorResponse = .with {
                $0.errorCode = Int32(RPCError.Code.invalidArgument.rawValue)
                $0.errorMessage = "the request names no question (list_services, file_by_filename, file_containing_symbol, ...)"
            }
        }
        return response
    }
}

/// The same service under its pre-release name, `grpc.reflection.v1alpha`,
/// which many tools (older grpcurl, grpcio-reflection clients) still ask
/// first. Its messages are the v1 ones field for field, so requests and
/// answers pass through their wire form.
struct ReflectionServiceV1Alpha: Grpc_Reflection_V1alpha_ServerReflection.SimpleServiceProtocol {
    let v1: ReflectionService

    func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1alpha_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1alpha_ServerReflectionResponse>, context: ServerContext
    ) async throws {
        for try await message in request {
            let question = try ReflectionService.Request(serializedBytes: message.serializedBytes() as [UInt8])
            let answer: [UInt8] = try v1.answer(question).serializedBytes()
            try await response.write(Grpc_Reflection_V1alpha_ServerReflectionResponse(serializedBytes: answer))
        }
    }
}

import ArgumentParser
import Foundation
import VirtHostClient

/// Options every command takes: where the agent is and how to print.
public struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Agent socket (default: $VIRTHOST_SOCKET, else /run/virthost/virthost.sock).")
    var socket: String?

    @Option(
        name: .long,
        help: "grpc (the main socket) or ttrpc (the agent's --ttrpc-socket; default socket /run/virthost/virthost-ttrpc.sock) (default: $VIRTHOST_TRANSPORT, else grpc).")
    var transport: VirtHostWire?

    @Flag(name: .long, help: "Print one JSON document instead of a table.")
    var json = false

    @Option(
        name: .customLong("request-id"),
        help: "Make a change idempotent: a retry with the same id returns the first outcome (default: $VIRTHOST_REQUEST_ID).")
    var requestID: String?

    public init() {}

    /// The request id to send: --request-id, else $VIRTHOST_REQUEST_ID.
    var effectiveRequestID: String? {
        if let requestID { return requestID }
        let fromEnvironment = ProcessInfo.processInfo.environment["VIRTHOST_REQUEST_ID"] ?? ""
        return fromEnvironment.isEmpty ? nil : fromEnvironment
    }

    /// Runs `body` with a client for the chosen socket, closing it afterwards.
    /// With `async`, calls that run as an operation answer at once; `notes`
    /// receives what the agent answered besides the message.
    func withClient<T>(
        async: Bool = false, notes: ResponseNotes = ResponseNotes(), requestID: String? = nil,
        _ body: (VirtHostClient) async throws -> T
    ) async throws -> T {
        let client = try VirtHostClient(socketPath: socket, wire: transport ?? .default)
        defer { client.close() }
        return try await VirtHostCallOptions.with(requestID: requestID ?? effectiveRequestID, async: async, received: notes) {
            try await body(client)
        }
    }

    /// Prints the operation an `--async` call started; the id also comes from
    /// the operation list when the wire carries no answer metadata (ttrpc).
    func reportStarted(_ notes: ResponseNotes, what: String) async throws {
        let id = notes.operationID ?? "-"
        if json { return try Output.json(Virthost_V1_OperationRef.with { $0.id = id }) }
        Output.line("\(what): operation \(id) (virthost op wait \(id))")
    }
}

extension VirtHostWire: ExpressibleByArgument {}

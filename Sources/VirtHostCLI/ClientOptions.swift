import ArgumentParser
import Foundation
import VirtHostClient

/// Options every command takes: where the agent is and how to print.
public struct ClientOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Agent socket (default: $VIRTHOST_SOCKET, else /run/virthost/virthost-ttrpc.sock over ttrpc when it answers, else /run/virthost/virthost.sock).")
    var socket: String?

    @Option(
        name: .long,
        help: "grpc (the main socket) or ttrpc (the agent's ttrpc socket, default /run/virthost/virthost-ttrpc.sock) (default: $VIRTHOST_TRANSPORT, else grpc on a socket named by --socket or $VIRTHOST_SOCKET, else ttrpc when its default socket answers).")
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
        let (path, wire) = VirtHostClient.endpoint(socketPath: socket, wire: transport)
        let client = try VirtHostClient(socketPath: path, wire: wire)
        defer { client.close() }
        return try await VirtHostCallOptions.with(requestID: requestID ?? effectiveRequestID, async: async, received: notes) {
            try await body(client)
        }
    }

    /// Makes a call that runs as an operation and, on a terminal, draws its
    /// progress (the operation is found by the call's request id) until it
    /// answers.
    func withProgress<T>(_ verb: String, _ body: (VirtHostClient) async throws -> T) async throws -> T {
        let meter = ProgressMeter(verb: verb)
        let requestID = effectiveRequestID ?? (meter.callback != nil ? VirtHostCallOptions.newRequestID() : nil)
        let result = try await withClient(requestID: requestID) { client in
            let follower = meter.callback.flatMap { draw in
                requestID.map { id in Task { await OperationFormat.follow(client, requestID: id, draw: draw) } }
            }
            defer { follower?.cancel() }
            return try await body(client)
        }
        meter.finish()
        return result
    }

    /// Makes a call that runs as an operation with `virthost-async: 1` and
    /// prints the operation's id: from the answer's metadata, or (ttrpc
    /// answers carry none) from the operation list, by the call's request id.
    func startAsync<T: Sendable>(_ what: String, _ body: (VirtHostClient) async throws -> T) async throws {
        let notes = ResponseNotes()
        let requestID = effectiveRequestID ?? VirtHostCallOptions.newRequestID()
        let operation = try await withClient(async: true, notes: notes, requestID: requestID) { client -> String? in
            _ = try await body(client)
            if let known = notes.operationID { return known }
            return try await VirtHostCallOptions.with { try await client.listOperations(requestID: requestID).first?.id }
        }
        let id = operation ?? "-"
        if json { return try Output.json(Virthost_V1_OperationRef.with { $0.id = id }) }
        Output.line("\(what): operation \(id) (virthost op wait \(id))")
    }
}

extension VirtHostWire: ExpressibleByArgument {}

import ArgumentParser
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

    public init() {}

    /// Runs `body` with a client for the chosen socket, closing it afterwards.
    func withClient<T>(_ body: (VirtHostClient) async throws -> T) async throws -> T {
        let client = try VirtHostClient(socketPath: socket, wire: transport ?? .default)
        defer { client.close() }
        return try await body(client)
    }
}

extension VirtHostWire: ExpressibleByArgument {}

import ArgumentParser
import Foundation
import VirtHostClient

/// `virthost events`: stream the agent's events until interrupted.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Stream machine, network, pool and guest-agent events until interrupted.",
        discussion: """
            Each line shows the event's sequence number, time, kind, object and what happened. \
            With --json each event is one JSON object on its own line. To resume after a \
            disconnect without losing events, pass the last sequence number seen with --since \
            (and its epoch with --epoch); events the agent no longer buffers are announced \
            as a "gap".
            """)

    @OptionGroup var options: ClientOptions

    @Option(help: "Kinds to show, comma separated: domain, network, pool, agent, operation (default: all).")
    var kind: String?

    @Option(help: "Only events about objects with this name.")
    var name: String?

    @Option(help: "Replay buffered events after this sequence number first.")
    var since: UInt64 = 0

    @Option(help: "The epoch --since belongs to (printed with every event in --json).")
    var epoch: UInt64 = 0

    func validate() throws { _ = try kinds() }

    func kinds() throws -> [Virthost_V1_EventKind] {
        guard let kind else { return [] }
        return try kind.split(separator: ",").map { word in
            switch word.trimmingCharacters(in: .whitespaces) {
            case "domain": return .domain
            case "network": return .network
            case "pool": return .pool
            case "agent": return .agent
            case "operation": return .operation
            default: throw ValidationError("--kind takes domain, network, pool, agent or operation, not '\(word)'")
            }
        }
    }

    func run() async throws {
        let kinds = try kinds()
        let json = options.json
        try await options.withClient { client in
            try await client.watchEvents(kinds: kinds, name: name ?? "", since: since, sinceEpoch: epoch) { event in
                if json {
                    try Output.jsonLine(event)
                } else {
                    Output.line(EventsCommand.format(event))
                }
            }
        }
    }

    static func format(_ event: Virthost_V1_Event) -> String {
        let time = ISO8601DateFormatter().string(from: event.time.date)
        let kind: String
        switch event.kind {
        case .domain: kind = "domain"
        case .network: kind = "network"
        case .pool: kind = "pool"
        case .agent: kind = "agent"
        case .system: kind = "system"
        case .operation: kind = "operation"
        default: kind = "-"
        }
        var text = "\(event.sequence) \(time) \(kind) \(event.name.isEmpty ? "-" : event.name) \(event.type)"
        if !event.detail.isEmpty { text += " (\(event.detail))" }
        if !event.device.isEmpty { text += " device=\(event.device)" }
        if event.type == "gap" { text += " from=\(event.gapFrom)" }
        if event.hasOperation {
            let op = event.operation
            text += " \(OperationFormat.state(op.state))"
            if op.total > 0 { text += " \(op.done)/\(op.total) \(op.unit)" }
        }
        return text
    }
}

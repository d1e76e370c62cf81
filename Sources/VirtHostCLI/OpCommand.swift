import ArgumentParser
import Foundation
import VirtHostClient

/// `virthost op ...`: long work (uploads, downloads, clones, wipes, pool
/// builds and deletes) as operations: list, show, wait, cancel.
struct OpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "op", abstract: "Operations: long work any client can see, wait for and cancel.",
        subcommands: [List.self, Show.self, Wait.self, Cancel.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Running operations (with --all, finished ones too), newest first.")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Finished operations too.") var all = false
        @Option(help: "Only this kind, e.g. volume.upload.") var kind: String?
        @Option(help: "Show at most this many.") var limit: UInt32 = 100

        func run() async throws {
            let operations = try await options.withClient {
                try await $0.listOperations(states: all ? [] : [.running], kind: kind ?? "", pageSize: limit)
            }
            if options.json { return try Output.json(operations) }
            var table = Table("Id", "Kind", "Object", "State", "Progress", "Started")
            for op in operations {
                table.add(op.id, op.kind, op.object, OperationFormat.state(op.state), OperationFormat.progress(op),
                          ISO8601DateFormatter().string(from: op.startedAt.date))
            }
            Output.line(table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One operation.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The operation's id.") var id: String

        func run() async throws {
            let op = try await options.withClient { try await $0.operation(id) }
            if options.json { return try Output.json(op) }
            Output.line(OperationFormat.details(op).render())
        }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait until an operation ends; exits non-zero unless it succeeded.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The operation's id.") var id: String
        @Option(help: "Give up after this many seconds (default: wait as long as it takes).") var timeout: Double?

        func run() async throws {
            let op = try await options.withClient { client in
                var op = try await client.operation(id)
                let deadline = timeout.map { Date().addingTimeInterval($0) }
                while op.state == .running {
                    if let deadline, Date() >= deadline { break }
                    let slice = min(60, deadline.map { $0.timeIntervalSinceNow } ?? 60)
                    op = try await client.waitOperation(id, timeout: .milliseconds(Int64(max(0.1, slice) * 1000)))
                }
                return op
            }
            if options.json { try Output.json(op) } else { Output.line(OperationFormat.details(op).render()) }
            if op.state != .succeeded { throw ExitCode(op.state == .running ? 124 : 1) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an operation where libvirt can stop it (uploads, downloads).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The operation's id.") var id: String

        func run() async throws {
            let op = try await options.withClient { try await $0.cancelOperation(id) }
            if options.json { return try Output.json(op) }
            Output.line("Operation \(op.id) (\(op.kind) \(op.object)): cancel requested")
        }
    }
}

/// Words and numbers for operations, shared by `op` and `events`.
enum OperationFormat {
    static func state(_ state: Virthost_V1_OperationState) -> String {
        switch state {
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .interrupted: "interrupted"
        default: "unknown"
        }
    }

    static func progress(_ op: Virthost_V1_Operation) -> String {
        guard op.total > 0 else { return op.done > 0 ? Format.bytes(op.done) : "-" }
        let percent = Double(op.done) * 100 / Double(op.total)
        return String(format: "%.0f%% of %@", percent, Format.bytes(op.total))
    }

    /// Draws the progress of the operation a call with `requestID` started,
    /// twice a second, until cancelled.
    static func follow(_ client: VirtHostClient, requestID: String, draw: @Sendable (TransferProgress) -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            let op = try? await VirtHostCallOptions.with { try await client.listOperations(requestID: requestID).first }
            if let op, op.total > 0 { draw(TransferProgress(bytes: op.done, total: op.total)) }
        }
    }

    static func details(_ op: Virthost_V1_Operation) -> Details {
        var details = Details()
        details.add("Id", op.id)
        details.add("Kind", op.kind)
        details.add("Object", op.object)
        details.add("State", state(op.state))
        details.add("Progress", progress(op))
        if op.rate > 0 { details.add("Rate", "\(Format.bytes(UInt64(op.rate)))/s") }
        details.add("Started", ISO8601DateFormatter().string(from: op.startedAt.date))
        if op.hasEndedAt { details.add("Ended", ISO8601DateFormatter().string(from: op.endedAt.date)) }
        details.add("Caller", "uid \(op.uid) pid \(op.pid)")
        if !op.requestID.isEmpty { details.add("Request id", op.requestID) }
        details.add("Cancellable", Format.yesNo(op.cancellable))
        if op.hasEndedAt { details.add("Status", op.statusCode == 0 ? "OK" : "\(op.statusCode): \(op.statusMessage)") }
        if !op.cleanup.isEmpty { details.add("Cleanup", op.cleanup) }
        return details
    }
}

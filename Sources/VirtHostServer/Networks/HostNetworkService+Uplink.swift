import Foundation
import GRPCCore
import HostNetworking
import VirtHostAPI

// A bridge over an uplink, transactionally (``UplinkBridge``, ``PendingBridges``).
extension HostNetworkService {
    static let maxChecks = 8

    func bridgeUplink(request: Virthost_V1_BridgeUplinkRequest, context: ServerContext) async throws -> Virthost_V1_BridgeUplinkResponse {
        try HostChecks.linkName(request.bridge, field: "bridge name")
        try HostChecks.linkName(request.uplink, field: "uplink")
        if request.bridge == request.uplink { throw Refusal.invalid("the bridge and its uplink must be different links") }
        guard request.checks.count <= Self.maxChecks else { throw Refusal.invalid("at most \(Self.maxChecks) checks") }
        let checks = try request.checks.map { text -> [UInt8] in
            guard let bytes = IPPrefix.bytes(text) else { throw Refusal.invalid("check '\(text.prefix(64))' is not an IPv4 or IPv6 address") }
            if bytes.allSatisfy({ $0 == 0 }) || (bytes.count == 16 && bytes[0] == 0xff) || (bytes.count == 4 && bytes[0] >= 224) {
                throw Refusal.invalid("check \(text) is not a unicast address")
            }
            return bytes
        }
        guard request.checkTimeoutSeconds <= 60 else { throw Refusal.invalid("check_timeout_seconds \(request.checkTimeoutSeconds) is over 60") }
        guard request.confirmWithinSeconds <= 3600 else {
            throw Refusal.invalid("confirm_within_seconds \(request.confirmWithinSeconds) is over 3600")
        }
        let timeout = Int32(request.checkTimeoutSeconds == 0 ? 5 : request.checkTimeoutSeconds) * 1000
        let pending = self.pending
        let started = ContinuousClock.now
        let response = try await Self.netlink { () throws -> Virthost_V1_BridgeUplinkResponse in
            let snapshot = try UplinkBridge.snapshot(bridge: request.bridge, uplink: request.uplink)
            try pending.begin(snapshot)
            do {
                try UplinkBridge.apply(snapshot)
            } catch {
                pending.finish(snapshot.bridge)
                throw error
            }
            let silent: [String]
            do {
                silent = try UplinkBridge.unreachable(checks, bridge: snapshot.bridge, timeoutMilliseconds: timeout)
            } catch let error as HostNetworkError {
                if let failure = pending.rollBack(snapshot, reason: "the check could not run") {
                    throw HostNetworkError(.failed, "\(error.message); and the rollback failed: \(failure)")
                }
                throw HostNetworkError(error.kind, "\(error.message); everything was rolled back")
            }
            if !silent.isEmpty {
                let problem = "check failed: \(silent.joined(separator: ", ")) did not answer an ICMP echo through '\(snapshot.bridge)' within "
                    + "\(timeout / 1000) s"
                if let failure = pending.rollBack(snapshot, reason: "check failed") {
                    throw HostNetworkError(.failed, "\(problem); and the rollback failed: \(failure)")
                }
                throw HostNetworkError(
                    .wrongState, "\(problem); everything was rolled back ('\(snapshot.uplink)' has its addresses and routes again)")
            }
            var response = Virthost_V1_BridgeUplinkResponse()
            response.checked = request.checks
            if request.confirmWithinSeconds > 0 {
                let deadline = Date().addingTimeInterval(Double(request.confirmWithinSeconds))
                do {
                    try pending.markPending(snapshot.bridge, deadline: deadline)
                } catch {
                    let failure = pending.rollBack(snapshot, reason: "the deadline could not be recorded")
                    throw Refusal(
                        .internalError,
                        "cannot record the confirmation deadline (\(error)); " + (failure.map { "and the rollback failed: \($0)" } ?? "everything was rolled back"))
                }
                pending.arm(snapshot.bridge, deadline: deadline)
                response.pending = true
                response.deadlineUnix = deadline.timeIntervalSince1970
            } else {
                pending.finish(snapshot.bridge)
            }
            let bridge = try HostLinks.get(snapshot.bridge, what: "bridge")
            response.bridge = Self.message(bridge)
            response.addresses = try HostLinks.addresses(interface: snapshot.bridge).filter { !$0.isLinkLocal }.map(Self.message)
            response.routes = try HostLinks.routes().filter { $0.index == bridge.index }.map(Self.message)
            return response
        }
        var result = response
        let elapsed = (ContinuousClock.now - started).components
        result.elapsedMs = UInt32(clamping: elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)
        return result
    }

    func confirmBridge(request: Virthost_V1_ConfirmBridgeRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        try HostChecks.linkName(request.bridge, field: "bridge")
        let pending = self.pending
        return try await Self.netlink {
            guard let row = try pending.row(request.bridge), row.state == "pending" else {
                throw Refusal(
                    .notFound, "bridge '\(request.bridge)' has no change waiting for a confirmation (never asked, already confirmed, or rolled back)")
            }
            pending.finish(row.bridge)
            return Virthost_V1_Empty()
        }
    }

    func listPendingBridges(request: Virthost_V1_ListPendingBridgesRequest, context: ServerContext) async throws -> Virthost_V1_ListPendingBridgesResponse {
        let pending = self.pending
        return try await Self.netlink {
            var response = Virthost_V1_ListPendingBridgesResponse()
            response.pending = try pending.all().filter { $0.state == "pending" }.map { row in
                .with {
                    $0.bridge = row.bridge
                    $0.uplink = row.uplink
                    $0.deadlineUnix = row.deadline ?? 0
                }
            }
            return response
        }
    }

    /// A change still waiting for its confirmation is rolled back exactly
    /// (its snapshot); a settled one is reversed from what the bridge has now.
    func restoreUplink(request: Virthost_V1_RestoreUplinkRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.bridge, field: "bridge")
        if !request.uplink.isEmpty { try HostChecks.linkName(request.uplink, field: "uplink") }
        let pending = self.pending
        return try await Self.netlink {
            if let row = try pending.row(request.bridge) {
                if !request.uplink.isEmpty, request.uplink != row.uplink {
                    throw HostNetworkError(.invalid, "bridge '\(request.bridge)' is pending over uplink '\(row.uplink)', not '\(request.uplink)'")
                }
                try UplinkBridge.rollBack(row.snapshot)
                pending.finish(row.bridge)
                return Self.message(try HostLinks.get(row.uplink))
            }
            let bridge = try HostLinks.get(request.bridge, what: "bridge")
            let uplink = request.uplink.isEmpty ? (try HostLinks.list().first { $0.masterIndex == bridge.index && $0.tap == nil })?.name : request.uplink
            try UplinkBridge.restoreUplink(bridge: request.bridge, uplink: request.uplink.isEmpty ? nil : request.uplink)
            return Self.message(try HostLinks.get(uplink ?? "", what: "uplink"))
        }
    }
}

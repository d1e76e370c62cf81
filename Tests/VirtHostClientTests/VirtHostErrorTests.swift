import GRPCCore
import Libvirt
import GRPCProtobuf
import SwiftProtobuf
import Testing

@testable import VirtHostClient

/// Every failed call reaches the caller as one ``VirtHostError``: the gRPC
/// status, and libvirt's code, domain and name when libvirt failed.
@Suite struct VirtHostErrorTests {
    @Test func libvirtDetailsAreReadFromTheStatus() throws {
        let error = VirtHostError(try Wire.libvirtError(.notFound, "no domain with matching name 'x'", code: LibvirtError.Code.noDomain.rawValue, domain: LibvirtError.Origin.qemu.rawValue,
            name: "VIR_ERR_NO_DOMAIN"))
        #expect(error.code == .notFound)
        #expect(error.message == "no domain with matching name 'x'")
        #expect(error.libvirtCode == LibvirtError.Code.noDomain.rawValue)
        #expect(error.libvirtDomain == LibvirtError.Origin.qemu.rawValue)
        #expect(error.libvirtCodeName == "VIR_ERR_NO_DOMAIN")
        #expect(error.description == "NOT_FOUND: no domain with matching name 'x' [libvirt VIR_ERR_NO_DOMAIN]")
        #expect(error.guestAgentError == nil)
    }

    @Test func otherErrorInfoAndPlainStatusesCarryNoLibvirtDetails() {
        let foreign = GoogleRPCStatus(
            code: .invalidArgument, message: "bad",
            details: [.errorInfo(reason: "SOMETHING", domain: "example.com", metadata: ["code": "42"])])
        let fromForeign = VirtHostError(RPCError(foreign))
        #expect(fromForeign.code == .invalidArgument)
        #expect(fromForeign.libvirtCode == nil && fromForeign.libvirtDomain == nil && fromForeign.libvirtCodeName == nil)
        #expect(fromForeign.description == "INVALID_ARGUMENT: bad")

        let plain = VirtHostError(RPCError(code: .permissionDenied, message: "needs the operator role"))
        #expect(plain.code == .permissionDenied)
        #expect(plain.libvirtCode == nil && plain.libvirtCodeName == nil)
        #expect(plain.description == "PERMISSION_DENIED: needs the operator role")
    }

    @Test func codeNamesAreGRPCsSpelling() {
        let names: [(RPCError.Code, String)] = [
            (.cancelled, "CANCELLED"), (.unknown, "UNKNOWN"), (.invalidArgument, "INVALID_ARGUMENT"),
            (.deadlineExceeded, "DEADLINE_EXCEEDED"), (.notFound, "NOT_FOUND"), (.alreadyExists, "ALREADY_EXISTS"),
            (.permissionDenied, "PERMISSION_DENIED"), (.resourceExhausted, "RESOURCE_EXHAUSTED"),
            (.failedPrecondition, "FAILED_PRECONDITION"), (.aborted, "ABORTED"), (.outOfRange, "OUT_OF_RANGE"),
            (.unimplemented, "UNIMPLEMENTED"), (.internalError, "INTERNAL"), (.unavailable, "UNAVAILABLE"),
            (.dataLoss, "DATA_LOSS"), (.unauthenticated, "UNAUTHENTICATED"),
        ]
        for (code, name) in names {
            #expect(VirtHostError(code: code, message: "m").codeName == name)
        }
        #expect(Set(names.map(\.1)).count == 16)
    }

    @Test func wrapKeepsMeaningAndAddsHints() {
        let own = VirtHostError(code: .dataLoss, message: "sha256 differs", libvirtCode: LibvirtError.Code.internalError.rawValue)
        let kept = VirtHostError.wrap(own)
        #expect(kept.code == .dataLoss && kept.message == "sha256 differs" && kept.libvirtCode == LibvirtError.Code.internalError.rawValue)

        let ttrpc = VirtHostError.wrap(RPCError(code: .unavailable, message: "cannot reach the ttrpc socket /x: No such file"))
        #expect(ttrpc.code == .unavailable)
        #expect(ttrpc.message.hasPrefix("cannot reach the ttrpc socket /x: No such file. "))
        #expect(ttrpc.message.contains("--ttrpc-socket"))

        let grpc = VirtHostError.wrap(RPCError(code: .unavailable, message: "Could not establish a connection to /x."))
        #expect(grpc.code == .unavailable)
        #expect(grpc.message.hasPrefix("Could not establish a connection to /x. "))
        #expect(grpc.message.contains("Is virthostd running"))

        // Other UNAVAILABLE errors get no hint.
        let other = VirtHostError.wrap(RPCError(code: .unavailable, message: "libvirt is not connected"))
        #expect(other.message == "libvirt is not connected")

        struct Strange: Error, CustomStringConvertible { var description: String { "strange thing" } }
        let unknown = VirtHostError.wrap(Strange())
        #expect(unknown.code == .unknown)
        #expect(unknown.message == "strange thing")
        #expect(VirtHostError.wrap(CancellationError()).code == .unknown)
    }

    @Test func guestAgentRepliesAreReadBack() throws {
        let refused = VirtHostError(
            try Wire.guestAgentError(
                .unimplemented, errorClass: "CommandNotFound", command: "guest-exec",
                desc: "The command guest-exec has not been found"))
        #expect(refused.code == .unimplemented)
        let parsed = try #require(refused.guestAgentError)
        #expect(parsed.errorClass == "CommandNotFound")
        #expect(parsed.command == "guest-exec")
        #expect(parsed.desc == "The command guest-exec has not been found")
        #expect(refused.libvirtCodeName == "VIR_ERR_INTERNAL_ERROR")
        // A description may itself hold the separator.
        let nested = VirtHostError(
            try Wire.guestAgentError(.failedPrecondition, errorClass: "GenericError", command: "guest-ping", desc: "a 'b': c"))
        #expect(nested.guestAgentError?.desc == "a 'b': c")
        for message in ["no domain 'x'", "guest agent error GenericError", "guest agent error X from 'cmd' no colon"] {
            #expect(VirtHostError(code: .unknown, message: message).guestAgentError == nil, "\(message)")
        }
    }
}

/// Statuses as the agent sends them (ErrorMapping and GuestAgentErrors in
/// VirtHostServer): an ErrorInfo with domain `libvirt.org`, the typed
/// `LibvirtErrorDetail`, and for guest-agent refusals an ErrorInfo and
/// `AgentErrorDetail` of their own, with the reply in the message.
enum Wire {
    static func libvirtError(
        _ status: RPCError.Code, _ message: String, code: Int32, domain: Int32, name: String, extra: [ErrorDetails] = []
    ) throws -> RPCError {
        var detail = Virthost_V1_LibvirtErrorDetail()
        detail.code = code
        detail.domain = domain
        detail.message = message
        let details: [ErrorDetails] = extra + [
            .errorInfo(
                reason: name, domain: "libvirt.org",
                metadata: ["code": String(code), "domain": String(domain), "message": message]),
            .any(try Google_Protobuf_Any(message: detail)),
        ]
        return RPCError(GoogleRPCStatus(code: status, message: message, details: details))
    }

    static func guestAgentError(_ status: RPCError.Code, errorClass: String, command: String, desc: String) throws -> RPCError {
        var detail = Virthost_V1_AgentErrorDetail()
        detail.command = command
        detail.errorClass = errorClass
        detail.desc = desc
        let extra: [ErrorDetails] = [
            .errorInfo(
                reason: errorClass, domain: "qemu-guest-agent",
                metadata: ["command": command, "class": errorClass, "desc": desc]),
            .any(try Google_Protobuf_Any(message: detail)),
        ]
        return try libvirtError(
            status, "guest agent error \(errorClass) from '\(command)': \(desc)", code: LibvirtError.Code.internalError.rawValue, domain: LibvirtError.Origin.qemu.rawValue,
            name: "VIR_ERR_INTERNAL_ERROR", extra: extra)
    }
}

import Foundation
import GRPCCore
import Libvirt
import Testing
import VirtHostClient
@testable import VirtHostServer

/// libvirt's errors keep their meaning on the way to the client.
@Suite struct ErrorMappingTests {
    @Test func notFoundCarriesLibvirtCodeDomainAndMessage() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let error = await DaemonHarness.error { _ = try await client.domain("no-such-machine") }
            #expect(error?.code == .notFound)
            #expect(error?.libvirtCodeName == "VIR_ERR_NO_DOMAIN")
            #expect(error?.libvirtCodeName == "VIR_ERR_NO_DOMAIN")
            #expect(error?.libvirtDomain != nil)
            #expect(error?.message.contains("no-such-machine") == true)

            let net = await DaemonHarness.error { _ = try await client.network("no-such-net") }
            #expect(net?.code == .notFound)
            #expect(net?.libvirtCodeName == "VIR_ERR_NO_NETWORK")
            let pool = await DaemonHarness.error { _ = try await client.listVolumes(pool: "no-such-pool") }
            #expect(pool?.code == .notFound)
            #expect(pool?.libvirtCodeName == "VIR_ERR_NO_STORAGE_POOL")
            let vol = await DaemonHarness.error { _ = try await client.volume(pool: "demo-images", name: "nope.raw") }
            #expect(vol?.code == .notFound)
            #expect(vol?.libvirtCodeName == "VIR_ERR_NO_STORAGE_VOL")
        }
    }

    @Test func invalidArgumentNeverReachesLibvirt() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let empty = await DaemonHarness.error { _ = try await client.domain("") }
            #expect(empty?.code == .invalidArgument)
            #expect(empty?.libvirtCode == nil)  // caught before libvirt
            let badUUID = await DaemonHarness.error {
                _ = try await client.call { try await client.domains.getDomain(.with { $0.domain.uuid = "not-a-uuid" }) }
            }
            #expect(badUUID?.code == .invalidArgument)
            let notXML = await DaemonHarness.error { _ = try await client.defineDomain(xml: "hello") }
            #expect(notXML?.code == .invalidArgument)
            #expect(notXML?.libvirtCode == nil)
            let badMode = await DaemonHarness.error { _ = try await client.shutdownDomain("web-1", mode: "reboot") }
            #expect(badMode?.code == .invalidArgument)
            // Nothing changed.
            let web = try await client.domain("web-1")
            #expect(web.state == .running)
        }
    }

    @Test func libvirtRejectedXMLIsInvalidArgument() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let error = await DaemonHarness.error { _ = try await client.defineDomain(xml: "<domain type='test'><name>x</name>") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.libvirtCode != nil)
        }
    }

    @Test func wrongStateIsFailedPrecondition() async throws {
        try await DaemonHarness.withAgent { client, _ in
            _ = try await client.defineDomain(xml: """
                <domain type='test'><name>err-state</name><memory>65536</memory><os><type>hvm</type></os></domain>
                """)
            let error = await DaemonHarness.error { _ = try await client.destroyDomain("err-state") }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.libvirtCodeName == "VIR_ERR_OPERATION_INVALID")
        }
    }

    @Test func statusCodeTable() {
        #expect(ErrorMapping.statusCode(for: .noDomain) == .notFound)
        #expect(ErrorMapping.statusCode(for: .invalidArg) == .invalidArgument)
        #expect(ErrorMapping.statusCode(for: .xmlError) == .invalidArgument)
        #expect(ErrorMapping.statusCode(for: .operationInvalid) == .failedPrecondition)
        #expect(ErrorMapping.statusCode(for: .noSupport) == .unimplemented)
        #expect(ErrorMapping.statusCode(for: .operationUnsupported) == .unimplemented)
        #expect(ErrorMapping.statusCode(for: .agentUnresponsive) == .unavailable)
        #expect(ErrorMapping.statusCode(for: .operationTimeout) == .deadlineExceeded)
        #expect(ErrorMapping.statusCode(for: .accessDenied) == .permissionDenied)
        #expect(ErrorMapping.statusCode(for: .domainExists) == .alreadyExists)
        #expect(ErrorMapping.statusCode(for: .internalError) == .internalError)
    }
}

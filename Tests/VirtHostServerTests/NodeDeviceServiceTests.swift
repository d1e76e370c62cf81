import Foundation
import Testing
import GRPCCore
import VirtHostAPI
import VirtHostClient

/// NodeDeviceService over a real agent on libvirt's test driver, whose
/// default host has an NPIV-capable FC HBA (scsi_host1, fc_host + vport_ops):
/// the vHBA path runs through virNodeDeviceCreateXML/Destroy here, which no
/// real host of this project's machines can (no FC HBA).
@Suite struct NodeDeviceServiceTests {
    @Test func vhbaOnTheTestDriversFCHostAndTheRefusals() async throws {
        try await DaemonHarness.withAgent(uri: "test:///default") { client, _ in
            let hosts = try await client.listNodeDevices(capability: "scsi_host")
            let hba = try #require(hosts.first { $0.name == "scsi_host1" }, "\(hosts.map(\.name))")
            #expect(hba.capabilities.contains("fc_host") && hba.capabilities.contains("vports"))
            #expect(hba.wwpn == "1000000012341234" && hba.scsiHost == 1)
            #expect(try await client.nodeDevice("scsi_host1").xml.contains("<wwnn>2000000012341234</wwnn>"))

            let vhba = try await client.createVhba(parent: "scsi_host1", wwnn: "5001A4A93526D0A1", wwpn: "5001a4a93526d0a2")
            #expect(vhba.parent == "scsi_host1" && vhba.capabilities.contains("fc_host"))
            #expect(vhba.wwnn == "5001a4a93526d0a1" && vhba.wwpn == "5001a4a93526d0a2")
            #expect(try await client.listNodeDevices(capability: "fc_host").contains { $0.name == vhba.name })
            try await client.destroyNodeDevice(vhba.name)
            #expect(try await client.listNodeDevices().allSatisfy { $0.name != vhba.name })

            func code(_ body: () async throws -> Void) async -> RPCError.Code? {
                do { try await body(); return nil } catch let error as VirtHostError { return error.code } catch { return .unknown }
            }
            // The HBA itself is not a vHBA: refused, nothing destroyed.
            #expect(await code { try await client.destroyNodeDevice("scsi_host1") } == .failedPrecondition)
            #expect(await code { _ = try await client.createVhba(parent: "scsi_host1", wwnn: "xyz", wwpn: "5001a4a93526d0a2") } == .invalidArgument)
            #expect(await code { _ = try await client.createVhba(parent: "../x", wwnn: "5001a4a93526d0a1", wwpn: "5001a4a93526d0a2") } == .invalidArgument)
            #expect(await code { _ = try await client.createVhba(parent: "scsi_host99", wwnn: "5001a4a93526d0a1", wwpn: "5001a4a93526d0a2") } == .notFound)
            #expect(await code { _ = try await client.nodeDevice("no/such") } == .invalidArgument)
            #expect(await code { _ = try await client.listNodeDevices(capability: "bogus") } == .invalidArgument)
            #expect(await code { _ = try await client.attachHostdev(domain: "test", pciAddress: "0000:00:1f.9") } == .invalidArgument)
            #expect(try await client.nodeDevice("scsi_host1").name == "scsi_host1")
        }
    }
}

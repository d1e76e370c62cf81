import Foundation
import GRPCCore
import SwiftProtobuf
import Testing
import VirtHostAPI
import VirtHostClient
@testable import VirtHostServer

/// grpc.health.v1 and server reflection, in-process. (make test also checks
/// them with PyPI's grpcio-health-checking and grpcio-reflection:
/// Tests/python/test_standard_services.py.) Health runs over whichever wire
/// the suite uses, so the ttrpc pass covers health over ttrpc.
@Suite struct StandardServicesTests {
    @Test func accessToStandardServices() {
        #expect(MethodRoles.requirement(service: "grpc.health.v1.Health", method: "Check") == .init(role: .none, changes: false))
        #expect(MethodRoles.requirement(service: "grpc.health.v1.Health", method: "Watch").role == Role.none)
        #expect(MethodRoles.requirement(service: "grpc.reflection.v1.ServerReflection", method: "ServerReflectionInfo").role == .reader)
        #expect(MethodRoles.requirement(service: "grpc.reflection.v1alpha.ServerReflection", method: "ServerReflectionInfo").role == .reader)
    }

    @Test func healthChecksOverallKnownAndUnknownServices() async throws {
        try await DaemonHarness.withAgent { client, _ in
            // virthostd connects at start; the harness's agent at the first call.
            _ = try await client.listNetworks()
            for service in ["", "virthost.v1.NetworkService", "virthost.v1.DomainService", "grpc.health.v1.Health"] {
                let answer = try await client.grpcHealth.check(.with { $0.service = service })
                #expect(answer.status == .serving, "\(service)")
            }
            do {
                _ = try await client.grpcHealth.check(.with { $0.service = "virthost.v1.NoSuchService" })
                Issue.record("an unknown service was answered")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
            let list = try await client.grpcHealth.list(.init())
            #expect(list.statuses["virthost.v1.HostService"]?.status == .serving)
            #expect(list.statuses.count == MethodRoles.services.count + HealthService.standardServices.count + 1)
        }
    }

    @Test func healthIsNotServingWithoutLibvirt() async throws {
        // libvirtd's socket is absent: the agent serves, libvirt does not.
        // (virthostd refuses to start so; it gets here when libvirtd goes away later.)
        let uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
        try await DaemonHarness.withAgent(uri: uri) { client, _ in
            _ = try? await client.listNetworks()
            let answer = try await client.grpcHealth.check(.with { $0.service = "" })
            #expect(answer.status == .notServing)
            #expect(try await client.health().status == .notServing)
            let network = try await client.grpcHealth.check(.with { $0.service = "virthost.v1.NetworkService" })
            #expect(network.status == .notServing)
            let reflection = try await client.grpcHealth.check(.with { $0.service = "grpc.reflection.v1.ServerReflection" })
            #expect(reflection.status == .serving)
        }
    }

    @Test func reflectionIndexesEveryServedFile() throws {
        let index = DescriptorIndex.served
        #expect(index.file(containing: "virthost.v1.NetworkService") == "virthost/v1/network.proto")
        #expect(index.file(containing: ".virthost.v1.NetworkService.ListNetworks") == "virthost/v1/network.proto")
        #expect(index.file(containing: "virthost.v1.LibvirtErrorDetail") == "virthost/v1/common.proto")
        #expect(index.file(containing: "grpc.health.v1.HealthCheckResponse.ServingStatus") == "grpc/health/v1/health.proto")
        #expect(index.file(containing: "virthost.v1.Nope") == nil)
        // network.proto, then its imports: common.proto and timestamp.proto.
        let names = try index.descriptorsWithImports(of: "virthost/v1/network.proto").map {
            try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name
        }
        #expect(names.first == "virthost/v1/network.proto")
        #expect(Set(names).isSuperset(of: ["virthost/v1/common.proto", "google/protobuf/timestamp.proto"]))
        #expect(Set(names).count == names.count)
        for service in MethodRoles.services.union(HealthService.standardServices) {
            #expect(index.services.contains(service), "\(service) is not in the descriptor set")
        }
    }

    @Test func reflectionAnswersEachKindOfQuestion() {
        let reflection = ReflectionService(served: MethodRoles.services.union(HealthService.standardServices))
        let listed = reflection.answer(.with { $0.listServices = "" })
        #expect(listed.listServicesResponse.service.map(\.name).contains("virthost.v1.NetworkService"))
        #expect(listed.listServicesResponse.service.count == MethodRoles.services.count + HealthService.standardServices.count)
        let byName = reflection.answer(.with { $0.fileByFilename = "virthost/v1/host.proto" })
        #expect(!byName.fileDescriptorResponse.fileDescriptorProto.isEmpty)
        let missing = reflection.answer(.with { $0.fileContainingSymbol = "virthost.v1.Missing" })
        #expect(missing.errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
        #expect(missing.originalRequest.fileContainingSymbol == "virthost.v1.Missing")
    }
}

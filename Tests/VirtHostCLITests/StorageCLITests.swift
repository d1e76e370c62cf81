import ArgumentParser
import Foundation
import Testing
@testable import VirtHostCLI

/// The pool, vol and disk commands as a user types them, against the demo host.
@Suite struct StorageCLITests {
    @Test func sizesReadLikeVirsh() throws {
        #expect(try ByteSize.parse("1") == 1)
        #expect(try ByteSize.parse("512b") == 512)
        #expect(try ByteSize.parse("1K") == 1024)
        #expect(try ByteSize.parse("1k") == 1024)
        #expect(try ByteSize.parse("1KiB") == 1024)
        #expect(try ByteSize.parse("1KB") == 1000)
        #expect(try ByteSize.parse("64M") == 64 << 20)
        #expect(try ByteSize.parse("1G") == 1 << 30)
        #expect(try ByteSize.parse("1GiB") == 1 << 30)
        #expect(try ByteSize.parse("1GB") == 1_000_000_000)
        #expect(try ByteSize.parse("2T") == 2 << 40)
        #expect(try ByteSize.parse("1TB") == 1_000_000_000_000)
        #expect(try ByteSize.parse("7E") == 7 << 60)
        #expect(try ByteSize.parseOffset("0") == 0)
        for bad in ["0", "-1", "-1G", "", "G", "1.5G", "1X", "1GG", "8E", "99999999999999999999", "16777216T"] {
            #expect(throws: ValidationError.self, "\(bad)") { try ByteSize.parse(bad) }
        }
    }

    @Test func poolDefineBuildsASpecAndRefusesForeignOptions() async throws {
        try await CLIHarness.withAgent { socket in
            let out = try await CLIHarness.run([
                "--socket", socket, "pool", "define", "vhu-cli", "--type", "dir", "--target", "/srv/vhu-cli", "--mode", "0750",
                "--start",
            ])
            #expect(out.contains("Pool vhu-cli defined, started"))
            let info = try await CLIHarness.run(["--socket", socket, "pool", "info", "vhu-cli"])
            #expect(info.contains("/srv/vhu-cli") && info.contains("running"))
            let json = try await CLIHarness.run(["--socket", socket, "--json", "pool", "info", "vhu-cli"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let spec = try #require(object["spec"] as? [String: Any])
            #expect(spec["mode"] as? Int == 0o750)
            #expect(spec["target_path"] as? String == "/srv/vhu-cli")
            _ = try await CLIHarness.run(["--socket", socket, "pool", "stop", "vhu-cli"])
            _ = try await CLIHarness.run(["--socket", socket, "pool", "undefine", "vhu-cli"])
        }
        var command = try #require(
            try VirtHostCommand.parseAsRoot(["pool", "define", "p", "--type", "dir", "--target", "/x", "--iqn", "iqn.2024-01.a:b"])
                as? PoolCommand.Define)
        #expect(throws: ValidationError.self) { try command.makeSpec() }
        command = try #require(
            try VirtHostCommand.parseAsRoot([
                "pool", "define", "n", "--type", "iscsi", "--host", "127.0.0.1", "--port", "3260", "--iqn",
                "iqn.2024-01.org.example:storage", "--initiator", "iqn.2024-01.org.example:client",
            ]) as? PoolCommand.Define)
        let iscsi = try command.makeSpec().iscsi
        #expect(iscsi.host == "127.0.0.1" && iscsi.port == 3260 && iscsi.targetIqn.hasSuffix(":storage"))
        command = try #require(
            try VirtHostCommand.parseAsRoot([
                "pool", "define", "n", "--type", "iscsi", "--host", "127.0.0.1", "--source-path", "iqn.2024-01.org.example:t",
            ]) as? PoolCommand.Define)
        #expect(try command.makeSpec().iscsi.targetIqn == "iqn.2024-01.org.example:t")
        command = try #require(
            try VirtHostCommand.parseAsRoot([
                "pool", "define", "r", "--type", "rbd", "--monitors", "127.0.0.1:6789,127.0.0.2", "--rbd-pool", "vms",
            ]) as? PoolCommand.Define)
        #expect(try command.makeSpec().rbd.monitors == ["127.0.0.1:6789", "127.0.0.2"])
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["pool", "define", "p"]) }
        #expect(throws: (any Error).self) {
            try VirtHostCommand.parseAsRoot(["pool", "define", "p", "--type", "dir", "--target", "/x", "--overwrite"])
        }
    }

    @Test func volCreateInfoAndDeleteWithSuffixedSizes() async throws {
        try await CLIHarness.withAgent { socket in
            let created = try await CLIHarness.run(["--socket", socket, "vol", "create", "demo-images", "vhu.qcow2", "2G", "--format", "qcow2"])
            #expect(created.contains("Volume vhu.qcow2 created in demo-images: 2.00 GiB"))
            let json = try await CLIHarness.run(["--socket", socket, "--json", "vol", "info", "demo-images", "vhu.qcow2"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(object["capacity"] as? Int == 2 << 30)
            let deleted = try await CLIHarness.run(["--socket", socket, "vol", "delete", "demo-images", "vhu.qcow2"])
            #expect(deleted.contains("deleted"))
        }
        #expect(throws: (any Error).self) {
            try VirtHostCommand.parseAsRoot(["vol", "create", "p", "v", "1G", "--thin", "--preallocate"])
        }
    }

    @Test func diskAttachNeedsOneSource() {
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["disk", "attach", "web-1", "--target", "vdb"]) }
        #expect(throws: (any Error).self) {
            try VirtHostCommand.parseAsRoot(["disk", "attach", "web-1", "--path", "/a", "--pool", "p", "--volume", "v", "--target", "vdb"])
        }
        #expect(throws: Never.self) {
            try VirtHostCommand.parseAsRoot(["disk", "attach", "web-1", "--pool", "p", "--volume", "v", "--target", "vdb", "--live"])
        }
    }
}

import CSQLite
import Crypto
import Foundation
import GRPCCore
import Testing
import VirtHostAPI
import VirtHostClient
@testable import VirtHostServer

/// Request ids and operations over the socket, on the demo host, with a
/// state database on disk. (Uploads, cancels and kill -9 run against
/// qemu:///system in Tests/python/test_operations.py.)
@Suite struct RequestIdTests {
    @Test func aRetryReplaysTheOutcomeEvenAfterARestart() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try await withAgent(folder) { client in
            let notes = ResponseNotes()
            let created = try await VirtHostCallOptions.with(requestID: "vol-1", received: notes) {
                try await client.createVolume(pool: "demo-images", name: "vht-once.img", capacity: 1 << 20)
            }
            #expect(!notes.replayed)
            let again = try await VirtHostCallOptions.with(requestID: "vol-1", received: notes) {
                try await client.createVolume(pool: "demo-images", name: "vht-once.img", capacity: 1 << 20)
            }
            #expect(notes.replayed, "the retry was answered from the record")
            #expect(again == created)
            #expect(try await client.listVolumes(pool: "demo-images").filter { $0.name == "vht-once.img" }.count == 1)
            // Without an id the same call runs again (and fails: it exists).
            await #expect(throws: VirtHostError.self) {
                _ = try await client.createVolume(pool: "demo-images", name: "vht-once.img", capacity: 1 << 20)
            }
            return created
        }
        // A new agent on the same state folder (the demo host starts afresh:
        // the volume is gone, so a real re-run would make it again).
        try await withAgent(folder) { client in
            let notes = ResponseNotes()
            let replayed = try await VirtHostCallOptions.with(requestID: "vol-1", received: notes) {
                try await client.createVolume(pool: "demo-images", name: "vht-once.img", capacity: 1 << 20)
            }
            #expect(notes.replayed)
            #expect(replayed == first)
            #expect(try await client.listVolumes(pool: "demo-images").allSatisfy { $0.name != "vht-once.img" }, "libvirt untouched")
        }
    }

    @Test func theSameIdForAnotherRequestIsRefused() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withAgent(folder) { client in
            _ = try await VirtHostCallOptions.with(requestID: "net-1") { try await client.setNetworkAutostart("demo-nat", true) }
            do {
                _ = try await VirtHostCallOptions.with(requestID: "net-1") { try await client.setNetworkAutostart("demo-nat", false) }
                Issue.record("a different request with a used id ran")
            } catch let error as VirtHostError {
                #expect(error.code == .failedPrecondition)
                #expect(error.message.contains("request id 'net-1'") && error.message.contains("SetNetworkAutostart"))
            }
            let bad = try await refusal { _ = try await VirtHostCallOptions.with(requestID: "has space") { try await client.startNetwork("demo-nat") } }
            #expect(bad.code == .invalidArgument)
            // Reads ignore ids: the same id twice on reads is fine.
            for _ in 0..<2 {
                _ = try await VirtHostCallOptions.with(requestID: "net-1") { try await client.listNetworks() }
            }
        }
    }

    @Test func failuresAreReplayedTooButTransientOnesAreNot() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withAgent(folder) { client in
            let notes = ResponseNotes()
            for attempt in 0..<2 {
                let error = try await refusal {
                    _ = try await VirtHostCallOptions.with(requestID: "missing-1", received: notes) {
                        try await client.startNetwork("no-such-net")
                    }
                }
                #expect(error.code == .notFound)
                #expect(error.libvirtCodeName == "VIR_ERR_NO_NETWORK", "the details are replayed too")
                #expect(notes.replayed == (attempt == 1))
            }
        }
    }

    @Test func concurrentCallsWithOneIdDoTheWorkOnce() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withAgent(folder) { client in
            let spec = Virthost_V1_NetworkSpec.with {
                $0.name = "vht-concurrent"
                $0.isolated = .init()
            }
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await VirtHostCallOptions.with(requestID: "define-once") { try await client.defineNetwork(spec).uuid }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(results).count == 1, "every call got the first one's network")
            #expect(try await client.listNetworks().filter { $0.name == "vht-concurrent" }.count == 1)
        }
    }

    @Test func operationsAreListedAndWaitedFor() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withAgent(folder) { client in
            _ = try await client.createVolume(pool: "demo-images", name: "vht-src.img", capacity: 1 << 20)
            let notes = ResponseNotes()
            let answer = try await VirtHostCallOptions.with(requestID: "clone-1", async: true, received: notes) {
                try await client.cloneVolume(pool: "demo-images", source: "vht-src.img", newName: "vht-copy.img")
            }
            #expect(answer.name == "vht-copy.img")
            let id = try #require(notes.operationID)
            let done = try await client.waitOperation(id, timeout: .seconds(10))
            #expect(done.state == .succeeded)
            #expect(done.kind == "volume.clone" && done.object == "demo-images/vht-copy.img" && done.requestID == "clone-1")
            #expect(done.uid == getuid())
            #expect(try await client.listOperations(requestID: "clone-1").map(\.id) == [id])
            #expect(try await client.listOperations(states: [.running]).isEmpty)
            let cancel = try await refusal { _ = try await client.cancelOperation(id) }
            #expect(cancel.code == .failedPrecondition && cancel.message.contains("ended"))
            let missing = try await refusal { _ = try await client.operation("nope") }
            #expect(missing.code == .notFound)
            // Paging: one at a time, newest first, every one seen once.
            // (The test driver cannot wipe: the operation fails, and is recorded so.)
            _ = try? await client.wipeVolume(pool: "demo-images", name: "vht-copy.img")
            let firstPage = try await client.operations.listOperations(.with { $0.pageSize = 1 })
            #expect(firstPage.operations.count == 1 && !firstPage.nextPageToken.isEmpty)
            let secondPage = try await client.operations.listOperations(.with { $0.pageSize = 1; $0.pageToken = firstPage.nextPageToken })
            #expect(secondPage.operations.first?.id == id)
            #expect(firstPage.operations.first?.kind == "volume.wipe")
            #expect(firstPage.operations.first?.state == .failed)
            #expect(firstPage.operations.first?.statusMessage.contains("virStorageVolWipe") == true)
        }
    }

    // MARK: The file

    @Test func aDamagedOrNewerStateFileStopsTheStartAndStaysAsItIs() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/" + StateDatabase.fileName
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        FileManager.default.createFile(atPath: path, contents: garbage)
        do {
            _ = try StateDatabase(path: path)
            Issue.record("a damaged file was opened")
        } catch {
            #expect(error.description.contains("damaged or is not a database"))
            #expect(error.description.contains("move it aside"))
        }
        #expect(FileManager.default.contents(atPath: path) == garbage, "left as it was")

        try FileManager.default.removeItem(atPath: path)
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        #expect(sqlite3_exec(db, "PRAGMA user_version = 99", nil, nil, nil) == SQLITE_OK)
        sqlite3_close(db)
        do {
            _ = try StateDatabase(path: path)
            Issue.record("a newer schema was opened")
        } catch {
            #expect(error.description.contains("schema version 99"))
        }
        let fresh = try StateDatabase(path: folder + "/fresh/" + StateDatabase.fileName)
        #expect(try fresh.query("PRAGMA user_version").first?.values.first?.int == Int64(StateDatabase.schemaVersion))
        #expect(try fresh.query("PRAGMA journal_mode").first?.values.first?.string == "wal")
    }

    @Test func rowsOfAStoppedAgentAreMarkedAtStart() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let db = try StateDatabase(path: folder + "/" + StateDatabase.fileName)
        let gone = "no-such-boot:1"
        try db.execute("INSERT INTO requests (id, method, request_hash, uid, state, created_at, owner) VALUES ('a', 'm', 'h', 0, 'running', 0, ?)", [.text(gone)])
        try db.execute("INSERT INTO requests (id, method, request_hash, uid, state, created_at, owner) VALUES ('b', 'm', 'h', 0, 'running', 0, ?)", [.text(StateDatabase.owner)])
        try db.execute("INSERT INTO operations (id, kind, object, uid, pid, state, started_at, owner, created_volume) VALUES ('o', 'volume.upload', 'p/v', 0, 1, 1, 0, ?, 'p/v')", [.text(gone)])
        #expect(try RequestLedger(database: db).markInterrupted() == 1, "only the row whose agent is gone")
        let ledger = OperationLedger(database: db, events: EventHub())
        let volumes = try ledger.markInterrupted()
        #expect(volumes.count == 1 && volumes[0].pool == "p" && volumes[0].volume == "v")
        #expect(try ledger.operation("o").state == .interrupted)
    }

    // MARK: Helpers

    func refusal(_ body: () async throws -> Void) async throws -> VirtHostError {
        do {
            try await body()
        } catch let error as VirtHostError {
            return error
        }
        Issue.record("the call succeeded")
        return VirtHostError(code: .unknown, message: "the call succeeded")
    }

    func withAgent<T: Sendable>(_ folder: String, _ body: (VirtHostClient) async throws -> T) async throws -> T {
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/agent.sock", socketMode: 0o600)
        configuration.stateDirectory = folder + "/state"
        return try await DaemonHarness.withAgent(configuration: configuration) { client, _ in try await body(client) }
    }
}

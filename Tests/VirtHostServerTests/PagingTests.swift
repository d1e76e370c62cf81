import Foundation
import GRPCCore
import Synchronization
import Testing
import VirtHostAPI
import VirtHostClient
@testable import VirtHostServer

/// Paging, filters, list-then-watch and bulk statistics (issue 18).
@Suite struct PagingTests {
    @Test func tokensRoundTripAndForeignOrBrokenOnesAreRefused() throws {
        let page = try Page(.domains, size: 2, token: "", prefix: "")
        let (items, next) = page.select(["c", "a", "d", "b"], name: { $0 })
        #expect(items == ["a", "b"])
        let second = try Page(.domains, size: 2, token: next, prefix: "")
        #expect(second.after == "b")
        #expect(second.select(["c", "a", "d", "b"], name: { $0 }) == (["c", "d"], ""))
        // A token names no list but its own, and garbage is refused.
        #expect(throws: Refusal.self) { try Page(.volumes, size: 2, token: next, prefix: "") }
        for bad in ["!!", "bm90IGEgdG9rZW4", String(repeating: "A", count: 4000)] {
            #expect(throws: Refusal.self) { try Page(.domains, size: 0, token: bad, prefix: "") }
        }
        #expect(throws: Refusal.self) { try Page(.domains, size: 1001, token: "", prefix: "") }
        // Names with any bytes survive the round trip.
        let odd = "vm ü/+=?\u{1F600}"
        #expect(try Page.decode(Page.encode(odd, kind: .networks), kind: .networks) == odd)
    }

    @Test func badPagingInputIsInvalidArgument() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let tooBig = await DaemonHarness.error { _ = try await client.listDomains(.with { $0.pageSize = 5000 }) }
            #expect(tooBig?.code == .invalidArgument)
            #expect(tooBig?.message.contains("page_size") == true)
            let badToken = await DaemonHarness.error { _ = try await client.listNetworks(.with { $0.pageToken = "garbage!" }) }
            #expect(badToken?.code == .invalidArgument)
            let badState = await DaemonHarness.error {
                _ = try await client.listDomains(.with { $0.states = [.unspecified] })
            }
            #expect(badState?.code == .invalidArgument)
        }
    }

    @Test func everyListPagesAndFilters() async throws {
        try await DaemonHarness.withAgent { client, _ in
            // Domains: pages of one, the state filter, the name prefix.
            var names: [String] = []
            var token = ""
            repeat {
                let page = try await client.listDomains(.with {
                    $0.pageSize = 1
                    $0.pageToken = token
                })
                #expect(page.domains.count <= 1)
                #expect(page.eventEpoch != 0)
                names += page.domains.map(\.name)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(names == ["build-agent", "db-1", "web-1"])
            let running = try await client.listDomains(.with { $0.states = [.running] })
            #expect(!running.domains.isEmpty && running.domains.allSatisfy { $0.state == .running })
            #expect(try await client.listDomains(.with { $0.namePrefix = "web" }).domains.map(\.name) == ["web-1"])

            let nets = try await client.listNetworks(.with { $0.pageSize = 3 })
            #expect(nets.networks.map(\.name) == ["demo-bridged", "demo-isolated", "demo-nat"])
            let rest = try await client.listNetworks(.with {
                $0.pageSize = 3
                $0.pageToken = nets.nextPageToken
            })
            #expect(rest.networks.map(\.name) == ["demo-routed"] && rest.nextPageToken.isEmpty)

            let pools = try await client.listPools(.with { $0.pageSize = 1 })
            #expect(pools.pools.map(\.name) == ["demo-backups"] && !pools.nextPageToken.isEmpty)

            let volumes = try await client.listVolumes(.with {
                $0.pool = "demo-images"
                $0.pageSize = 2
            })
            #expect(volumes.volumes.map(\.name) == ["db-1.qcow2", "debian-12.iso"])
            #expect(volumes.volumes.allSatisfy { $0.format.isEmpty })  // no XML read unless asked
            let last = try await client.listVolumes(.with {
                $0.pool = "demo-images"
                $0.pageSize = 2
                $0.pageToken = volumes.nextPageToken
                $0.withFormat = true
            })
            #expect(last.volumes.map(\.name) == ["web-1.qcow2"] && last.volumes.first?.format == "qcow2")
            #expect(last.volumes.first?.path == "/var/lib/libvirt/images/web-1.qcow2")
        }
    }

    /// Host links and node devices page like libvirt's objects: pages of
    /// one give every name once, in order; the prefix and the capability
    /// filter hold on every page; a token of another list is refused.
    @Test func hostLinksAndNodeDevicesPage() async throws {
        try await DaemonHarness.withAgent(uri: "test:///default") { client, _ in
            func walk(_ fetch: (String) async throws -> (names: [String], next: String)) async throws -> [String] {
                var all: [String] = []
                var token = ""
                repeat {
                    let (names, next) = try await fetch(token)
                    #expect(names.count <= 1)
                    all += names
                    token = next
                } while !token.isEmpty
                return all
            }
            // Other suites add and remove links meanwhile: what exists before
            // and after the walk must be in it, once.
            let before = Set(try await client.listLinks().map(\.name))
            let links = try await walk { token in
                let page = try await client.listLinks(.with {
                    $0.pageSize = 1
                    $0.pageToken = token
                })
                return (page.links.map(\.name), page.nextPageToken)
            }
            let after = Set(try await client.listLinks().map(\.name))
            #expect(links == links.sorted() && Set(links).count == links.count)
            #expect(before.intersection(after).isSubset(of: Set(links)))
            let lo = try await client.listLinks(.with { $0.namePrefix = "lo" })
            #expect(lo.links.contains { $0.name == "lo" } && lo.links.allSatisfy { $0.name.hasPrefix("lo") })

            let devices = try await client.listNodeDevices().map(\.name)
            #expect(devices.count > 2 && devices == devices.sorted())
            let paged = try await walk { token in
                let page = try await client.listNodeDevices(.with {
                    $0.pageSize = 1
                    $0.pageToken = token
                })
                return (page.devices.map(\.name), page.nextPageToken)
            }
            #expect(paged == devices)
            let hosts = try await walk { token in
                let page = try await client.listNodeDevices(.with {
                    $0.capability = "scsi_host"
                    $0.pageSize = 1
                    $0.pageToken = token
                })
                return (page.devices.map(\.name), page.nextPageToken)
            }
            #expect(hosts == (try await client.listNodeDevices(capability: "scsi_host")).map(\.name) && !hosts.isEmpty)
            let prefixed = try await client.listNodeDevices(.with { $0.namePrefix = "scsi_host" })
            #expect(prefixed.devices.map(\.name) == devices.filter { $0.hasPrefix("scsi_host") })

            let linkToken = try await client.listLinks(.with { $0.pageSize = 1 }).nextPageToken
            let foreign = await DaemonHarness.error { _ = try await client.listNodeDevices(.with { $0.pageToken = linkToken }) }
            #expect(foreign?.code == .invalidArgument)
        }
    }

    /// The bulk list says what the per-machine reads say, field by field.
    @Test func bulkListAgreesWithGetDomain() async throws {
        try await DaemonHarness.withAgent { client, _ in
            for listed in try await client.listDomains() {
                let one = try await client.domain(listed.name)
                var a = listed
                var b = one
                a.cpuTimeNs = 0  // the test driver's CPU time moves with the clock
                b.cpuTimeNs = 0
                #expect(a == b, "\(listed.name)")
            }
        }
    }

    @Test func statsOfOneSeveralOrAll() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let all = try await client.domainStats()
            #expect(all.stats.map(\.name) == ["build-agent", "db-1", "web-1"])
            #expect(all.stats.allSatisfy { !$0.uuid.isEmpty && $0.state != .unspecified })
            let two = try await client.domainStats(["web-1", "db-1", "web-1"])
            #expect(two.stats.map(\.name) == ["db-1", "web-1"])
            let missing = await DaemonHarness.error { _ = try await client.domainStats(["no-such-machine"]) }
            #expect(missing?.code == .notFound)
        }
    }

    /// A writer defines and undefines machines while a reader pages through
    /// the list and then watches from the list's event sequence: the
    /// reader's view ends equal to libvirt's, and machines that existed all
    /// along were seen exactly once across the pages.
    @Test func listThenWatchConvergesUnderChurn() async throws {
        try await DaemonHarness.withAgent { client, _ in
            func xml(_ name: String) -> String {
                "<domain type='test'><name>\(name)</name><memory>65536</memory><os><type>hvm</type></os></domain>"
            }
            let keep = (0..<12).map { String(format: "churn-keep-%02d", $0) }
            for name in keep { _ = try await client.defineDomain(xml: xml(name)) }

            let writer = Task {
                var live: [String] = []
                for i in 0..<60 {
                    let name = String(format: "churn-x-%03d", i)
                    _ = try await client.defineDomain(xml: xml(name))
                    live.append(name)
                    if live.count > 5 { try await client.undefineDomain(live.removeFirst()) }
                }
            }

            // List in small pages while the writer runs; watch from the first page's sequence.
            var view = Set<String>()
            var seen: [String] = []
            var token = ""
            var first: Virthost_V1_ListDomainsResponse?
            repeat {
                let page = try await client.listDomains(.with {
                    $0.pageSize = 4
                    $0.pageToken = token
                    $0.namePrefix = "churn-"
                })
                if first == nil { first = page }
                seen += page.domains.map(\.name)
                view.formUnion(page.domains.map(\.name))
                token = page.nextPageToken
                try await Task.sleep(for: .milliseconds(5))
            } while !token.isEmpty
            #expect(Set(seen).count == seen.count, "a name came twice across pages")
            #expect(keep.allSatisfy(seen.contains), "a machine that existed all along was missed")

            let state = Mutex(view)
            let start = try #require(first)
            let watcher = Task {
                try await client.watchEvents(kinds: [.domain], since: start.eventSequence, sinceEpoch: start.eventEpoch) { event in
                    guard event.name.hasPrefix("churn-") else { return }
                    state.withLock { view in
                        switch event.type {
                        case "defined": view.insert(event.name)
                        case "undefined": view.remove(event.name)
                        default: break
                        }
                    }
                }
            }
            defer { watcher.cancel() }
            try await writer.value

            let truth = Set(try await client.listDomains().map(\.name).filter { $0.hasPrefix("churn-") })
            let deadline = ContinuousClock.now + .seconds(10)
            while state.withLock({ $0 }) != truth && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(state.withLock { $0 } == truth)
            #expect(truth.count == keep.count + 5)
        }
    }
}

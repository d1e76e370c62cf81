import Foundation
import Libvirt
import LibXML
import Testing
import VirtHostAPI

@testable import VirtHostServer

/// NIC and disk attach/detach as operations, without root or QEMU: libvirt's
/// test driver has networks and pools but cannot change a machine's devices,
/// so the machine is an in-memory one that behaves as libvirt does (live and
/// persistent definitions, "current" scope) and counts the calls made on it.
@Suite struct DomainDevicesTests {
    static let uri = "test:///default"

    /// A machine whose devices are element strings, rendered as libvirt's XML.
    final class FakeMachine: DeviceMachine, @unchecked Sendable {  // used from one test's thread only
        let name = "fake"
        var active: Bool
        var persistent: Bool
        var live: [String]
        var config: [String]
        /// When false, a live detach is only requested: the guest keeps the device.
        var guestReleases = true
        private(set) var calls: [String] = []

        init(active: Bool = true, persistent: Bool = true, devices: [String] = []) {
            self.active = active
            self.persistent = persistent
            live = active ? devices : []
            config = persistent ? devices : []
        }

        func isActive() throws -> Bool {
            calls.append("isActive")
            return active
        }

        func isPersistent() throws -> Bool {
            calls.append("isPersistent")
            return persistent
        }

        func xml(_ flags: Domain.XMLFlags) throws -> String {
            let inactive = flags.contains(.inactive) || !active
            calls.append(inactive ? "xml(inactive)" : "xml(live)")
            return "<domain type='test'><name>fake</name><devices>\((inactive ? config : live).joined())</devices></domain>"
        }

        /// libvirt's rule: no flags is the current state.
        private func targets(_ flags: Domain.DeviceModifyFlags) throws -> (live: Bool, config: Bool) {
            let live = flags.contains(.live) || (flags.isEmpty && active)
            let config = flags.contains(.config) || (flags.isEmpty && !active)
            if live, !active { throw LibvirtError(code: .operationInvalid, domain: .domain, message: "domain is not running") }
            return (live, config)
        }

        func attachDevice(xml: String, _ flags: Domain.DeviceModifyFlags) throws {
            calls.append("attach")
            let (toLive, toConfig) = try targets(flags)
            if toLive { live.append(xml) }
            if toConfig { config.append(xml) }
        }

        func detachDevice(xml: String, _ flags: Domain.DeviceModifyFlags) throws {
            calls.append("detach")
            let key = try Self.key(xml)
            let (fromLive, fromConfig) = try targets(flags)
            if fromLive, guestReleases { live.removeAll { (try? Self.key($0)) == key } }
            if fromConfig { config.removeAll { (try? Self.key($0)) == key } }
        }

        func detachDevice(alias: String, _ flags: Domain.DeviceModifyFlags) throws {
            Issue.record("no device here has an alias")
        }

        /// What libvirt matches a device by: a NIC's MAC, a disk's target.
        static func key(_ element: String) throws -> String {
            let root = try #require(try XMLDocument(xmlString: element).rootElement())
            return root.child("mac")?.attr("address") ?? root.child("target")?.attr("dev") ?? ""
        }

        func reset() { calls = [] }
    }

    static func nic(network: String = "default", mac: String = "", portgroup: String = "", model: String = "") -> Virthost_V1_AttachInterfaceRequest {
        .with {
            $0.domain = .named("fake")
            $0.type = .network
            $0.source = network
            $0.mac = mac
            $0.portgroup = portgroup
            $0.model = model
        }
    }

    static func scope(live: Bool = false, config: Bool = false) -> Virthost_V1_DeviceScope {
        .with {
            $0.live = live
            $0.config = config
        }
    }

    static func withDevices<T>(_ machine: FakeMachine, _ body: (DomainDevices) throws -> T) throws -> T {
        let connection = try Connection.open(uri)
        return try body(DomainDevices(connection: connection, machine: machine))
    }

    static func refusal(_ body: () throws -> Void) -> Refusal? {
        do {
            try body()
            return nil
        } catch let refusal as Refusal {
            return refusal
        } catch {
            Issue.record("not a refusal: \(error)")
            return nil
        }
    }

    // MARK: NICs

    @Test func nicOnANetworkGoesToTheRunningMachineByDefaultAndReadsBack() throws {
        let machine = FakeMachine()
        let nic = try Self.withDevices(machine) { try $0.attachNIC(NICAttach(Self.nic()), scope: Self.scope()) }
        #expect(nic.type == .network && nic.source == "default" && nic.model == "virtio")
        #expect(nic.mac.hasPrefix("52:54:00:") && nic.mac.count == 17)
        #expect(machine.live.count == 1 && machine.config.isEmpty)
        // The state once, the changed definition once, the read-back once:
        // no double lookups (persistence is not asked: only the live definition changes).
        #expect(machine.calls == ["isActive", "xml(live)", "attach", "xml(live)"])
    }

    @Test func bothDefinitionsAndADuplicateMACChangeNothing() throws {
        let machine = FakeMachine()
        let both = Self.scope(live: true, config: true)
        let mac = "52:54:00:AA:BB:CC"
        let nic = try Self.withDevices(machine) { try $0.attachNIC(NICAttach(Self.nic(mac: mac, portgroup: "", model: "e1000e")), scope: both) }
        #expect(nic.mac == "52:54:00:aa:bb:cc" && nic.model == "e1000e")
        #expect(machine.live.count == 1 && machine.config.count == 1)
        let before = (machine.live, machine.config)
        let again = try Self.withDevices(machine) { devices in
            Self.refusal { _ = try devices.attachNIC(NICAttach(Self.nic(mac: mac)), scope: both) }
        }
        #expect(again?.kind == .alreadyExists && again?.message.contains("52:54:00:aa:bb:cc") == true)
        #expect(machine.live == before.0 && machine.config == before.1)
    }

    @Test func scopesThatCannotApplyAreRefusedBeforeLibvirt() throws {
        let stopped = FakeMachine(active: false)
        let live = try Self.withDevices(stopped) { devices in
            Self.refusal { _ = try devices.attachNIC(NICAttach(Self.nic()), scope: Self.scope(live: true)) }
        }
        #expect(live?.kind == .failedPrecondition && live?.message.contains("not running") == true)
        let transient = FakeMachine(persistent: false)
        let config = try Self.withDevices(transient) { devices in
            Self.refusal { _ = try devices.attachNIC(NICAttach(Self.nic()), scope: Self.scope(config: true)) }
        }
        #expect(config?.kind == .failedPrecondition && config?.message.contains("transient") == true)
        #expect(!stopped.calls.contains("attach") && !transient.calls.contains("attach"))
    }

    @Test func missingNetworksAndPortGroupsAreNotFound() throws {
        let machine = FakeMachine()
        try Self.withDevices(machine) { devices in
            do {
                _ = try devices.attachNIC(NICAttach(Self.nic(network: "nope")), scope: Self.scope())
                Issue.record("attached to a missing network")
            } catch let error as LibvirtError {
                #expect(error.code == .noNetwork)
            }
            let group = Self.refusal { _ = try devices.attachNIC(NICAttach(Self.nic(portgroup: "web")), scope: Self.scope()) }
            #expect(group?.kind == .notFound && group?.message.contains("port group 'web'") == true)
        }
        #expect(machine.live.isEmpty && !machine.calls.contains("attach"))
    }

    @Test(arguments: [
        ("model", DomainDevicesTests.nic(model: "ne2k")),
        ("not a MAC", DomainDevicesTests.nic(mac: "52:54:00:zz:00:01")),
        ("source network is empty", DomainDevicesTests.nic(network: "")),
        ("only for a NIC on a network", Virthost_V1_AttachInterfaceRequest.with {
            $0.type = .bridge
            $0.source = "br0"
            $0.portgroup = "web"
        }),
        ("only for type DIRECT", Virthost_V1_AttachInterfaceRequest.with {
            $0.type = .network
            $0.source = "default"
            $0.directMode = "vepa"
        }),
        ("direct_mode", Virthost_V1_AttachInterfaceRequest.with {
            $0.type = .direct
            $0.source = "eth0"
            $0.directMode = "sideways"
        }),
        ("type must be", Virthost_V1_AttachInterfaceRequest.with { $0.source = "default" }),
    ])
    func badNICRequestsAreRefusedWithAClearMessage(_ expected: String, _ request: Virthost_V1_AttachInterfaceRequest) {
        let refusal = Self.refusal { _ = try NICAttach(request) }
        #expect(refusal?.kind == .invalidArgument, "\(request)")
        #expect(refusal?.message.contains(expected) == true, "\(String(describing: refusal))")
    }

    @Test func nicXMLNamesItsSourceAndEscapes() throws {
        var request = Self.nic(portgroup: "web")
        request.mac = "52:54:00:00:00:01"
        let xml = try NICAttach(request).xml(mac: "52:54:00:00:00:01")
        let root = try #require(try XMLDocument(xmlString: xml).rootElement())
        #expect(root.attr("type") == "network")
        #expect(root.child("source")?.attr("network") == "default" && root.child("source")?.attr("portgroup") == "web")
        #expect(root.child("mac")?.attr("address") == "52:54:00:00:00:01" && root.child("model")?.attr("type") == "virtio")
    }

    @Test func detachingANICRemovesItFromEachDefinitionAsked() throws {
        let mac = "52:54:00:00:00:07"
        let element = "<interface type='network'><mac address='\(mac)'/><source network='default'/></interface>"
        let machine = FakeMachine(devices: [element])
        let missing = try Self.withDevices(machine) { devices in
            Self.refusal { _ = try devices.detachNIC(mac: "52:54:00:00:00:08", scope: Self.scope(live: true, config: true)) }
        }
        #expect(missing?.kind == .notFound && !machine.calls.contains("detach"))
        let live = try Self.withDevices(machine) { try $0.detachNIC(mac: mac, scope: Self.scope(live: true, config: true)) }
        #expect(live)
        #expect(machine.live.isEmpty && machine.config.isEmpty)
        let stopped = FakeMachine(active: false, devices: [element])
        let wait = try Self.withDevices(stopped) { try $0.detachNIC(mac: mac, scope: Self.scope()) }
        #expect(!wait && stopped.config.isEmpty)
    }

    // MARK: Disks

    static func disk(target: String = "vdb", path: String = "/var/lib/libvirt/images/d.img") -> Virthost_V1_AttachDiskRequest {
        .with {
            $0.domain = .named("fake")
            $0.path = path
            $0.target = target
        }
    }

    @Test func diskAttachReadsBackAndATargetInUseIsNamed() throws {
        let machine = FakeMachine()
        let attach = try DiskXML.attach(Self.disk()) { _ in false }
        let disk = try Self.withDevices(machine) { try $0.attachDisk(attach, scope: Self.scope(live: true, config: true)) }
        #expect(disk.target == "vdb" && disk.bus == "virtio" && disk.sourcePath == "/var/lib/libvirt/images/d.img" && disk.format == "raw")
        let inUse = try Self.withDevices(machine) { devices in
            Self.refusal { _ = try devices.attachDisk(attach, scope: Self.scope(config: true)) }
        }
        #expect(inUse?.kind == .alreadyExists && inUse?.message.contains("persistent definition") == true)
        #expect(machine.live.count == 1 && machine.config.count == 1)
    }

    @Test func diskDetachNeedsTheTargetInEveryDefinitionAsked() throws {
        let element = "<disk type='file' device='disk'><source file='/x.img'/><target dev='vdc' bus='virtio'/></disk>"
        let machine = FakeMachine(devices: [element])
        machine.config = []  // a live-only disk
        let both = try Self.withDevices(machine) { devices in
            Self.refusal { _ = try devices.detachDisk(target: "vdc", scope: Self.scope(live: true, config: true)) }
        }
        #expect(both?.kind == .notFound && both?.message.contains("persistent definition") == true)
        #expect(machine.live.count == 1 && !machine.calls.contains("detach"))
        machine.guestReleases = false
        let live = try Self.withDevices(machine) { try $0.detachDisk(target: "vdc", scope: Self.scope()) }
        #expect(live)
        #expect(try Self.withDevices(machine) { try $0.liveDisk(target: "vdc") })  // the guest still holds it
    }

    // MARK: The removal wait

    @Test func removalWaitEndsWhenTheGuestLetsGoOrAtTheBudget() async throws {
        var polls = 0
        let done = try await DeviceRemoval.wait(live: true, budget: .seconds(5), poll: .milliseconds(5)) {
            polls += 1
            return polls < 3
        }
        #expect(done.completed && !done.pending && polls == 3)
        let pending = try await DeviceRemoval.wait(live: true, budget: .milliseconds(60), poll: .milliseconds(10)) { true }
        #expect(pending.pending && !pending.completed && pending.waitedMs >= 60)
        let notLive = try await DeviceRemoval.wait(live: false) {
            Issue.record("a persistent-only detach does not poll")
            return true
        }
        #expect(notLive.completed)
    }

    @Test func removalBudgetFollowsTheCallsDeadline() async {
        let inCall = CallDeadline.$current.withValue(CallDeadline(limit: .seconds(3), fromClient: true)) {
            DeviceRemoval.budget(deadline: CallDeadline.remaining)
        }
        #expect(inCall <= .milliseconds(2500) && inCall > .seconds(2))
        #expect(DeviceRemoval.budget(deadline: CallDeadline.remaining) == DeviceRemoval.defaultWait)
    }
}

import Foundation
import Libvirt

/// A tiny TCG guest for one test: its own isolated network (no IP, so no
/// dnsmasq and no traffic), a serial log, a guest-agent channel, one virtio
/// NIC and optionally one small raw disk. ``teardown()`` removes everything it
/// made, and ``with(_:disk:_:)`` calls it also when the test fails.
final class TestGuest: @unchecked Sendable {
    private static let counter = Counter()

    let name: String
    let networkName: String
    let bridgeName: String
    let folder: String
    let mac: String
    let diskPath: String?
    let connection: Connection

    /// Names the guest's objects; ``setUp()`` makes them. The domain itself is
    /// defined by the caller (through the agent or libvirt) from ``domainXML``.
    init(disk: Bool) throws {
        let n = Self.counter.next()
        name = "\(TestBed.prefix)guest\(n)"
        networkName = "\(TestBed.prefix)net\(n)"
        bridgeName = "vht\(TestBed.runID)b\(n)"  // at most 15 characters
        folder = "/var/lib/libvirt/images/\(name)"
        mac = String(format: "52:54:00:%02x:%02x:%02x", UInt8.random(in: 0...255), UInt8.random(in: 0...255), n % 256)
        diskPath = disk ? "\(folder)/disk0.raw" : nil
        connection = try Connection.open(TestBed.uri)
    }

    /// Makes the files and starts the network; ``teardown()`` undoes any part of it.
    func setUp() throws {
        // Copies per guest: libvirt relabels kernel, initrd and disks while the
        // guest runs, and qemu (as libvirt-qemu) must be able to read them.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ["vmlinuz", "initramfs.img"] {
            try FileManager.default.copyItem(atPath: "\(TestBed.guestDir)/\(file)", toPath: "\(folder)/\(file)")
        }
        if let diskPath {
            FileManager.default.createFile(atPath: diskPath, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: diskPath))
            try handle.truncate(atOffset: 16 << 20)
            try handle.close()
        }
        let network = try connection.defineNetwork(xml: """
            <network><name>\(networkName)</name><bridge name='\(bridgeName)' stp='off' delay='0'/></network>
            """)
        try network.start()
    }

    var domainXML: String {
        let disk = diskPath.map {
            """
            <disk type='file' device='disk'>
              <driver name='qemu' type='raw'/>
              <source file='\($0)'/>
              <target dev='vda' bus='virtio'/>
              <serial>vht-disk0</serial>
            </disk>
            """
        } ?? ""
        return """
            <domain type='qemu'>
              <name>\(name)</name>
              <memory unit='MiB'>256</memory>
              <vcpu>1</vcpu>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <kernel>\(folder)/vmlinuz</kernel>
                <initrd>\(folder)/initramfs.img</initrd>
                <cmdline>console=ttyS0 panic=-1</cmdline>
              </os>
              <features><acpi/><apic/></features>
              <clock offset='utc'/>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>destroy</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
                <serial type='file'><source path='\(folder)/console.log'/><target port='0'/></serial>
                <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
                <interface type='network'>
                  <source network='\(networkName)'/>
                  <mac address='\(mac)'/>
                  <model type='virtio'/>
                </interface>
                \(disk)
              </devices>
            </domain>
            """
    }

    /// Waits until qemu-ga answers `guest-ping`; returns the seconds waited.
    @discardableResult
    func waitForAgent(timeout: TimeInterval = 60) async throws -> TimeInterval {
        let started = Date()
        let domain = try connection.lookupDomain(name: name)
        while true {
            if (try? domain.agentCommand(#"{"execute":"guest-ping"}"#, timeout: .seconds(1))) != nil {
                return Date().timeIntervalSince(started)
            }
            if Date().timeIntervalSince(started) > timeout {
                let console = (try? String(contentsOfFile: "\(folder)/console.log", encoding: .utf8)) ?? ""
                throw TestBedError("guest agent of \(name) did not answer within \(Int(timeout)) s; console:\n\(console.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Waits until libvirt reports the domain in `state`.
    func waitForState(_ state: Domain.State, timeout: TimeInterval = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        let domain = try connection.lookupDomain(name: name)
        while try domain.state().state != state {
            guard Date() < deadline else { throw TestBedError("\(name) did not reach \(state) within \(Int(timeout)) s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Destroys and undefines the domain and the network, removes the files.
    /// Safe to call twice and after a partial setup.
    func teardown() {
        if let domain = try? connection.lookupDomain(name: name) {
            if (try? domain.isActive()) == true { try? domain.destroy() }
            try? domain.undefine([.snapshotsMetadata, .checkpointsMetadata, .nvram])
        }
        if let network = try? connection.lookupNetwork(name: networkName) {
            if (try? network.isActive()) == true { try? network.stop() }
            try? network.undefine()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs `body` with a fresh guest's network and files, tearing all down afterwards.
    static func with(disk: Bool = false, _ body: (TestGuest) async throws -> Void) async throws {
        let guest = try TestGuest(disk: disk)
        defer { guest.teardown() }
        try guest.setUp()
        try await body(guest)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

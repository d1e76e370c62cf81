import Foundation
import Libvirt
import Testing
import VirtHostClient

/// One booted guest lent in turn to the tests of a `.serialized` suite, so the
/// suite boots a TCG guest once instead of once per test (about 15 s each).
///
/// The suite carries ``sharedGuest(_:)`` as a trait: when the suite ends,
/// passed or failed, the guest is torn down like a ``TestGuest/with(disk:_:)``
/// guest (a crashed run leaves `vht-` names for `make clean-test-host`).
///
/// Before each loan after the first the guest is checked: still running, qemu-ga
/// answers within 2 s, file systems thawed, and whatever a test mounted under
/// /mnt unmounted, as on a fresh boot. A guest that fails the check, or whose
/// borrower threw, is torn down and the next loan boots a fresh one. A test
/// that breaks the guest on purpose (kills qemu-ga) borrows it with
/// `last: true`, and the guest is torn down after it.
final class SharedGuest: @unchecked Sendable {
    /// The disk the guest boots with, nil for none.
    let disk: TestGuest.DiskKind?
    private let lock = NSLock()
    private var current: TestGuest?

    init(disk: TestGuest.DiskKind? = nil) { self.disk = disk }

    /// Runs `body` with the suite's guest, booting it through `client` first
    /// when there is none (or the last one was given up).
    func lend(_ client: VirtHostClient, last: Bool = false, _ body: (TestGuest) async throws -> Void) async throws {
        let guest = try await ready(client)
        do {
            try await body(guest)
        } catch {
            discard()
            throw error
        }
        if last { discard() }
    }

    /// Tears the guest down, if there is one. Safe to call twice.
    func discard() {
        let guest = lock.withLock { () -> TestGuest? in
            defer { current = nil }
            return current
        }
        guest?.teardown()
    }

    private func ready(_ client: VirtHostClient) async throws -> TestGuest {
        if let guest = lock.withLock({ current }) {
            let started = ContinuousClock.now
            do {
                try await Self.reset(guest)
                print("end-to-end: \(guest.name) lent again, checked in \(AgentBed.ms(.now - started))")
                return guest
            } catch {
                print("end-to-end: \(guest.name) not lent again (\(error)); booting a fresh guest")
                discard()
            }
        }
        let guest = try TestGuest(disk: disk != nil)
        lock.withLock { current = guest }  // a failed setUp or boot is torn down below
        do {
            try guest.setUp()
            if let disk {
                try await guest.boot(client, xml: try guest.prepareDisk(disk))
            } else {
                try await guest.boot(client)
            }
        } catch {
            discard()
            throw error
        }
        return guest
    }

    /// Brings a used guest back to what a fresh boot offers, or throws.
    private static func reset(_ guest: TestGuest) async throws {
        let domain = try guest.connection.lookupDomain(name: guest.name)
        guard try domain.isActive() else { throw TestBedError("the domain is not running") }
        _ = try domain.agentCommand(#"{"execute":"guest-ping"}"#, timeout: .seconds(2))
        let frozen = try domain.agentCommand(#"{"execute":"guest-fsfreeze-status"}"#, timeout: .seconds(2))
        guard frozen == #"{"return":"thawed"}"# else { throw TestBedError("file systems not thawed: \(frozen)") }
        let unmount = try await guest.exec(
            #"while read -r _ m _; do case $m in /mnt/*) umount "$m" || exit 1;; esac; done </proc/mounts"#, timeout: 10)
        guard unmount.code == 0 else { throw TestBedError("could not unmount under /mnt: \(unmount.output)") }
    }

    /// The trait that tears the guest down at the end of the suite.
    struct Scope: SuiteTrait, TestScoping {
        let shared: SharedGuest
        var isRecursive: Bool { false }

        func scopeProvider(for test: Test, testCase: Test.Case?) -> Scope? { test.isSuite ? self : nil }

        func provideScope(
            for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
        ) async throws {
            defer { shared.discard() }
            try await function()
        }
    }
}

extension Trait where Self == SharedGuest.Scope {
    /// Tears `guest` down when the suite ends, whatever its tests did.
    static func sharedGuest(_ guest: SharedGuest) -> Self { Self(shared: guest) }
}

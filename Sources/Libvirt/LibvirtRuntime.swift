import CLibvirt
import Foundation

/// Process-wide libvirt setup: initialisation, a quiet error handler, and the
/// default event loop running on a thread of its own.
///
/// Keepalive, close callbacks and events all need the event loop, and libvirt
/// wants it registered before the first connection opens. ``Connection/open(_:readOnly:)``
/// calls ``start()``, so users rarely need to.
public enum LibvirtRuntime {
    private static let started: Bool = {
        _ = virInitialize()
        // Without a handler libvirt prints every error to stderr; we report
        // errors through return values instead.
        virSetErrorFunc(nil) { _, _ in }
        guard virEventRegisterDefaultImpl() == 0 else { return false }
        let thread = Thread {
            Thread.current.name = "libvirt-events"
            while true {
                if virEventRunDefaultImpl() < 0 {
                    // Only fails on programming errors; do not spin.
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
        }
        thread.start()
        return true
    }()

    /// Starts libvirt's default event loop once; later calls do nothing.
    /// - Returns: whether the event loop is registered.
    @discardableResult
    public static func start() -> Bool { started }

    /// The version of the libvirt library in use, e.g. `9000000` for 9.0.0.
    public static var libraryVersion: UInt64 {
        var version: UInt = 0
        _ = virGetVersion(&version, nil, nil)
        return UInt64(version)
    }

    /// Formats libvirt's `major * 1,000,000 + minor * 1,000 + release` encoding.
    public static func versionString(_ encoded: UInt64) -> String {
        "\(encoded / 1_000_000).\((encoded / 1_000) % 1_000).\(encoded % 1_000)"
    }
}

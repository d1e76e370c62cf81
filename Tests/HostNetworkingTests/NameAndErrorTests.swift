import CNetlink
import Foundation
import Testing

@testable import HostNetworking

/// What HostNetworking decides without touching the kernel: which interface
/// names it takes, and how kernel and libnl errors are classified.
@Suite struct NameAndErrorTests {
    @Test(arguments: [
        "br0", "virbr0", "eth0.100", "tap-web_1", "bond+", "a", "x1234567890abcd", "vht-1a2b3c", "Br-Upper", "...",
    ])
    func goodNamesHaveNoProblem(name: String) {
        #expect(HostLinks.nameProblem(name) == nil)
    }

    @Test(arguments: [
        ("", "is empty"),
        (".", "is not a usable interface name"),
        ("..", "is not a usable interface name"),
        ("x1234567890abcde", "longer than 15 bytes"),  // 16 bytes
        ("brück", "has a character"),  // 6 bytes, one not ASCII
        ("br 0", "has a character"),
        ("br/0", "has a character"),
        ("br:0", "has a character"),
        ("br'0", "has a character"),
        ("br<0", "has a character"),
        ("br\"0", "has a character"),
        ("br\t0", "has a character"),
        ("br\n", "has a character"),
        ("br$0", "has a character"),
        ("bré", "has a character"),
    ])
    func badNamesSayWhy(name: String, problem: String) {
        let found = HostLinks.nameProblem(name)
        #expect(found?.contains(problem) == true, "\(name.debugDescription): \(String(describing: found))")
    }

    /// The limit is the kernel's IFNAMSIZ in bytes, not characters, and a
    /// long name is cut in the message rather than echoed whole.
    @Test func lengthIsCountedInBytesAndLongNamesAreCut() {
        #expect(HostLinks.nameProblem(String(repeating: "a", count: 15)) == nil)
        let long = String(repeating: "b", count: 200)
        let problem = HostLinks.nameProblem(long)
        #expect(problem?.contains(String(repeating: "b", count: 32)) == true)
        #expect(problem?.contains(String(repeating: "b", count: 33)) == false)
        // Seven two-byte letters are 14 bytes but not ASCII: refused for the character.
        #expect(HostLinks.nameProblem(String(repeating: "é", count: 7))?.contains("has a character") == true)
    }

    @Test func errnoValuesBecomeKindsAndNameTheSubject() {
        let cases: [(Int32, HostNetworkError.Kind)] = [
            (EEXIST, .alreadyExists), (ENODEV, .notFound), (ENOENT, .notFound), (ENXIO, .notFound),
            (EINVAL, .invalid), (ERANGE, .invalid), (EBUSY, .busy), (EPERM, .permissionDenied),
            (EACCES, .permissionDenied), (EOPNOTSUPP, .unsupported), (EIO, .failed), (ENOMEM, .failed),
        ]
        for (value, kind) in cases {
            let error = HostNetworkError.errno(value, "creating TAP device 't0'")
            #expect(error.kind == kind, "errno \(value)")
            #expect(error.message == "creating TAP device 't0': \(String(cString: strerror(value)))")
            #expect(error.description == error.message)
        }
    }

    @Test func netlinkCodesBecomeKindsAndNameTheSubject() {
        let cases: [(Int32, HostNetworkError.Kind)] = [
            (NLE_EXIST, .alreadyExists), (NLE_OBJ_NOTFOUND, .notFound), (NLE_NODEV, .notFound),
            (NLE_INVAL, .invalid), (NLE_RANGE, .invalid), (NLE_BUSY, .busy), (NLE_OPNOTSUPP, .unsupported),
            (NLE_AF_NOSUPPORT, .unsupported), (NLE_MSGTYPE_NOSUPPORT, .unsupported), (NLE_PERM, .permissionDenied),
            (NLE_NOACCESS, .permissionDenied), (NLE_NOMEM, .failed), (NLE_FAILURE, .failed),
        ]
        for (code, kind) in cases {
            // libnl returns negative codes.
            let error = HostNetworkError.netlink(-code, "deleting 'br0'")
            #expect(error.kind == kind, "NLE \(code)")
            #expect(error.message.hasPrefix("deleting 'br0': "))
            #expect(error.message.hasSuffix("(netlink error \(code))"))
        }
    }

    @Test func errorsCompareByKindAndMessage() {
        #expect(HostNetworkError(.busy, "x") == HostNetworkError(.busy, "x"))
        #expect(HostNetworkError(.busy, "x") != HostNetworkError(.failed, "x"))
        #expect(HostNetworkError(.busy, "x") != HostNetworkError(.busy, "y"))
    }
}

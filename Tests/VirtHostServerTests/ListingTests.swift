import Libvirt
import Testing
@testable import VirtHostServer

/// Lists skip objects that vanish between the list call and their details.
@Suite struct ListingTests {
    @Test func vanishedObjectsAreSkippedOtherErrorsAreNot() throws {
        let gone = LibvirtError(code: .noStorageVolume, domain: .storage, message: "no storage vol with matching name 'b'")
        let listed = try Listing.live(["a", "b", "c"]) { name -> String in
            if name == "b" { throw gone }
            return name.uppercased()
        }
        #expect(listed == ["A", "C"])
        for code: LibvirtError.Code in [.noDomain, .noNetwork, .noStoragePool] {
            #expect(try Listing.live([1, 2]) { n -> Int in
                if n == 1 { throw LibvirtError(code: code, domain: .none, message: "gone") }
                return n
            } == [2])
        }
        #expect(throws: LibvirtError.self) {
            _ = try Listing.live([1]) { _ -> Int in throw LibvirtError(code: .internalError, domain: .none, message: "internal error") }
        }
    }
}

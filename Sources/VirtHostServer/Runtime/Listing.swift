import Libvirt

/// Lists of libvirt objects that other clients change at the same time.
enum Listing {
    /// Converts every listed object, skipping one that went away between the
    /// list call and reading its details (undefined, deleted or destroyed by
    /// someone else, e.g. a cut-off upload's volume being removed): a list is
    /// a snapshot, not a reason to fail.
    static func live<Object, Message>(_ objects: [Object], _ convert: (Object) throws -> Message) throws -> [Message] {
        try objects.compactMap { object in
            do {
                return try convert(object)
            } catch let error as LibvirtError where vanished.contains(error.code) {
                return nil
            }
        }
    }

    /// "No such object" codes: the object is gone.
    static let vanished: Set<LibvirtError.Code> = [.noDomain, .noNetwork, .noStoragePool, .noStorageVolume]
}

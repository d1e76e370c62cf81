import Foundation
import Glibc

/// What a disk image's header says about other files QEMU would open with
/// it: a qcow2 backing file or external data file. Read as root, from the
/// first 104 bytes, without following a final symlink.
enum DiskImageHeader {
    /// The formats an operator's disk may have: the others can name other
    /// host files in ways the agent does not parse (vmdk extents, qed
    /// backing files, luks keys...).
    static let confinedFormats: Set<String> = ["raw", "qcow2"]

    /// Why a qcow2 image would make QEMU open another host file, or nil.
    /// Unreadable or non-qcow2 bytes are nil: QEMU then opens nothing more
    /// (it fails to open the image at all).
    static func qcow2Reference(at path: String) -> String? {
        guard let links = qcow2Links(at: path) else { return nil }
        if links.backing != nil { return "its qcow2 header names a backing file" }
        if links.externalData { return "its qcow2 header names an external data file" }
        return nil
    }

    /// A qcow2 image's version, the backing file its header names (nil for
    /// none) and whether it uses an external data file; nil when the file is not a
    /// readable qcow2 image (QEMU then opens nothing more).
    static func qcow2Links(at path: String) -> (version: UInt32, backing: String?, externalData: Bool)? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 104)
        let count = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 104, 0) }
        guard count >= 72, header[0..<4] == [0x51, 0x46, 0x49, 0xfb] else { return nil }
        func be(_ offset: Int, _ width: Int) -> UInt64 {
            header[offset..<(offset + width)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        let version = UInt32(truncatingIfNeeded: be(4, 4))
        let externalData = version >= 3 && count >= 80 && be(72, 8) & (1 << 2) != 0
        let offset = be(8, 8)
        let size = be(16, 4)
        guard offset != 0 && size != 0 else { return (version, nil, externalData) }
        // QEMU takes names up to 1023 bytes; a longer or unreadable one still names something.
        guard size <= 1023 else { return (version, "(a name of \(size) bytes)", externalData) }
        var name = [UInt8](repeating: 0, count: Int(size))
        let read = name.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(size), off_t(offset)) }
        guard read == Int(size) else { return (version, "(an unreadable name)", externalData) }
        return (version, String(decoding: name, as: UTF8.self), externalData)
    }

    /// A qcow2 image's version (2 or 3), nil when the file is not a readable qcow2 image.
    static func qcow2Version(at path: String) -> UInt32? { qcow2Links(at: path)?.version }
}

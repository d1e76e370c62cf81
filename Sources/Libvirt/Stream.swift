import CLibvirt

/// A blocking libvirt data stream (`virStreamPtr`), as used by volume upload
/// and download. Named apart from Foundation's `Stream`.
///
/// Every call blocks until libvirtd has taken or produced bytes: run them on a
/// libvirt thread (``BlockingExecutor``), never on the Swift concurrency pool.
/// One stream must not be used from two threads at once; consecutive calls
/// from different threads are fine. A stream that is neither finished nor
/// aborted is aborted when the last reference goes away, so libvirtd never
/// waits on a transfer nobody drives.
// Unchecked: one stream must not be used from two threads at once (see above); the type cannot say so.
public final class DataStream: @unchecked Sendable {
    let handle: OpaquePointer
    private var closed = false

    /// A new blocking stream on `connection`.
    public init(connection: Connection) throws {
        handle = try check(virStreamNew(connection.handle, 0), "virStreamNew")
    }

    deinit {
        if !closed {
            _ = virStreamAbort(handle)
            virResetLastError()
        }
        virStreamFree(handle)
    }

    /// Sends all of `bytes`, looping over short writes.
    public func send(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        var left = bytes.count
        while left > 0 {
            let sent = Int(try check(virStreamSend(handle, base, left), "virStreamSend"))
            if sent == 0 { throw LibvirtError.last("virStreamSend wrote nothing") }
            base += sent
            left -= sent
        }
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try send($0) }
    }

    /// Receives up to `buffer.count` bytes; 0 means the end of the stream.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count > 0 else { return 0 }
        return Int(try check(virStreamRecv(handle, base, buffer.count), "virStreamRecv"))
    }

    /// Receives until `count` bytes arrived or the stream ended; an empty
    /// result means the end of the stream.
    public func receive(upTo count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        try bytes.withUnsafeMutableBytes { raw in
            while filled < count {
                let got = try receive(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                if got == 0 { break }
                filled += got
            }
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Completes the transfer: libvirtd confirms every byte was handled.
    public func finish() throws {
        guard !closed else { return }
        closed = true
        _ = try check(virStreamFinish(handle), "virStreamFinish")
    }

    /// Cancels the transfer; errors are ignored (the stream may be broken already).
    public func abort() {
        guard !closed else { return }
        closed = true
        _ = virStreamAbort(handle)
        virResetLastError()
    }
}

extension StorageVolume {
    /// Starts writing `length` bytes at `offset` from `stream` into the volume
    /// (`virStorageVolUpload`); 0 means up to the end of the volume.
    public func upload(into stream: DataStream, offset: UInt64, length: UInt64) throws {
        _ = try check(virStorageVolUpload(handle, stream.handle, offset, length, 0), "virStorageVolUpload")
    }

    /// Starts reading `length` bytes at `offset` of the volume into `stream`
    /// (`virStorageVolDownload`); 0 means up to the end of the volume.
    public func download(into stream: DataStream, offset: UInt64, length: UInt64) throws {
        _ = try check(virStorageVolDownload(handle, stream.handle, offset, length, 0), "virStorageVolDownload")
    }
}

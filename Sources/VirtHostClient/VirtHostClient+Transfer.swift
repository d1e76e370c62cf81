import Crypto
import Foundation
import GRPCCore
import Synchronization
import VirtHostAPI

// Streaming a file into a volume and a volume into a file, in 1 MiB chunks,
// with the sha256 of the bytes moved checked on both ends.

/// How far a transfer got, for progress displays.
public struct TransferProgress: Sendable, Equatable {
    /// Bytes moved so far.
    public var bytes: UInt64
    /// Bytes the transfer will move in all (0 when unknown).
    public var total: UInt64

    public init(bytes: UInt64, total: UInt64) {
        self.bytes = bytes
        self.total = total
    }
}

/// The outcome of ``VirtHostClient/uploadVolume(pool:name:from:create:createFormat:offset:checksumFirst:progress:)``.
public struct UploadResult: Sendable {
    public var bytesWritten: UInt64
    /// sha256 (hex) of the bytes, as computed by both the client and the agent.
    public var sha256: String
    /// The volume after the upload.
    public var volume: Virthost_V1_Volume
}

/// The outcome of ``VirtHostClient/downloadVolume(pool:name:to:offset:length:progress:)``.
public struct DownloadResult: Sendable {
    public var bytesRead: UInt64
    /// sha256 (hex) of the bytes, as computed by both the agent and the client.
    public var sha256: String
}

extension VirtHostClient {
    /// Bytes per upload message.
    public static let transferChunkSize = 1 << 20

    /// Streams a file into a volume (virsh vol-upload).
    ///
    /// The call succeeds only when the agent wrote every byte and its sha256
    /// of them matches the client's. With `create`, the agent makes the
    /// volume (the file's size, thin) and deletes it again if the upload does
    /// not complete, so a cut-off upload leaves no volume behind. Into an
    /// existing volume, bytes written before a failure stay there and the
    /// error says so.
    /// - Parameters:
    ///   - createFormat: with `create`, the format libvirt records ("raw" or e.g. "qcow2").
    ///   - checksumFirst: read the file once beforehand so the agent can
    ///     refuse to complete an upload whose bytes differ (a file that changed
    ///     while it was sent); without it only the client compares afterwards.
    ///   - progress: called after each chunk the agent accepted.
    public func uploadVolume(
        pool: String, name: String, from path: String, create: Bool = false, createFormat: String = "",
        offset: UInt64 = 0, checksumFirst: Bool = true,
        progress: (@Sendable (TransferProgress) -> Void)? = nil
    ) async throws -> UploadResult {
        let file: FileHandle
        do {
            file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw VirtHostError(code: .invalidArgument, message: "cannot read '\(path)': \(error.localizedDescription)")
        }
        defer { try? file.close() }
        let total = try file.seekToEnd()
        guard total > 0 else { throw VirtHostError(code: .invalidArgument, message: "'\(path)' is empty: nothing to upload") }
        var expected = ""
        if checksumFirst {
            try file.seek(toOffset: 0)
            var hasher = SHA256()
            while let data = try file.read(upToCount: Self.transferChunkSize), !data.isEmpty { hasher.update(data: data) }
            expected = Self.hex(hasher.finalize())
        }
        try file.seek(toOffset: 0)

        let header = Virthost_V1_UploadHeader.with {
            $0.volume = .volume(pool: pool, name: name)
            $0.offset = offset
            $0.length = total
            $0.sha256 = expected
            $0.create = create
            $0.createFormat = createFormat
        }
        let sent = DigestBox()
        let response = try await call {
            try await storage.uploadVolume(requestProducer: { writer in
                try await writer.write(.with { $0.header = header })
                var hasher = SHA256()
                var moved: UInt64 = 0
                while moved < total, let data = try file.read(upToCount: Self.transferChunkSize), !data.isEmpty {
                    hasher.update(data: data)
                    try await writer.write(.with { $0.chunk = data })
                    moved += UInt64(data.count)
                    progress?(TransferProgress(bytes: moved, total: total))
                }
                sent.set(Self.hex(hasher.finalize()))
            })
        }
        let mine = sent.value
        guard response.sha256 == mine, response.bytesWritten == total else {
            throw VirtHostError(
                code: .dataLoss,
                message: "the agent wrote \(response.bytesWritten) bytes with sha256 \(response.sha256); "
                    + "the client sent \(total) bytes with sha256 \(mine)")
        }
        return UploadResult(bytesWritten: response.bytesWritten, sha256: response.sha256, volume: response.volume)
    }

    /// Streams a volume into a file (virsh vol-download).
    ///
    /// The bytes go to a temporary file next to `path`, which becomes `path`
    /// only when every byte arrived and the client's sha256 matches the
    /// agent's; on any failure the temporary file is removed, so no partial
    /// file is left behind.
    /// - Parameters:
    ///   - length: bytes to read; 0 reads to the end of the volume.
    ///   - progress: called after each chunk written to the file.
    public func downloadVolume(
        pool: String, name: String, to path: String, offset: UInt64 = 0, length: UInt64 = 0,
        progress: (@Sendable (TransferProgress) -> Void)? = nil
    ) async throws -> DownloadResult {
        let destination = URL(fileURLWithPath: path)
        let partial = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).part-\(UUID().uuidString.prefix(8))")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw VirtHostError(code: .invalidArgument, message: "cannot write a file next to '\(path)'")
        }
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: partial) } }
        let file = try FileHandle(forWritingTo: partial)
        defer { try? file.close() }

        var total = length
        if total == 0 {
            let capacity = try await volume(pool: pool, name: name).capacity
            total = capacity > offset ? capacity - offset : 0
        }
        let request = Virthost_V1_DownloadVolumeRequest.with {
            $0.volume = .volume(pool: pool, name: name)
            $0.offset = offset
            $0.length = length
        }
        let expectedTotal = total
        let (received, mine, trailer) = try await call {
            try await storage.downloadVolume(request) { response in
                var hasher = SHA256()
                var received: UInt64 = 0
                var trailer: Virthost_V1_DownloadTrailer?
                for try await message in response.messages {
                    switch message.part {
                    case .chunk(let data):
                        guard trailer == nil else {
                            throw VirtHostError(code: .internalError, message: "the agent sent bytes after the trailer")
                        }
                        hasher.update(data: data)
                        try file.write(contentsOf: data)
                        received += UInt64(data.count)
                        progress?(TransferProgress(bytes: received, total: max(expectedTotal, received)))
                    case .trailer(let last):
                        trailer = last
                    case nil:
                        break
                    }
                }
                return (received, Self.hex(hasher.finalize()), trailer)
            }
        }
        guard let trailer else {
            throw VirtHostError(code: .dataLoss, message: "the download ended after \(received) bytes without the agent's trailer")
        }
        guard trailer.bytesRead == received, trailer.sha256 == mine else {
            throw VirtHostError(
                code: .dataLoss,
                message: "the agent sent \(trailer.bytesRead) bytes with sha256 \(trailer.sha256); "
                    + "the client received \(received) bytes with sha256 \(mine)")
        }
        try file.synchronize()
        // rename(2) replaces an existing file atomically.
        guard rename(partial.path, destination.path) == 0 else {
            throw VirtHostError(code: .internalError, message: "cannot move the download to '\(path)': \(String(cString: strerror(errno)))")
        }
        keep = true
        return DownloadResult(bytesRead: received, sha256: mine)
    }

    /// The sha256 (hex) of a file's bytes, read in 1 MiB chunks.
    public static func sha256(ofFile path: String) throws -> String {
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? file.close() }
        var hasher = SHA256()
        while let data = try file.read(upToCount: transferChunkSize), !data.isEmpty { hasher.update(data: data) }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The digest the request producer computed, handed back to the caller.
private final class DigestBox: Sendable {
    private let digest = Mutex("")
    func set(_ value: String) { digest.withLock { $0 = value } }
    var value: String { digest.withLock { $0 } }
}

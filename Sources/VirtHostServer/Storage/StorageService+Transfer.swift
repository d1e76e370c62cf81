import Crypto
import Foundation
import GRPCCore
import Libvirt
import VirtHostAPI

// Upload and download of volume bytes over gRPC streams, through libvirt's
// virStorageVolUpload/Download streams. Every blocking stream call runs on a
// libvirt thread (hypervisor.run), one chunk at a time; the sha256 of the
// bytes moved is computed on the way.
//
// Upload semantics: the call succeeds only when exactly `length` bytes
// arrived, their sha256 matches the header's (when given), and libvirt
// confirmed the write (virStreamFinish). Any other end (the client cut off,
// too few or too many bytes, a wrong sha256, a libvirt failure) aborts the
// libvirt stream and fails the call; a volume the upload created is deleted
// again, so it leaves nothing behind; an existing volume keeps the bytes
// that were written before the failure, and the error says so.
extension StorageService {
    /// Bytes per download message (and the documented upper bound for upload chunks).
    static let chunkSize = 1 << 20
    /// Larger chunks are refused (gRPC's default message limit is 4 MiB).
    static let maxUploadChunk = 4 << 20

    func uploadVolume(
        request: RPCAsyncSequence<Virthost_V1_UploadVolumeRequest, any Error>, context: ServerContext
    ) async throws -> Virthost_V1_UploadVolumeResponse {
        var messages = request.makeAsyncIterator()
        guard let first = try await messages.next(), case .header(let header)? = first.part else {
            throw Refusal.invalid("the first upload message must carry the header (volume, length)")
        }
        try Self.validate(header.volume)
        try Validate.size(header.length, field: "upload length")
        guard header.offset <= Validate.maxVolumeBytes - header.length else {
            throw Refusal.invalid("upload offset \(header.offset) plus length \(header.length) overflows")
        }
        if !header.sha256.isEmpty { try Validate.sha256(header.sha256, field: "upload sha256") }
        if header.create {
            guard header.offset == 0 else { throw Refusal.invalid("an upload that creates its volume starts at offset 0") }
            if !header.createFormat.isEmpty { try VolumeXML.validateFormat(header.createFormat, field: "create_format") }
        } else if !header.createFormat.isEmpty {
            throw Refusal.invalid("create_format applies only with create")
        }

        let confinement = StorageConfinement(uri: hypervisor.uri)
        let operation = try operations.start(
            kind: "volume.upload", object: "\(header.volume.pool)/\(header.volume.name)", total: header.length, cancellable: true)
        let transfer: UploadTransfer
        do {
            transfer = try await hypervisor.run { connection in try UploadTransfer.open(connection, header, confinement: confinement) }
        } catch {
            operation.finish(error)
            throw error
        }
        if transfer.created { operation.createdVolume(pool: header.volume.pool, name: header.volume.name) }

        var hasher = SHA256()
        var received: UInt64 = 0
        // One libvirt send in flight while the next message is read and
        // hashed: the order is kept, the stream is never used by two threads.
        var inFlight: Task<Void, any Error>?
        do {
            while let message = try await messages.next() {
                guard case .chunk(let data)? = message.part else {
                    throw Refusal.invalid("only the first upload message may carry a header")
                }
                if data.isEmpty { continue }
                guard data.count <= Self.maxUploadChunk else {
                    throw Refusal.invalid("an upload chunk of \(data.count) bytes is over the 4 MiB limit (send 1 MiB chunks)")
                }
                received += UInt64(data.count)
                guard received <= header.length else {
                    throw Refusal.invalid("the client sent more than the \(header.length) bytes its header announced")
                }
                hasher.update(data: data)
                if operation.isCancelled { throw Refusal(.cancelled, "the upload was cancelled (CancelOperation \(operation.id))") }
                try await inFlight?.value
                operation.progress(done: received - UInt64(data.count))
                inFlight = Task { [hypervisor] in
                    try await hypervisor.run { _ in try data.withUnsafeBytes { try transfer.stream.send($0) } }
                }
            }
            try await inFlight?.value
            inFlight = nil
            guard received == header.length else {
                throw Refusal.invalid("the upload ended after \(received) of the \(header.length) bytes its header announced")
            }
            let digest = Self.hex(hasher.finalize())
            if !header.sha256.isEmpty && digest != header.sha256.lowercased() {
                throw RPCError(code: .dataLoss, message: "the \(received) bytes received have sha256 \(digest), not \(header.sha256.lowercased())")
            }
            if operation.isCancelled { throw Refusal(.cancelled, "the upload was cancelled (CancelOperation \(operation.id))") }
            try await hypervisor.run { _ in try transfer.stream.finish() }
            operation.progress(done: received)
            operation.finish(nil)
            var response = Virthost_V1_UploadVolumeResponse()
            response.bytesWritten = received
            response.sha256 = digest
            response.volume = try await hypervisor.run { _ in
                try Virthost_V1_Volume(transfer.pool.lookupVolume(name: header.volume.name), pool: transfer.pool.name)
            }
            return response
        } catch {
            _ = try? await inFlight?.value
            let outcome = await transfer.cancel(on: hypervisor.executor)
            let failure = Self.uploadFailure(error, received: received, header: header, outcome: outcome)
            operation.finish(failure, cleanup: transfer.created ? outcome : "")
            throw failure
        }
    }

    func downloadVolume(
        request: Virthost_V1_DownloadVolumeRequest, response: RPCWriter<Virthost_V1_DownloadVolumeResponse>,
        context: ServerContext
    ) async throws {
        try Self.validate(request.volume)
        guard request.offset <= Validate.maxVolumeBytes - request.length else {
            throw Refusal.invalid("download offset \(request.offset) plus length \(request.length) overflows")
        }
        let confinement = StorageConfinement(uri: hypervisor.uri)
        let operation = try operations.start(
            kind: "volume.download", object: "\(request.volume.pool)/\(request.volume.name)", cancellable: true)
        let stream: DataStream
        do {
            stream = try await hypervisor.run { connection in
                let (pool, volume) = try connection.volume(pool: request.volume.pool, name: request.volume.name)
                try confinement.checkVolume(volume, in: pool)
                let capacity = try volume.info().capacity
                if request.offset > 0 {
                    guard request.offset < capacity else {
                        throw Refusal.invalid("offset \(request.offset) is past the end of the volume (\(capacity) bytes)")
                    }
                }
                operation.progress(done: 0, total: request.length > 0 ? min(request.length, capacity - request.offset) : capacity - request.offset)
                let stream = try DataStream(connection: connection)
                try volume.download(into: stream, offset: request.offset, length: request.length)
                return stream
            }
        } catch {
            operation.finish(error)
            throw error
        }
        var hasher = SHA256()
        var sent: UInt64 = 0
        do {
            while true {
                if operation.isCancelled { throw Refusal(.cancelled, "the download was cancelled (CancelOperation \(operation.id))") }
                let chunk = try await hypervisor.run { _ in Data(try stream.receive(upTo: Self.chunkSize)) }
                if chunk.isEmpty { break }
                hasher.update(data: chunk)
                sent += UInt64(chunk.count)
                try await response.write(.with { $0.chunk = chunk })
                operation.progress(done: sent)
            }
            try await hypervisor.run { _ in try stream.finish() }
        } catch {
            try? await hypervisor.executor.run { stream.abort() }
            operation.finish(error)
            throw error
        }
        operation.progress(done: sent)
        operation.finish(nil)
        try await response.write(.with {
            $0.trailer = .with {
                $0.bytesRead = sent
                $0.sha256 = Self.hex(hasher.finalize())
            }
        })
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The error a failed upload returns, saying what happened to the volume.
    static func uploadFailure(_ error: any Error, received: UInt64, header: Virthost_V1_UploadHeader, outcome: String) -> RPCError {
        let name = "'\(header.volume.pool)/\(header.volume.name)'"
        switch error {
        case let refused as any RPCErrorConvertible:
            // A refusal (too many or too few bytes, a bad chunk) keeps its code.
            var copy = RPCError(refused)
            copy.message = "\(copy.message); \(outcome)"
            return copy
        default:
            // The request stream failed: the client went away or reset the call.
            return RPCError(
                code: .aborted,
                message: "the upload to \(name) was cut off after \(received) of \(header.length) bytes (\(error)); \(outcome)")
        }
    }
}

/// One upload in flight: the libvirt stream and the volume it writes.
final class UploadTransfer: Sendable {
    let pool: StoragePool
    let volume: StorageVolume
    let stream: DataStream
    let created: Bool
    let header: Virthost_V1_UploadHeader

    private init(pool: StoragePool, volume: StorageVolume, stream: DataStream, created: Bool, header: Virthost_V1_UploadHeader) {
        self.pool = pool
        self.volume = volume
        self.stream = stream
        self.created = created
        self.header = header
    }

    /// Finds (or creates) the volume and starts libvirt's upload. Runs on a libvirt thread.
    static func open(
        _ connection: Connection, _ header: Virthost_V1_UploadHeader, confinement: StorageConfinement
    ) throws -> UploadTransfer {
        let pool = try connection.pool(.name(header.volume.pool))
        let volume: StorageVolume
        if header.create {
            try VolumeOperations.requireAbsent(header.volume.name, in: pool)
            try confinement.checkNewVolume(named: header.volume.name, in: pool)
            var create = Virthost_V1_CreateVolumeRequest()
            create.name = header.volume.name
            create.capacity = header.length
            create.format = header.createFormat
            let poolType = (try XMLReader(try pool.xml())).string("/pool/@type") ?? ""
            let plan = try VolumeXML.plan(create, poolType: poolType)
            try VolumeOperations.requireSpace(header.length, in: pool, what: "uploading \(header.length) bytes")
            do {
                volume = try pool.createVolume(xml: plan.xml)
            } catch let error as LibvirtError {
                VolumeOperations.removeLeftover(header.volume.name, in: pool)
                throw error
            }
        } else {
            volume = try ObjectRef.name(header.volume.name).lookup(
                "volume in pool '\(pool.name)'", byName: pool.lookupVolume(name:), byUUID: pool.lookupVolume(name:))
            try confinement.checkVolume(volume, in: pool)
            let info = try volume.info()
            let format = VolumeXML.format(try volume.xml())
            if ["", "raw", "none"].contains(format) || info.kind == .block {
                guard header.offset + header.length <= info.capacity else {
                    throw Refusal.invalid(
                        "offset \(header.offset) plus length \(header.length) is past the end of the volume (\(info.capacity) bytes)")
                }
            }
        }
        do {
            let stream = try DataStream(connection: connection)
            try volume.upload(into: stream, offset: header.offset, length: header.length)
            return UploadTransfer(pool: pool, volume: volume, stream: stream, created: header.create, header: header)
        } catch {
            if header.create { try? volume.delete() }
            throw error
        }
    }

    /// Aborts the stream and removes a volume this upload created; says what
    /// was left. Each libvirt call runs on `executor`; the waits between
    /// attempts do not hold one of its threads.
    func cancel(on executor: BlockingExecutor) async -> String {
        // In a task of its own: a call cut off by its client is cancelled,
        // and the cleanup must run (and wait between attempts) all the same.
        await Task.detached { [self] in await cleanUp(on: executor) }.value
    }

    private func cleanUp(on executor: BlockingExecutor) async -> String {
        guard created else {
            try? await executor.run { [stream] in stream.abort() }
            return "volume '\(volume.name)' was not replaced: the bytes written before the failure stay in it, "
                + "so its contents are not the upload"
        }
        let deleted = "the volume '\(volume.name)' this upload created was deleted"
        // libvirt closes its side of the stream asynchronously: the delete may
        // fail for a moment after the abort; retry for up to 2 s.
        for attempt in 0..<20 {
            let gone = (try? await executor.run { [self] () -> Bool in
                if attempt == 0 { stream.abort() }
                do {
                    try volume.delete()
                    return true
                } catch {
                    return (try? pool.lookupVolume(name: volume.name)) == nil
                }
            }) ?? false
            if gone { return deleted }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return "the volume '\(volume.name)' this upload created could not be deleted; delete it by hand"
    }
}

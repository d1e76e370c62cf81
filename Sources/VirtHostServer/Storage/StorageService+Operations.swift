import GRPCCore
import Libvirt
import VirtHostAPI

// Storage work libvirt cannot stop once started (clone, wipe, pool build and
// delete), run as operations: recorded, announced, waited for by any client.
extension StorageService {
    /// Runs `work` as an operation (``OperationLedger/run(kind:object:cancellable:params:poll:immediate:work:)``).
    func asOperation<T: Sendable>(
        kind: String, object: String,
        poll: (@Sendable (OperationHandle) async -> Void)? = nil,
        immediate: @escaping @Sendable () -> T,
        work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await operations.run(kind: kind, object: object, poll: poll, immediate: immediate) { _ in try await work() }
    }

    /// Reports a clone's progress every second: the new volume's allocation
    /// against the source's.
    func cloneProgress(_ request: Virthost_V1_CloneVolumeRequest) -> @Sendable (OperationHandle) async -> Void {
        { [hypervisor] handle in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard !Task.isCancelled else { return }
                let sizes = try? await hypervisor.run { connection -> (UInt64, UInt64) in
                    let (pool, source) = try connection.volume(pool: request.source.pool, name: request.source.name)
                    let total = try source.info().allocation
                    let done = (try? pool.lookupVolume(name: request.newName).info().allocation) ?? 0
                    return (min(done, total), total)
                }
                if let (done, total) = sizes { handle.progress(done: done, total: total) }
            }
        }
    }
}

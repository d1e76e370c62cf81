import GRPCCore
import Libvirt
import VirtHostAPI

// Storage work libvirt cannot stop once started (clone, wipe, pool build and
// delete), run as operations: recorded, announced, waited for by any client.
extension StorageService {
    /// Runs `work` as an operation detached from the call: it goes on when
    /// the caller leaves or its deadline passes, and with `virthost-async: 1`
    /// the call answers `immediate()` at once. `poll` may report progress
    /// while the work runs.
    func asOperation<T: Sendable>(
        kind: String, object: String,
        poll: (@Sendable (OperationHandle) async -> Void)? = nil,
        immediate: @escaping @Sendable () -> T,
        work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let handle = try operations.start(kind: kind, object: object, cancellable: false)
        // An unstructured task: it keeps the caller's task-locals (role,
        // confinement) but not its cancellation.
        let task = Task {
            let poller = poll.map { body in Task { await body(handle) } }
            defer { poller?.cancel() }
            do {
                let result = try await work()
                handle.finish(nil)
                return result
            } catch {
                handle.finish(error)
                throw error
            }
        }
        if CallerAccess.current.async { return immediate() }
        try await handle.waitFinished()
        return try await task.value
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

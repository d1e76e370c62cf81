import Libvirt
import Synchronization
import VirtHostAPI

/// Remembers what the agent derived from a source (an XML text, a file's
/// stat) so a list that finds the same source again skips the work, not the
/// read: the source is always read fresh and compared, so an answer is never
/// older than the call.
///
/// Keyed by an object's identity (a UUID, a volume's path). Bounded: past
/// `capacity` entries the cache starts over, so objects that are gone cost
/// memory only until then.
final class DerivedCache<Source: Equatable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[String: (source: Source, value: Value)]>([:])
    let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    /// The value remembered for `key` when it was derived from an equal
    /// `source`; nil otherwise.
    func value(_ key: String, from source: Source) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.source == source else { return nil }
            return entry.value
        }
    }

    /// What is remembered for `key`, whatever its source.
    func entry(_ key: String) -> (source: Source, value: Value)? {
        entries.withLock { $0[key] }
    }

    /// Remembers `value` as derived from `source`.
    func remember(_ key: String, from source: Source, _ value: Value) {
        entries.withLock { entries in
            if entries.count >= capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = (source, value)
        }
    }

    /// The remembered value, or `derive(source)` remembered for next time.
    func value(_ key: String, from source: Source, derive: (Source) throws -> Value) rethrows -> Value {
        if let value = value(key, from: source) { return value }
        let value = try derive(source)
        remember(key, from: source, value)
        return value
    }

    /// How many entries are held (for tests).
    var count: Int { entries.withLock { $0.count } }
}

/// The caches of the list calls, one per agent (see ``DerivedCache``).
final class ListCaches: Sendable {
    /// A network's message without its flags (bridge, forward mode,
    /// addresses, spec), by UUID, derived from its XML: parsing 101
    /// networks' XML into specs cost as much as reading them.
    let networks = DerivedCache<String, Virthost_V1_Network>()
    /// A file volume's libvirt details, by path, with the file's stat and
    /// the pool's epoch they were read at (see ``VolumeListing``).
    let volumes = DerivedCache<VolumeSource, VolumeDetails>(capacity: 100_000)
    /// Which volume details are still libvirt's view (see ``PoolEpochs``).
    let poolEpochs = PoolEpochs()

    /// Follows libvirt's events: a pool refreshed, started, stopped or
    /// redefined has had its volumes probed anew.
    func note(_ event: LibvirtEvent) {
        switch event {
        case let .poolRefresh(name, _), let .poolLifecycle(name, _, _, _): poolEpochs.advance(name)
        default: break
        }
    }
}

/// A counter per pool that moves whenever libvirt may have probed the pool's
/// volumes anew, so that volume details read before are not trusted after.
///
/// libvirt fixes a file volume's format when it refreshes the pool (at pool
/// start, `virStoragePoolRefresh`, after an upload, at libvirtd's start) by
/// probing the file's content, and keeps it until the next refresh: a raw
/// volume whose guest wrote a qcow2 header is raw (capacity the file's size)
/// until then, and qcow2 (capacity from the header) after. The refresh and
/// lifecycle events of a pool advance its epoch; a new libvirt connection
/// (libvirtd may have restarted) advances all of them, and on a connection
/// without events every read is an epoch of its own.
final class PoolEpochs: Sendable {
    private struct State {
        var all: UInt64 = 0
        var pools: [String: UInt64] = [:]
        /// Whether libvirt's pool events arrive; without them every read
        /// is a new epoch, and nothing is reused.
        var watching = true
    }

    private let state = Mutex(State())

    /// The pool's epoch now: it only grows.
    func epoch(_ pool: String) -> UInt64 {
        state.withLock { state in
            if !state.watching { state.all &+= 1 }
            return state.all &+ (state.pools[pool] ?? 0)
        }
    }

    /// Moves one pool's epoch.
    func advance(_ pool: String) {
        state.withLock { $0.pools[pool, default: 0] &+= 1 }
    }

    /// Moves every pool's epoch; `watching` says whether libvirt's pool
    /// events will be heard from now on.
    func advanceAll(watching: Bool = true) {
        state.withLock {
            $0.all &+= 1
            $0.watching = watching
        }
    }
}

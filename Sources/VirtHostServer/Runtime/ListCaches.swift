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
    /// A file volume's libvirt info, by path, valid while the file's stat
    /// is the same (see ``VolumeListing``).
    let volumes = DerivedCache<FileIdentity, VolumeDetails>(capacity: 100_000)
}

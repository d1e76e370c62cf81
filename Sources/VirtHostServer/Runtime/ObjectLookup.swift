import GRPCCore
import Libvirt
import VirtHostAPI

/// A validated reference to a libvirt object: by name, or by UUID.
enum ObjectRef: Sendable {
    case name(String)
    case uuid(String)

    /// A key for per-object limits. (A machine named by its UUID in one call
    /// and by its name in another counts as two.)
    var key: String {
        switch self {
        case .name(let name): "name:\(name)"
        case .uuid(let uuid): "uuid:\(uuid.lowercased())"
        }
    }

    /// Checks a name-or-UUID pair from a request; the name wins when both are set.
    init(name: String, uuid: String, kind: String) throws {
        if !name.isEmpty {
            try Validate.lookupName(name, field: "\(kind) name")
            self = .name(name)
        } else if !uuid.isEmpty {
            try Validate.uuid(uuid, field: "\(kind) uuid")
            self = .uuid(uuid)
        } else {
            throw Refusal.invalid("no \(kind) named: set its name or uuid")
        }
    }

    init(_ ref: Virthost_V1_DomainRef) throws { try self.init(name: ref.name, uuid: ref.uuid, kind: "domain") }
    init(_ ref: Virthost_V1_NetworkRef) throws { try self.init(name: ref.name, uuid: ref.uuid, kind: "network") }
    init(_ ref: Virthost_V1_PoolRef) throws { try self.init(name: ref.name, uuid: ref.uuid, kind: "pool") }
}

extension ObjectRef {
    /// "domain 'web-1'" or "network with uuid '...'", for error messages.
    func describe(_ kind: String) -> String {
        switch self {
        case .name(let name): return "\(kind) '\(name)'"
        case .uuid(let uuid): return "\(kind) with uuid \(uuid)"
        }
    }

    /// Looks the object up, naming it in the error when it does not exist
    /// (some drivers say only "Domain not found").
    func lookup<T>(_ kind: String, byName: (String) throws -> T, byUUID: (String) throws -> T) throws -> T {
        do {
            switch self {
            case .name(let name): return try byName(name)
            case .uuid(let uuid): return try byUUID(uuid)
            }
        } catch let error as LibvirtError where ErrorMapping.statusCode(for: error.code) == .notFound {
            throw LibvirtError(code: error.code, domain: error.domain, message: "no \(describe(kind)): \(error.message)")
        }
    }
}

extension Connection {
    func domain(_ ref: ObjectRef) throws -> Domain {
        try ref.lookup("domain", byName: lookupDomain(name:), byUUID: lookupDomain(uuid:))
    }

    func network(_ ref: ObjectRef) throws -> Libvirt.Network {
        try ref.lookup("network", byName: lookupNetwork(name:), byUUID: lookupNetwork(uuid:))
    }

    func pool(_ ref: ObjectRef) throws -> StoragePool {
        try ref.lookup("pool", byName: lookupStoragePool(name:), byUUID: lookupStoragePool(uuid:))
    }

    /// A volume in a pool, both named in the error when missing.
    func volume(pool: String, name: String) throws -> (StoragePool, StorageVolume) {
        let pool = try ObjectRef.name(pool).lookup(
            "pool", byName: lookupStoragePool(name:), byUUID: lookupStoragePool(uuid:))
        let volume = try ObjectRef.name(name).lookup(
            "volume in pool '\(pool.name)'", byName: pool.lookupVolume(name:), byUUID: pool.lookupVolume(name:))
        return (pool, volume)
    }
}

extension ListFilter {
    /// The filter a request's active_only / inactive_only pair asks for.
    init(activeOnly: Bool, inactiveOnly: Bool) throws {
        switch (activeOnly, inactiveOnly) {
        case (true, true): throw Refusal.invalid("active_only and inactive_only exclude each other")
        case (true, false): self = .active
        case (false, true): self = .inactive
        case (false, false): self = .all
        }
    }
}

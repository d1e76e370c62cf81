import CLibvirt
import Foundation

/// Statistics groups of ``Connection/allDomainStats(_:flags:)`` (`virDomainStatsTypes`).
public struct DomainStatsGroups: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `state.state`, `state.reason`.
    public static let state = DomainStatsGroups(rawValue: VIR_DOMAIN_STATS_STATE.rawValue)
    /// `cpu.time`, `cpu.user`, `cpu.system`.
    public static let cpuTotal = DomainStatsGroups(rawValue: VIR_DOMAIN_STATS_CPU_TOTAL.rawValue)
    /// `balloon.current`, `balloon.maximum`, `balloon.rss`, ...
    public static let balloon = DomainStatsGroups(rawValue: VIR_DOMAIN_STATS_BALLOON.rawValue)
    /// `vcpu.current`, `vcpu.maximum`, `vcpu.N.state`, `vcpu.N.time`.
    public static let vcpu = DomainStatsGroups(rawValue: VIR_DOMAIN_STATS_VCPU.rawValue)
    /// `net.count`, `net.N.name`, `net.N.rx.bytes`, ...
    public static let interface = DomainStatsGroups(rawValue: VIR_DOMAIN_STATS_INTERFACE.rawValue)
    /// `block.count`, `block.N.name`, `block.N.rd.bytes`, ...
    public static let block = DomainStatsGroups(rawValue: VIR_DOMAIN_STATS_BLOCK.rawValue)
}

/// Which machines ``Connection/allDomainStats(_:flags:)`` covers and how
/// (`virConnectGetAllDomainStatsFlags`).
public struct DomainStatsFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let active = DomainStatsFlags(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE.rawValue)
    public static let inactive = DomainStatsFlags(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE.rawValue)
    public static let persistent = DomainStatsFlags(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT.rawValue)
    /// Skip what needs a machine that is busy in another job (a frozen QEMU
    /// holds its job for up to 30 s): the record then lacks those fields.
    public static let noWait = DomainStatsFlags(rawValue: VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT.rawValue)
}

/// One typed parameter's value (`virTypedParameter`).
public enum TypedValue: Sendable, Equatable {
    case int(Int32), uint(UInt32), llong(Int64), ullong(UInt64), double(Double), bool(Bool), string(String)

    /// The value as an unsigned count (negative and non-numbers are nil).
    public var unsigned: UInt64? {
        switch self {
        case .int(let v): return v >= 0 ? UInt64(v) : nil
        case .uint(let v): return UInt64(v)
        case .llong(let v): return v >= 0 ? UInt64(v) : nil
        case .ullong(let v): return v
        case .double(let v): return v >= 0 && v.isFinite ? UInt64(v) : nil
        case .bool(let v): return v ? 1 : 0
        case .string: return nil
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// One machine's record from a bulk statistics read (`virDomainStatsRecord`).
///
/// The parameters are read in place from libvirt's list, which the record
/// keeps alive: a list of 1,000 machines reads 4-6 of each machine's
/// parameters, and copying every one into a dictionary of Strings first
/// cost more than the reads. ``indexed()`` gives a copy with a dictionary
/// for readers of many keys (statistics with disks and NICs).
public struct DomainStatsRecord: @unchecked Sendable {
    // Unchecked: `params` points into libvirt's list, which `owner` frees
    // only after the last record is gone, and nothing writes to it.
    /// The machine; its name and UUID need no round trip.
    public let domain: Domain
    private let params: UnsafeBufferPointer<virTypedParameter>
    private let owner: AnyObject?
    private let known: [String: TypedValue]

    /// A record holding `values` (no libvirt list behind it).
    public init(domain: Domain, values: [String: TypedValue]) {
        self.domain = domain
        params = UnsafeBufferPointer(start: nil, count: 0)
        owner = nil
        known = values
    }

    init(domain: Domain, params: UnsafeBufferPointer<virTypedParameter>, owner: AnyObject) {
        self.domain = domain
        self.params = params
        self.owner = owner
        known = [:]
    }

    private init(domain: Domain, params: UnsafeBufferPointer<virTypedParameter>, owner: AnyObject?, indexed: [String: TypedValue]) {
        self.domain = domain
        self.params = params
        self.owner = owner
        self.known = indexed
    }

    /// The machine's id (a libvirt call; the handle's id is the one from
    /// when the statistics were read); nil when it was not running.
    public var id: UInt32? { domain.id }

    /// Every parameter by libvirt's name, e.g. `state.state`, `balloon.current`.
    public var values: [String: TypedValue] {
        var values = known
        for param in params {
            if let value = typedValue(param) { values[fieldName(param)] = value }
        }
        return values
    }

    /// The same record with every parameter in a dictionary: faster for many lookups.
    public func indexed() -> DomainStatsRecord {
        DomainStatsRecord(domain: domain, params: UnsafeBufferPointer(start: nil, count: 0), owner: nil, indexed: values)
    }

    /// The same record with `extra` parameters added; a parameter it
    /// already has keeps its value.
    public func adding(_ extra: [String: TypedValue]) -> DomainStatsRecord {
        var merged = known
        for (key, value) in extra where self[key] == nil { merged[key] = value }
        return DomainStatsRecord(domain: domain, params: params, owner: owner, indexed: merged)
    }

    public subscript(_ key: String) -> TypedValue? {
        if !params.isEmpty {
            let found: TypedValue?? = key.withCString { wanted in
                for param in params {
                    let same = withUnsafeBytes(of: param.field) { raw in
                        strcmp(raw.baseAddress!.assumingMemoryBound(to: CChar.self), wanted) == 0
                    }
                    if same { return .some(typedValue(param)) }
                }
                return nil
            }
            if let found { return found }
        }
        return known[key]
    }

    /// A parameter as an unsigned number.
    public func unsigned(_ key: String) -> UInt64? { self[key]?.unsigned }
}

/// A typed parameter's name (its NUL-terminated field, at most
/// VIR_TYPED_PARAM_FIELD_LENGTH bytes).
func fieldName(_ param: virTypedParameter) -> String {
    withUnsafeBytes(of: param.field) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: 0) ?? bytes.count)]), as: UTF8.self)
    }
}

/// A list of statistics records libvirt returned, freed as a whole when the
/// last domain borrowed from it goes away: taking a reference on each
/// domain and dropping it again costs two libvirt calls per machine, and
/// each formats the UUID for libvirt's debug line.
///
/// The free itself runs on a background queue, after the caller has
/// answered: libvirt's `virDomainFree` formats each domain's UUID twice
/// for debug lines that nothing logs, 2 ms for 1,000 machines here, which
/// a list call would otherwise spend before its response is sent.
final class DomainStatsRecordList: @unchecked Sendable {
    // Unchecked: the list is only read after creation, and freed once, after deinit.
    let records: UnsafeMutablePointer<virDomainStatsRecordPtr?>
    init(_ records: UnsafeMutablePointer<virDomainStatsRecordPtr?>) { self.records = records }
    deinit {
        let records = UncheckedRecords(pointer: records)
        Self.freeing.async { virDomainStatsRecordListFree(records.pointer) }
    }

    /// One serial queue: frees never pile up threads.
    private static let freeing = DispatchQueue(label: "libvirt.stats-free", qos: .utility)

    private struct UncheckedRecords: @unchecked Sendable {
        // Unchecked: owned by the one closure that frees it.
        let pointer: UnsafeMutablePointer<virDomainStatsRecordPtr?>
    }
}

extension Connection {
    /// Statistics of every machine matching `flags`, in one round trip
    /// (`virConnectGetAllDomainStats`). Unsorted.
    public func allDomainStats(_ groups: DomainStatsGroups, flags: DomainStatsFlags = []) throws -> [DomainStatsRecord] {
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        let count = try check(
            virConnectGetAllDomainStats(handle, groups.rawValue, &records, flags.rawValue), "virConnectGetAllDomainStats")
        return Self.takeRecords(count, records)
    }

    /// Statistics of the given machines, in one round trip
    /// (`virDomainListGetStats`); machines that are gone by then are skipped.
    public func domainStats(
        _ domains: [Domain], _ groups: DomainStatsGroups, flags: DomainStatsFlags = []
    ) throws -> [DomainStatsRecord] {
        if domains.isEmpty { return [] }
        var handles: [OpaquePointer?] = domains.map { $0.handle } + [nil]
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        let count = try withExtendedLifetime(domains) {
            try handles.withUnsafeMutableBufferPointer { buffer in
                try check(
                    virDomainListGetStats(buffer.baseAddress, groups.rawValue, &records, flags.rawValue),
                    "virDomainListGetStats")
            }
        }
        return Self.takeRecords(count, records)
    }

    /// The records over libvirt's list, which is freed when the last of
    /// them (and of their domains) is gone.
    private static func takeRecords(
        _ count: Int32, _ records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
    ) -> [DomainStatsRecord] {
        guard let records else { return [] }
        let owner = DomainStatsRecordList(records)
        var result: [DomainStatsRecord] = []
        result.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let record = records[index]?.pointee, let dom = record.dom else { continue }
            let params = UnsafeBufferPointer(start: record.params, count: record.params == nil ? 0 : Int(record.nparams))
            result.append(DomainStatsRecord(domain: Domain(borrowing: dom, from: owner), params: params, owner: owner))
        }
        return result
    }
}

/// A typed parameter's value; nil for a type this binding does not know.
func typedValue(_ param: virTypedParameter) -> TypedValue? {
    switch Int32(param.type) {
    case Int32(VIR_TYPED_PARAM_INT.rawValue): return .int(param.value.i)
    case Int32(VIR_TYPED_PARAM_UINT.rawValue): return .uint(param.value.ui)
    case Int32(VIR_TYPED_PARAM_LLONG.rawValue): return .llong(param.value.l)
    case Int32(VIR_TYPED_PARAM_ULLONG.rawValue): return .ullong(param.value.ul)
    case Int32(VIR_TYPED_PARAM_DOUBLE.rawValue): return .double(param.value.d)
    case Int32(VIR_TYPED_PARAM_BOOLEAN.rawValue): return .bool(param.value.b != 0)
    case Int32(VIR_TYPED_PARAM_STRING.rawValue): return param.value.s.map { .string(String(cString: $0)) }
    default: return nil
    }
}

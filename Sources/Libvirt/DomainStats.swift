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
public struct DomainStatsRecord: Sendable {
    /// The machine; its name, UUID and id need no round trip.
    public let domain: Domain
    /// The machine's id when the statistics were read; nil when it was not running.
    public let id: UInt32?
    /// The parameters by libvirt's name, e.g. `state.state`, `balloon.current`.
    public let values: [String: TypedValue]

    public init(domain: Domain, id: UInt32?, values: [String: TypedValue]) {
        self.domain = domain
        self.id = id
        self.values = values
    }

    public subscript(_ key: String) -> TypedValue? { values[key] }
    /// A parameter as an unsigned number.
    public func unsigned(_ key: String) -> UInt64? { values[key]?.unsigned }
}

/// A list of statistics records libvirt returned, freed as a whole when the
/// last domain borrowed from it goes away: taking a reference on each
/// domain and dropping it again costs two libvirt calls per machine, and
/// each formats the UUID for libvirt's debug line.
final class DomainStatsRecordList: @unchecked Sendable {
    // Unchecked: the list is only read after creation, and freed once, in deinit.
    let records: UnsafeMutablePointer<virDomainStatsRecordPtr?>
    init(_ records: UnsafeMutablePointer<virDomainStatsRecordPtr?>) { self.records = records }
    deinit { virDomainStatsRecordListFree(records) }
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

    /// Copies every record and frees libvirt's list (the domains get their own reference).
    private static func takeRecords(
        _ count: Int32, _ records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
    ) -> [DomainStatsRecord] {
        guard let records else { return [] }
        let owner = DomainStatsRecordList(records)
        var result: [DomainStatsRecord] = []
        result.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let record = records[index]?.pointee, let dom = record.dom else { continue }
            var values: [String: TypedValue] = [:]
            values.reserveCapacity(Int(record.nparams))
            for p in 0..<Int(record.nparams) {
                guard let param = record.params?[p] else { continue }
                // The field is a NUL-terminated char array (VIR_TYPED_PARAM_FIELD_LENGTH).
                // (String(decoding:) of a prefix(while:) slice took the slow,
                // generic path: milliseconds for 1,000 records.)
                let key = withUnsafeBytes(of: param.field) { raw in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: 0) ?? bytes.count)]), as: UTF8.self)
                }
                if let value = typedValue(param) { values[key] = value }
            }
            let id = virDomainGetID(dom)
            result.append(
                DomainStatsRecord(domain: Domain(borrowing: dom, from: owner), id: id == UInt32.max ? nil : id, values: values))
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

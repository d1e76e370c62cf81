import CLibvirt
import Synchronization

/// An event libvirt reported, copied out of the callback (which runs on the
/// event-loop thread).
public enum LibvirtEvent: Sendable, Equatable {
    /// `event` is a `virDomainEventType` (defined, started, stopped...), `detail` its reason.
    case domainLifecycle(name: String, uuid: String, event: Int32, detail: Int32)
    case domainDeviceAdded(name: String, uuid: String, alias: String)
    case domainDeviceRemoved(name: String, uuid: String, alias: String)
    case domainDeviceRemovalFailed(name: String, uuid: String, alias: String)
    /// `state`: 1 connected, 2 disconnected; `reason`: 1 domain started, 2 channel event.
    case agentLifecycle(name: String, uuid: String, state: Int32, reason: Int32)
    /// `event`: defined, undefined, started, stopped (`virNetworkEventLifecycleType`).
    case networkLifecycle(name: String, uuid: String, event: Int32, detail: Int32)
    /// `event`: defined, undefined, started, stopped, created, deleted.
    case poolLifecycle(name: String, uuid: String, event: Int32, detail: Int32)
    /// libvirt refreshed a pool (`virStoragePoolRefresh`, or after a volume
    /// upload): it read its volumes again and probed their formats anew.
    case poolRefresh(name: String, uuid: String)
}

/// Live event registrations on a connection; deregistered by ``cancel()`` or deinit.
public final class EventSubscription: Sendable {
    private let connection: Connection
    private let sink: EventSink
    private let registrations = Mutex(Registrations())

    /// libvirt's callback ids, by kind; nil once cancelled.
    private struct Registrations {
        var domain: [Int32] = []
        var network: [Int32] = []
        var pool: [Int32] = []
        var cancelled = false
    }

    init(connection: Connection, handler: @escaping @Sendable (LibvirtEvent) -> Void) {
        self.connection = connection
        sink = EventSink(handler)
    }

    deinit { cancel() }

    /// Deregisters every callback. Safe to call twice.
    public func cancel() {
        let ids = registrations.withLock { ids -> Registrations? in
            guard !ids.cancelled else { return nil }
            defer { ids = Registrations(cancelled: true) }
            return ids
        }
        guard let ids else { return }
        for id in ids.domain { virConnectDomainEventDeregisterAny(connection.handle, id) }
        for id in ids.network { virConnectNetworkEventDeregisterAny(connection.handle, id) }
        for id in ids.pool { virConnectStoragePoolEventDeregisterAny(connection.handle, id) }
        virResetLastError()
    }

    /// One retain of the sink per registration; libvirt releases it through
    /// `releaseSink` once the callback is deregistered and no longer running.
    private func retainedSink() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(sink).toOpaque()
    }

    fileprivate func register() throws {
        func domain(_ id: virDomainEventID, _ callback: virConnectDomainEventGenericCallback) throws {
            let opaque = retainedSink()
            let result = virConnectDomainEventRegisterAny(connection.handle, nil, Int32(id.rawValue), callback, opaque, releaseSink)
            if result < 0 { Unmanaged<EventSink>.fromOpaque(opaque).release() }
            let registered = try check(result, "virConnectDomainEventRegisterAny(\(id.rawValue))")
            registrations.withLock { $0.domain.append(registered) }
        }
        try domain(VIR_DOMAIN_EVENT_ID_LIFECYCLE, unsafeBitCast(lifecycleCallback, to: virConnectDomainEventGenericCallback.self))
        try domain(VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, unsafeBitCast(deviceAddedCallback, to: virConnectDomainEventGenericCallback.self))
        try domain(VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, unsafeBitCast(deviceRemovedCallback, to: virConnectDomainEventGenericCallback.self))
        try domain(
            VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
            unsafeBitCast(deviceRemovalFailedCallback, to: virConnectDomainEventGenericCallback.self))
        // Not every driver emits agent events (the test driver does not); that is fine.
        do {
            try domain(VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, unsafeBitCast(agentCallback, to: virConnectDomainEventGenericCallback.self))
        } catch {}
        let networkOpaque = retainedSink()
        let network = virConnectNetworkEventRegisterAny(
            connection.handle, nil, Int32(VIR_NETWORK_EVENT_ID_LIFECYCLE.rawValue),
            unsafeBitCast(networkCallback, to: virConnectNetworkEventGenericCallback.self), networkOpaque, releaseSink)
        if network < 0 { Unmanaged<EventSink>.fromOpaque(networkOpaque).release() }
        let networkID = try check(network, "virConnectNetworkEventRegisterAny")
        registrations.withLock { $0.network.append(networkID) }
        let poolOpaque = retainedSink()
        let pool = virConnectStoragePoolEventRegisterAny(
            connection.handle, nil, Int32(VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE.rawValue),
            unsafeBitCast(poolCallback, to: virConnectStoragePoolEventGenericCallback.self), poolOpaque, releaseSink)
        if pool < 0 { Unmanaged<EventSink>.fromOpaque(poolOpaque).release() }
        let poolID = try check(pool, "virConnectStoragePoolEventRegisterAny")
        registrations.withLock { $0.pool.append(poolID) }
        let refreshOpaque = retainedSink()
        let refresh = virConnectStoragePoolEventRegisterAny(
            connection.handle, nil, Int32(VIR_STORAGE_POOL_EVENT_ID_REFRESH.rawValue),
            poolRefreshCallback, refreshOpaque, releaseSink)
        if refresh < 0 { Unmanaged<EventSink>.fromOpaque(refreshOpaque).release() }
        let refreshID = try check(refresh, "virConnectStoragePoolEventRegisterAny(refresh)")
        registrations.withLock { $0.pool.append(refreshID) }
    }
}

extension Connection {
    /// Registers for machine lifecycle, device added/removed/removal-failed,
    /// guest-agent lifecycle, network lifecycle, pool lifecycle and pool
    /// refresh events.
    ///
    /// `handler` runs on libvirt's event-loop thread: keep it short. The
    /// registrations last until the subscription is cancelled or released.
    public func subscribeEvents(_ handler: @escaping @Sendable (LibvirtEvent) -> Void) throws -> EventSubscription {
        LibvirtRuntime.start()
        let subscription = EventSubscription(connection: self, handler: handler)
        do {
            try subscription.register()
        } catch {
            subscription.cancel()
            throw error
        }
        return subscription
    }
}

final class EventSink: Sendable {
    let handler: @Sendable (LibvirtEvent) -> Void
    init(_ handler: @escaping @Sendable (LibvirtEvent) -> Void) { self.handler = handler }

    static func deliver(_ opaque: UnsafeMutableRawPointer?, _ event: LibvirtEvent) {
        guard let opaque else { return }
        Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue().handler(event)
    }
}

private let releaseSink: virFreeCallback = { opaque in
    if let opaque { Unmanaged<EventSink>.fromOpaque(opaque).release() }
}

// The C callbacks: copy what we need while libvirt's objects are valid.

private func names(_ domain: OpaquePointer?) -> (String, String) {
    guard let domain else { return ("", "") }
    let name = virDomainGetName(domain).map { String(cString: $0) } ?? ""
    let uuid = (try? uuidString("virDomainGetUUID") { virDomainGetUUID(domain, $0) }) ?? ""
    return (name, uuid)
}

private let lifecycleCallback: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = {
    _, domain, event, detail, opaque in
    let (name, uuid) = names(domain)
    EventSink.deliver(opaque, .domainLifecycle(name: name, uuid: uuid, event: event, detail: detail))
}

private let deviceAddedCallback: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, domain, alias, opaque in
    let (name, uuid) = names(domain)
    EventSink.deliver(opaque, .domainDeviceAdded(name: name, uuid: uuid, alias: alias.map { String(cString: $0) } ?? ""))
}

private let deviceRemovedCallback: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, domain, alias, opaque in
    let (name, uuid) = names(domain)
    EventSink.deliver(opaque, .domainDeviceRemoved(name: name, uuid: uuid, alias: alias.map { String(cString: $0) } ?? ""))
}

private let deviceRemovalFailedCallback: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, domain, alias, opaque in
    let (name, uuid) = names(domain)
    EventSink.deliver(
        opaque, .domainDeviceRemovalFailed(name: name, uuid: uuid, alias: alias.map { String(cString: $0) } ?? ""))
}

private let agentCallback: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = {
    _, domain, state, reason, opaque in
    let (name, uuid) = names(domain)
    EventSink.deliver(opaque, .agentLifecycle(name: name, uuid: uuid, state: state, reason: reason))
}

private let networkCallback: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = {
    _, network, event, detail, opaque in
    guard let network else { return }
    let name = virNetworkGetName(network).map { String(cString: $0) } ?? ""
    let uuid = (try? uuidString("virNetworkGetUUID") { virNetworkGetUUID(network, $0) }) ?? ""
    EventSink.deliver(opaque, .networkLifecycle(name: name, uuid: uuid, event: event, detail: detail))
}

private func names(pool: OpaquePointer) -> (String, String) {
    let name = virStoragePoolGetName(pool).map { String(cString: $0) } ?? ""
    let uuid = (try? uuidString("virStoragePoolGetUUID") { virStoragePoolGetUUID(pool, $0) }) ?? ""
    return (name, uuid)
}

private let poolCallback: @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = {
    _, pool, event, detail, opaque in
    guard let pool else { return }
    let (name, uuid) = names(pool: pool)
    EventSink.deliver(opaque, .poolLifecycle(name: name, uuid: uuid, event: event, detail: detail))
}

private let poolRefreshCallback: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = {
    _, pool, opaque in
    guard let pool else { return }
    let (name, uuid) = names(pool: pool)
    EventSink.deliver(opaque, .poolRefresh(name: name, uuid: uuid))
}

from virthost.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SetLinkRequest(_message.Message):
    __slots__ = ("name", "up", "mtu", "master", "no_master")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    MASTER_FIELD_NUMBER: _ClassVar[int]
    NO_MASTER_FIELD_NUMBER: _ClassVar[int]
    name: str
    up: bool
    mtu: int
    master: str
    no_master: bool
    def __init__(self, name: _Optional[str] = ..., up: bool = ..., mtu: _Optional[int] = ..., master: _Optional[str] = ..., no_master: bool = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("interface", "address", "family", "scope", "flags", "valid_lifetime", "preferred_lifetime", "peer", "broadcast", "label")
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    VALID_LIFETIME_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_LIFETIME_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    interface: str
    address: str
    family: int
    scope: str
    flags: _containers.RepeatedScalarFieldContainer[str]
    valid_lifetime: int
    preferred_lifetime: int
    peer: str
    broadcast: str
    label: str
    def __init__(self, interface: _Optional[str] = ..., address: _Optional[str] = ..., family: _Optional[int] = ..., scope: _Optional[str] = ..., flags: _Optional[_Iterable[str]] = ..., valid_lifetime: _Optional[int] = ..., preferred_lifetime: _Optional[int] = ..., peer: _Optional[str] = ..., broadcast: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class ListAddressesRequest(_message.Message):
    __slots__ = ("interface",)
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    interface: str
    def __init__(self, interface: _Optional[str] = ...) -> None: ...

class ListAddressesResponse(_message.Message):
    __slots__ = ("addresses",)
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    addresses: _containers.RepeatedCompositeFieldContainer[Address]
    def __init__(self, addresses: _Optional[_Iterable[_Union[Address, _Mapping]]] = ...) -> None: ...

class AddressRequest(_message.Message):
    __slots__ = ("interface", "address")
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    interface: str
    address: str
    def __init__(self, interface: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("destination", "gateway", "interface", "metric", "table", "protocol", "scope", "preferred_source", "family")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    destination: str
    gateway: str
    interface: str
    metric: int
    table: int
    protocol: str
    scope: str
    preferred_source: str
    family: int
    def __init__(self, destination: _Optional[str] = ..., gateway: _Optional[str] = ..., interface: _Optional[str] = ..., metric: _Optional[int] = ..., table: _Optional[int] = ..., protocol: _Optional[str] = ..., scope: _Optional[str] = ..., preferred_source: _Optional[str] = ..., family: _Optional[int] = ...) -> None: ...

class ListRoutesRequest(_message.Message):
    __slots__ = ("family",)
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    family: int
    def __init__(self, family: _Optional[int] = ...) -> None: ...

class ListRoutesResponse(_message.Message):
    __slots__ = ("routes",)
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    def __init__(self, routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ...) -> None: ...

class AddRouteRequest(_message.Message):
    __slots__ = ("destination", "gateway", "interface", "metric")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    destination: str
    gateway: str
    interface: str
    metric: int
    def __init__(self, destination: _Optional[str] = ..., gateway: _Optional[str] = ..., interface: _Optional[str] = ..., metric: _Optional[int] = ...) -> None: ...

class DeleteRouteRequest(_message.Message):
    __slots__ = ("destination", "gateway", "interface", "metric", "family")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    destination: str
    gateway: str
    interface: str
    metric: int
    family: int
    def __init__(self, destination: _Optional[str] = ..., gateway: _Optional[str] = ..., interface: _Optional[str] = ..., metric: _Optional[int] = ..., family: _Optional[int] = ...) -> None: ...

class DeleteRouteResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedCompositeFieldContainer[Route]
    def __init__(self, deleted: _Optional[_Iterable[_Union[Route, _Mapping]]] = ...) -> None: ...

class BridgeUplinkRequest(_message.Message):
    __slots__ = ("bridge", "uplink", "checks", "check_timeout_seconds", "confirm_within_seconds")
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    UPLINK_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_WITHIN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    uplink: str
    checks: _containers.RepeatedScalarFieldContainer[str]
    check_timeout_seconds: int
    confirm_within_seconds: int
    def __init__(self, bridge: _Optional[str] = ..., uplink: _Optional[str] = ..., checks: _Optional[_Iterable[str]] = ..., check_timeout_seconds: _Optional[int] = ..., confirm_within_seconds: _Optional[int] = ...) -> None: ...

class BridgeUplinkResponse(_message.Message):
    __slots__ = ("bridge", "addresses", "routes", "checked", "pending", "deadline_unix", "elapsed_ms")
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    bridge: Link
    addresses: _containers.RepeatedCompositeFieldContainer[Address]
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    checked: _containers.RepeatedScalarFieldContainer[str]
    pending: bool
    deadline_unix: float
    elapsed_ms: int
    def __init__(self, bridge: _Optional[_Union[Link, _Mapping]] = ..., addresses: _Optional[_Iterable[_Union[Address, _Mapping]]] = ..., routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ..., checked: _Optional[_Iterable[str]] = ..., pending: bool = ..., deadline_unix: _Optional[float] = ..., elapsed_ms: _Optional[int] = ...) -> None: ...

class ConfirmBridgeRequest(_message.Message):
    __slots__ = ("bridge",)
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    def __init__(self, bridge: _Optional[str] = ...) -> None: ...

class ListPendingBridgesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PendingBridge(_message.Message):
    __slots__ = ("bridge", "uplink", "deadline_unix")
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    UPLINK_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    uplink: str
    deadline_unix: float
    def __init__(self, bridge: _Optional[str] = ..., uplink: _Optional[str] = ..., deadline_unix: _Optional[float] = ...) -> None: ...

class ListPendingBridgesResponse(_message.Message):
    __slots__ = ("pending",)
    PENDING_FIELD_NUMBER: _ClassVar[int]
    pending: _containers.RepeatedCompositeFieldContainer[PendingBridge]
    def __init__(self, pending: _Optional[_Iterable[_Union[PendingBridge, _Mapping]]] = ...) -> None: ...

class RestoreUplinkRequest(_message.Message):
    __slots__ = ("bridge", "uplink")
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    UPLINK_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    uplink: str
    def __init__(self, bridge: _Optional[str] = ..., uplink: _Optional[str] = ...) -> None: ...

class Link(_message.Message):
    __slots__ = ("name", "index", "kind", "mac", "master", "state", "mtu", "admin_up", "tap", "ports")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    MASTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    ADMIN_UP_FIELD_NUMBER: _ClassVar[int]
    TAP_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    index: int
    kind: str
    mac: str
    master: str
    state: str
    mtu: int
    admin_up: bool
    tap: TapInfo
    ports: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., index: _Optional[int] = ..., kind: _Optional[str] = ..., mac: _Optional[str] = ..., master: _Optional[str] = ..., state: _Optional[str] = ..., mtu: _Optional[int] = ..., admin_up: bool = ..., tap: _Optional[_Union[TapInfo, _Mapping]] = ..., ports: _Optional[_Iterable[str]] = ...) -> None: ...

class TapInfo(_message.Message):
    __slots__ = ("persistent", "multi_queue", "owner_uid", "owner_gid")
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    MULTI_QUEUE_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    OWNER_GID_FIELD_NUMBER: _ClassVar[int]
    persistent: bool
    multi_queue: bool
    owner_uid: int
    owner_gid: int
    def __init__(self, persistent: bool = ..., multi_queue: bool = ..., owner_uid: _Optional[int] = ..., owner_gid: _Optional[int] = ...) -> None: ...

class ListLinksRequest(_message.Message):
    __slots__ = ("kind", "page_size", "page_token", "name_prefix")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    kind: str
    page_size: int
    page_token: str
    name_prefix: str
    def __init__(self, kind: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class ListLinksResponse(_message.Message):
    __slots__ = ("links", "next_page_token")
    LINKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    links: _containers.RepeatedCompositeFieldContainer[Link]
    next_page_token: str
    def __init__(self, links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateBridgeRequest(_message.Message):
    __slots__ = ("name", "mtu", "stp")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    STP_FIELD_NUMBER: _ClassVar[int]
    name: str
    mtu: int
    stp: bool
    def __init__(self, name: _Optional[str] = ..., mtu: _Optional[int] = ..., stp: bool = ...) -> None: ...

class DeleteLinkRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateTapRequest(_message.Message):
    __slots__ = ("name", "owner_uid", "owner_gid", "multi_queue", "bridge", "mtu")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    OWNER_GID_FIELD_NUMBER: _ClassVar[int]
    MULTI_QUEUE_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    name: str
    owner_uid: int
    owner_gid: int
    multi_queue: bool
    bridge: str
    mtu: int
    def __init__(self, name: _Optional[str] = ..., owner_uid: _Optional[int] = ..., owner_gid: _Optional[int] = ..., multi_queue: bool = ..., bridge: _Optional[str] = ..., mtu: _Optional[int] = ...) -> None: ...

class BridgePortRequest(_message.Message):
    __slots__ = ("bridge", "interface")
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    interface: str
    def __init__(self, bridge: _Optional[str] = ..., interface: _Optional[str] = ...) -> None: ...

class CreateVlanRequest(_message.Message):
    __slots__ = ("name", "parent", "vlan_id", "up")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    VLAN_ID_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    name: str
    parent: str
    vlan_id: int
    up: bool
    def __init__(self, name: _Optional[str] = ..., parent: _Optional[str] = ..., vlan_id: _Optional[int] = ..., up: bool = ...) -> None: ...

class CreateBondRequest(_message.Message):
    __slots__ = ("name", "mode", "ports", "up")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    name: str
    mode: str
    ports: _containers.RepeatedScalarFieldContainer[str]
    up: bool
    def __init__(self, name: _Optional[str] = ..., mode: _Optional[str] = ..., ports: _Optional[_Iterable[str]] = ..., up: bool = ...) -> None: ...

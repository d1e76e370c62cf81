from virthost.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("kind",)
    KIND_FIELD_NUMBER: _ClassVar[int]
    kind: str
    def __init__(self, kind: _Optional[str] = ...) -> None: ...

class ListLinksResponse(_message.Message):
    __slots__ = ("links",)
    LINKS_FIELD_NUMBER: _ClassVar[int]
    links: _containers.RepeatedCompositeFieldContainer[Link]
    def __init__(self, links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ...) -> None: ...

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

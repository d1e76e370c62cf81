from virthost.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DomainState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOMAIN_STATE_UNSPECIFIED: _ClassVar[DomainState]
    DOMAIN_STATE_RUNNING: _ClassVar[DomainState]
    DOMAIN_STATE_BLOCKED: _ClassVar[DomainState]
    DOMAIN_STATE_PAUSED: _ClassVar[DomainState]
    DOMAIN_STATE_SHUTDOWN: _ClassVar[DomainState]
    DOMAIN_STATE_SHUTOFF: _ClassVar[DomainState]
    DOMAIN_STATE_CRASHED: _ClassVar[DomainState]
    DOMAIN_STATE_PMSUSPENDED: _ClassVar[DomainState]

class Firmware(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIRMWARE_UNSPECIFIED: _ClassVar[Firmware]
    FIRMWARE_BIOS: _ClassVar[Firmware]
    FIRMWARE_UEFI: _ClassVar[Firmware]

class SerialKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERIAL_KIND_UNSPECIFIED: _ClassVar[SerialKind]
    SERIAL_KIND_PTY: _ClassVar[SerialKind]
    SERIAL_KIND_FILE: _ClassVar[SerialKind]
    SERIAL_KIND_NONE: _ClassVar[SerialKind]

class InterfaceSourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERFACE_SOURCE_TYPE_UNSPECIFIED: _ClassVar[InterfaceSourceType]
    INTERFACE_SOURCE_TYPE_NETWORK: _ClassVar[InterfaceSourceType]
    INTERFACE_SOURCE_TYPE_BRIDGE: _ClassVar[InterfaceSourceType]
    INTERFACE_SOURCE_TYPE_DIRECT: _ClassVar[InterfaceSourceType]
    INTERFACE_SOURCE_TYPE_HOSTDEV: _ClassVar[InterfaceSourceType]
    INTERFACE_SOURCE_TYPE_OTHER: _ClassVar[InterfaceSourceType]
    INTERFACE_SOURCE_TYPE_TAP: _ClassVar[InterfaceSourceType]
DOMAIN_STATE_UNSPECIFIED: DomainState
DOMAIN_STATE_RUNNING: DomainState
DOMAIN_STATE_BLOCKED: DomainState
DOMAIN_STATE_PAUSED: DomainState
DOMAIN_STATE_SHUTDOWN: DomainState
DOMAIN_STATE_SHUTOFF: DomainState
DOMAIN_STATE_CRASHED: DomainState
DOMAIN_STATE_PMSUSPENDED: DomainState
FIRMWARE_UNSPECIFIED: Firmware
FIRMWARE_BIOS: Firmware
FIRMWARE_UEFI: Firmware
SERIAL_KIND_UNSPECIFIED: SerialKind
SERIAL_KIND_PTY: SerialKind
SERIAL_KIND_FILE: SerialKind
SERIAL_KIND_NONE: SerialKind
INTERFACE_SOURCE_TYPE_UNSPECIFIED: InterfaceSourceType
INTERFACE_SOURCE_TYPE_NETWORK: InterfaceSourceType
INTERFACE_SOURCE_TYPE_BRIDGE: InterfaceSourceType
INTERFACE_SOURCE_TYPE_DIRECT: InterfaceSourceType
INTERFACE_SOURCE_TYPE_HOSTDEV: InterfaceSourceType
INTERFACE_SOURCE_TYPE_OTHER: InterfaceSourceType
INTERFACE_SOURCE_TYPE_TAP: InterfaceSourceType

class DomainRef(_message.Message):
    __slots__ = ("name", "uuid")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ...) -> None: ...

class Domain(_message.Message):
    __slots__ = ("name", "uuid", "id", "state", "max_memory_kib", "memory_kib", "vcpus", "cpu_time_ns", "persistent", "autostart", "os_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORY_KIB_FIELD_NUMBER: _ClassVar[int]
    MEMORY_KIB_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    OS_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    id: int
    state: DomainState
    max_memory_kib: int
    memory_kib: int
    vcpus: int
    cpu_time_ns: int
    persistent: bool
    autostart: bool
    os_type: str
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ..., id: _Optional[int] = ..., state: _Optional[_Union[DomainState, str]] = ..., max_memory_kib: _Optional[int] = ..., memory_kib: _Optional[int] = ..., vcpus: _Optional[int] = ..., cpu_time_ns: _Optional[int] = ..., persistent: bool = ..., autostart: bool = ..., os_type: _Optional[str] = ...) -> None: ...

class ListDomainsRequest(_message.Message):
    __slots__ = ("active_only", "inactive_only", "page_size", "page_token", "name_prefix", "states")
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    inactive_only: bool
    page_size: int
    page_token: str
    name_prefix: str
    states: _containers.RepeatedScalarFieldContainer[DomainState]
    def __init__(self, active_only: bool = ..., inactive_only: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ..., states: _Optional[_Iterable[_Union[DomainState, str]]] = ...) -> None: ...

class ListDomainsResponse(_message.Message):
    __slots__ = ("domains", "next_page_token", "event_sequence", "event_epoch")
    DOMAINS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    domains: _containers.RepeatedCompositeFieldContainer[Domain]
    next_page_token: str
    event_sequence: int
    event_epoch: int
    def __init__(self, domains: _Optional[_Iterable[_Union[Domain, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ...) -> None: ...

class GetDomainRequest(_message.Message):
    __slots__ = ("domain",)
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ...) -> None: ...

class GetDomainXMLRequest(_message.Message):
    __slots__ = ("domain", "inactive", "secure")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    SECURE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    inactive: bool
    secure: bool
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., inactive: bool = ..., secure: bool = ...) -> None: ...

class GetDomainXMLResponse(_message.Message):
    __slots__ = ("xml",)
    XML_FIELD_NUMBER: _ClassVar[int]
    xml: str
    def __init__(self, xml: _Optional[str] = ...) -> None: ...

class DefineDomainRequest(_message.Message):
    __slots__ = ("xml", "spec", "start")
    XML_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    xml: str
    spec: DomainSpec
    start: bool
    def __init__(self, xml: _Optional[str] = ..., spec: _Optional[_Union[DomainSpec, _Mapping]] = ..., start: bool = ...) -> None: ...

class DomainSpec(_message.Message):
    __slots__ = ("name", "uuid", "vcpus", "memory_bytes", "virt_type", "machine", "firmware", "disks", "kernel", "nics", "no_guest_agent", "serial", "autostart")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    VIRT_TYPE_FIELD_NUMBER: _ClassVar[int]
    MACHINE_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    NICS_FIELD_NUMBER: _ClassVar[int]
    NO_GUEST_AGENT_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    vcpus: int
    memory_bytes: int
    virt_type: str
    machine: str
    firmware: Firmware
    disks: _containers.RepeatedCompositeFieldContainer[DiskSpec]
    kernel: KernelBoot
    nics: _containers.RepeatedCompositeFieldContainer[NICSpec]
    no_guest_agent: bool
    serial: SerialSpec
    autostart: bool
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ..., vcpus: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., virt_type: _Optional[str] = ..., machine: _Optional[str] = ..., firmware: _Optional[_Union[Firmware, str]] = ..., disks: _Optional[_Iterable[_Union[DiskSpec, _Mapping]]] = ..., kernel: _Optional[_Union[KernelBoot, _Mapping]] = ..., nics: _Optional[_Iterable[_Union[NICSpec, _Mapping]]] = ..., no_guest_agent: bool = ..., serial: _Optional[_Union[SerialSpec, _Mapping]] = ..., autostart: bool = ...) -> None: ...

class DiskSpec(_message.Message):
    __slots__ = ("volume", "path", "target", "bus", "cache", "read_only", "serial", "format")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    BUS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    volume: VolumeSource
    path: str
    target: str
    bus: str
    cache: str
    read_only: bool
    serial: str
    format: str
    def __init__(self, volume: _Optional[_Union[VolumeSource, _Mapping]] = ..., path: _Optional[str] = ..., target: _Optional[str] = ..., bus: _Optional[str] = ..., cache: _Optional[str] = ..., read_only: bool = ..., serial: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class KernelBoot(_message.Message):
    __slots__ = ("kernel", "initrd", "cmdline")
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    INITRD_FIELD_NUMBER: _ClassVar[int]
    CMDLINE_FIELD_NUMBER: _ClassVar[int]
    kernel: VolumeSource
    initrd: VolumeSource
    cmdline: str
    def __init__(self, kernel: _Optional[_Union[VolumeSource, _Mapping]] = ..., initrd: _Optional[_Union[VolumeSource, _Mapping]] = ..., cmdline: _Optional[str] = ...) -> None: ...

class NICSpec(_message.Message):
    __slots__ = ("network", "bridge", "model", "mac", "portgroup")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    PORTGROUP_FIELD_NUMBER: _ClassVar[int]
    network: str
    bridge: str
    model: str
    mac: str
    portgroup: str
    def __init__(self, network: _Optional[str] = ..., bridge: _Optional[str] = ..., model: _Optional[str] = ..., mac: _Optional[str] = ..., portgroup: _Optional[str] = ...) -> None: ...

class SerialSpec(_message.Message):
    __slots__ = ("kind", "path")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    kind: SerialKind
    path: str
    def __init__(self, kind: _Optional[_Union[SerialKind, str]] = ..., path: _Optional[str] = ...) -> None: ...

class RebootDomainRequest(_message.Message):
    __slots__ = ("domain", "mode")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    mode: str
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., mode: _Optional[str] = ...) -> None: ...

class SetDomainAutostartRequest(_message.Message):
    __slots__ = ("domain", "autostart")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    autostart: bool
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., autostart: bool = ...) -> None: ...

class ShutdownDomainRequest(_message.Message):
    __slots__ = ("domain", "mode")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    mode: str
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., mode: _Optional[str] = ...) -> None: ...

class UndefineDomainRequest(_message.Message):
    __slots__ = ("domain", "snapshots_metadata", "nvram")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_METADATA_FIELD_NUMBER: _ClassVar[int]
    NVRAM_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    snapshots_metadata: bool
    nvram: bool
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., snapshots_metadata: bool = ..., nvram: bool = ...) -> None: ...

class Interface(_message.Message):
    __slots__ = ("type", "source", "mac", "model", "target_dev", "direct_mode", "raw_type", "portgroup")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_DEV_FIELD_NUMBER: _ClassVar[int]
    DIRECT_MODE_FIELD_NUMBER: _ClassVar[int]
    RAW_TYPE_FIELD_NUMBER: _ClassVar[int]
    PORTGROUP_FIELD_NUMBER: _ClassVar[int]
    type: InterfaceSourceType
    source: str
    mac: str
    model: str
    target_dev: str
    direct_mode: str
    raw_type: str
    portgroup: str
    def __init__(self, type: _Optional[_Union[InterfaceSourceType, str]] = ..., source: _Optional[str] = ..., mac: _Optional[str] = ..., model: _Optional[str] = ..., target_dev: _Optional[str] = ..., direct_mode: _Optional[str] = ..., raw_type: _Optional[str] = ..., portgroup: _Optional[str] = ...) -> None: ...

class ListInterfacesRequest(_message.Message):
    __slots__ = ("domain", "inactive")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    inactive: bool
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., inactive: bool = ...) -> None: ...

class ListInterfacesResponse(_message.Message):
    __slots__ = ("interfaces",)
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    interfaces: _containers.RepeatedCompositeFieldContainer[Interface]
    def __init__(self, interfaces: _Optional[_Iterable[_Union[Interface, _Mapping]]] = ...) -> None: ...

class AttachInterfaceRequest(_message.Message):
    __slots__ = ("domain", "type", "source", "model", "mac", "direct_mode", "scope", "portgroup")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    DIRECT_MODE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PORTGROUP_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    type: InterfaceSourceType
    source: str
    model: str
    mac: str
    direct_mode: str
    scope: _common_pb2.DeviceScope
    portgroup: str
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., type: _Optional[_Union[InterfaceSourceType, str]] = ..., source: _Optional[str] = ..., model: _Optional[str] = ..., mac: _Optional[str] = ..., direct_mode: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.DeviceScope, _Mapping]] = ..., portgroup: _Optional[str] = ...) -> None: ...

class DetachInterfaceRequest(_message.Message):
    __slots__ = ("domain", "mac", "scope")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    mac: str
    scope: _common_pb2.DeviceScope
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., mac: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.DeviceScope, _Mapping]] = ...) -> None: ...

class DetachResult(_message.Message):
    __slots__ = ("completed", "pending", "waited_ms")
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    completed: bool
    pending: bool
    waited_ms: int
    def __init__(self, completed: bool = ..., pending: bool = ..., waited_ms: _Optional[int] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("target", "bus", "device", "source_path", "source_pool", "source_volume", "format", "read_only", "cache", "serial")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    BUS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PATH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_POOL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    target: str
    bus: str
    device: str
    source_path: str
    source_pool: str
    source_volume: str
    format: str
    read_only: bool
    cache: str
    serial: str
    def __init__(self, target: _Optional[str] = ..., bus: _Optional[str] = ..., device: _Optional[str] = ..., source_path: _Optional[str] = ..., source_pool: _Optional[str] = ..., source_volume: _Optional[str] = ..., format: _Optional[str] = ..., read_only: bool = ..., cache: _Optional[str] = ..., serial: _Optional[str] = ...) -> None: ...

class ListDisksRequest(_message.Message):
    __slots__ = ("domain", "inactive")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    inactive: bool
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., inactive: bool = ...) -> None: ...

class ListDisksResponse(_message.Message):
    __slots__ = ("disks",)
    DISKS_FIELD_NUMBER: _ClassVar[int]
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    def __init__(self, disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ...) -> None: ...

class AttachDiskRequest(_message.Message):
    __slots__ = ("domain", "path", "volume", "target", "bus", "format", "read_only", "cache", "serial", "scope")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    BUS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    path: str
    volume: VolumeSource
    target: str
    bus: str
    format: str
    read_only: bool
    cache: str
    serial: str
    scope: _common_pb2.DeviceScope
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., path: _Optional[str] = ..., volume: _Optional[_Union[VolumeSource, _Mapping]] = ..., target: _Optional[str] = ..., bus: _Optional[str] = ..., format: _Optional[str] = ..., read_only: bool = ..., cache: _Optional[str] = ..., serial: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.DeviceScope, _Mapping]] = ...) -> None: ...

class VolumeSource(_message.Message):
    __slots__ = ("pool", "volume")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ...) -> None: ...

class DetachDiskRequest(_message.Message):
    __slots__ = ("domain", "target", "scope")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    domain: DomainRef
    target: str
    scope: _common_pb2.DeviceScope
    def __init__(self, domain: _Optional[_Union[DomainRef, _Mapping]] = ..., target: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.DeviceScope, _Mapping]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("domains",)
    DOMAINS_FIELD_NUMBER: _ClassVar[int]
    domains: _containers.RepeatedCompositeFieldContainer[DomainRef]
    def __init__(self, domains: _Optional[_Iterable[_Union[DomainRef, _Mapping]]] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("stats", "event_sequence", "event_epoch")
    STATS_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    stats: _containers.RepeatedCompositeFieldContainer[DomainStats]
    event_sequence: int
    event_epoch: int
    def __init__(self, stats: _Optional[_Iterable[_Union[DomainStats, _Mapping]]] = ..., event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ...) -> None: ...

class DomainStats(_message.Message):
    __slots__ = ("name", "uuid", "state", "cpu_time_ns", "cpu_user_ns", "cpu_system_ns", "vcpus_current", "vcpus_maximum", "vcpus", "balloon_current_kib", "balloon_maximum_kib", "rss_kib", "guest_available_kib", "guest_unused_kib", "disks", "interfaces")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    CPU_USER_NS_FIELD_NUMBER: _ClassVar[int]
    CPU_SYSTEM_NS_FIELD_NUMBER: _ClassVar[int]
    VCPUS_CURRENT_FIELD_NUMBER: _ClassVar[int]
    VCPUS_MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    BALLOON_CURRENT_KIB_FIELD_NUMBER: _ClassVar[int]
    BALLOON_MAXIMUM_KIB_FIELD_NUMBER: _ClassVar[int]
    RSS_KIB_FIELD_NUMBER: _ClassVar[int]
    GUEST_AVAILABLE_KIB_FIELD_NUMBER: _ClassVar[int]
    GUEST_UNUSED_KIB_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    state: DomainState
    cpu_time_ns: int
    cpu_user_ns: int
    cpu_system_ns: int
    vcpus_current: int
    vcpus_maximum: int
    vcpus: _containers.RepeatedCompositeFieldContainer[VcpuStats]
    balloon_current_kib: int
    balloon_maximum_kib: int
    rss_kib: int
    guest_available_kib: int
    guest_unused_kib: int
    disks: _containers.RepeatedCompositeFieldContainer[BlockStats]
    interfaces: _containers.RepeatedCompositeFieldContainer[InterfaceStats]
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ..., state: _Optional[_Union[DomainState, str]] = ..., cpu_time_ns: _Optional[int] = ..., cpu_user_ns: _Optional[int] = ..., cpu_system_ns: _Optional[int] = ..., vcpus_current: _Optional[int] = ..., vcpus_maximum: _Optional[int] = ..., vcpus: _Optional[_Iterable[_Union[VcpuStats, _Mapping]]] = ..., balloon_current_kib: _Optional[int] = ..., balloon_maximum_kib: _Optional[int] = ..., rss_kib: _Optional[int] = ..., guest_available_kib: _Optional[int] = ..., guest_unused_kib: _Optional[int] = ..., disks: _Optional[_Iterable[_Union[BlockStats, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[InterfaceStats, _Mapping]]] = ...) -> None: ...

class VcpuStats(_message.Message):
    __slots__ = ("index", "state", "time_ns")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    index: int
    state: int
    time_ns: int
    def __init__(self, index: _Optional[int] = ..., state: _Optional[int] = ..., time_ns: _Optional[int] = ...) -> None: ...

class BlockStats(_message.Message):
    __slots__ = ("name", "path", "read_requests", "read_bytes", "write_requests", "write_bytes", "capacity", "allocation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    READ_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    READ_BYTES_FIELD_NUMBER: _ClassVar[int]
    WRITE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    WRITE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    read_requests: int
    read_bytes: int
    write_requests: int
    write_bytes: int
    capacity: int
    allocation: int
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., read_requests: _Optional[int] = ..., read_bytes: _Optional[int] = ..., write_requests: _Optional[int] = ..., write_bytes: _Optional[int] = ..., capacity: _Optional[int] = ..., allocation: _Optional[int] = ...) -> None: ...

class InterfaceStats(_message.Message):
    __slots__ = ("name", "rx_bytes", "rx_packets", "rx_errors", "rx_drops", "tx_bytes", "tx_packets", "tx_errors", "tx_drops")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    RX_PACKETS_FIELD_NUMBER: _ClassVar[int]
    RX_ERRORS_FIELD_NUMBER: _ClassVar[int]
    RX_DROPS_FIELD_NUMBER: _ClassVar[int]
    TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TX_PACKETS_FIELD_NUMBER: _ClassVar[int]
    TX_ERRORS_FIELD_NUMBER: _ClassVar[int]
    TX_DROPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_drops: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_drops: int
    def __init__(self, name: _Optional[str] = ..., rx_bytes: _Optional[int] = ..., rx_packets: _Optional[int] = ..., rx_errors: _Optional[int] = ..., rx_drops: _Optional[int] = ..., tx_bytes: _Optional[int] = ..., tx_packets: _Optional[int] = ..., tx_errors: _Optional[int] = ..., tx_drops: _Optional[int] = ...) -> None: ...

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetVersionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetVersionResponse(_message.Message):
    __slots__ = ("agent_version", "libvirt_version", "daemon_version", "hypervisor_type", "hypervisor_version", "uri", "hostname")
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIBVIRT_VERSION_FIELD_NUMBER: _ClassVar[int]
    DAEMON_VERSION_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    agent_version: str
    libvirt_version: str
    daemon_version: str
    hypervisor_type: str
    hypervisor_version: str
    uri: str
    hostname: str
    def __init__(self, agent_version: _Optional[str] = ..., libvirt_version: _Optional[str] = ..., daemon_version: _Optional[str] = ..., hypervisor_type: _Optional[str] = ..., hypervisor_version: _Optional[str] = ..., uri: _Optional[str] = ..., hostname: _Optional[str] = ...) -> None: ...

class GetNodeInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetNodeInfoResponse(_message.Message):
    __slots__ = ("cpu_model", "memory_bytes", "cpus", "mhz", "numa_nodes", "sockets", "cores", "threads", "free_memory_bytes")
    CPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPUS_FIELD_NUMBER: _ClassVar[int]
    MHZ_FIELD_NUMBER: _ClassVar[int]
    NUMA_NODES_FIELD_NUMBER: _ClassVar[int]
    SOCKETS_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    FREE_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    cpu_model: str
    memory_bytes: int
    cpus: int
    mhz: int
    numa_nodes: int
    sockets: int
    cores: int
    threads: int
    free_memory_bytes: int
    def __init__(self, cpu_model: _Optional[str] = ..., memory_bytes: _Optional[int] = ..., cpus: _Optional[int] = ..., mhz: _Optional[int] = ..., numa_nodes: _Optional[int] = ..., sockets: _Optional[int] = ..., cores: _Optional[int] = ..., threads: _Optional[int] = ..., free_memory_bytes: _Optional[int] = ...) -> None: ...

class GetCapabilitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCapabilitiesResponse(_message.Message):
    __slots__ = ("xml", "host_arch", "host_uuid", "guests")
    XML_FIELD_NUMBER: _ClassVar[int]
    HOST_ARCH_FIELD_NUMBER: _ClassVar[int]
    HOST_UUID_FIELD_NUMBER: _ClassVar[int]
    GUESTS_FIELD_NUMBER: _ClassVar[int]
    xml: str
    host_arch: str
    host_uuid: str
    guests: _containers.RepeatedCompositeFieldContainer[GuestCapability]
    def __init__(self, xml: _Optional[str] = ..., host_arch: _Optional[str] = ..., host_uuid: _Optional[str] = ..., guests: _Optional[_Iterable[_Union[GuestCapability, _Mapping]]] = ...) -> None: ...

class GuestCapability(_message.Message):
    __slots__ = ("os_type", "arch", "domain_types", "machines")
    OS_TYPE_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TYPES_FIELD_NUMBER: _ClassVar[int]
    MACHINES_FIELD_NUMBER: _ClassVar[int]
    os_type: str
    arch: str
    domain_types: _containers.RepeatedScalarFieldContainer[str]
    machines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, os_type: _Optional[str] = ..., arch: _Optional[str] = ..., domain_types: _Optional[_Iterable[str]] = ..., machines: _Optional[_Iterable[str]] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("status", "libvirt_connected", "uri", "started_at", "reconnects", "detail", "last_event_sequence", "event_epoch", "libvirt_responsive", "libvirt_silent_ms", "calls_in_flight", "libvirt_threads", "stuck_threads", "replaced_threads", "uptime_seconds")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[GetHealthResponse.Status]
        STATUS_SERVING: _ClassVar[GetHealthResponse.Status]
        STATUS_NOT_SERVING: _ClassVar[GetHealthResponse.Status]
    STATUS_UNSPECIFIED: GetHealthResponse.Status
    STATUS_SERVING: GetHealthResponse.Status
    STATUS_NOT_SERVING: GetHealthResponse.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIBVIRT_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    LIBVIRT_RESPONSIVE_FIELD_NUMBER: _ClassVar[int]
    LIBVIRT_SILENT_MS_FIELD_NUMBER: _ClassVar[int]
    CALLS_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    LIBVIRT_THREADS_FIELD_NUMBER: _ClassVar[int]
    STUCK_THREADS_FIELD_NUMBER: _ClassVar[int]
    REPLACED_THREADS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    status: GetHealthResponse.Status
    libvirt_connected: bool
    uri: str
    started_at: _timestamp_pb2.Timestamp
    reconnects: int
    detail: str
    last_event_sequence: int
    event_epoch: int
    libvirt_responsive: bool
    libvirt_silent_ms: int
    calls_in_flight: int
    libvirt_threads: int
    stuck_threads: int
    replaced_threads: int
    uptime_seconds: int
    def __init__(self, status: _Optional[_Union[GetHealthResponse.Status, str]] = ..., libvirt_connected: bool = ..., uri: _Optional[str] = ..., started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reconnects: _Optional[int] = ..., detail: _Optional[str] = ..., last_event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ..., libvirt_responsive: bool = ..., libvirt_silent_ms: _Optional[int] = ..., calls_in_flight: _Optional[int] = ..., libvirt_threads: _Optional[int] = ..., stuck_threads: _Optional[int] = ..., replaced_threads: _Optional[int] = ..., uptime_seconds: _Optional[int] = ...) -> None: ...

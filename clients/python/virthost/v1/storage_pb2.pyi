from virthost.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PoolState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POOL_STATE_UNSPECIFIED: _ClassVar[PoolState]
    POOL_STATE_INACTIVE: _ClassVar[PoolState]
    POOL_STATE_BUILDING: _ClassVar[PoolState]
    POOL_STATE_RUNNING: _ClassVar[PoolState]
    POOL_STATE_DEGRADED: _ClassVar[PoolState]
    POOL_STATE_INACCESSIBLE: _ClassVar[PoolState]

class Allocation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALLOCATION_THIN: _ClassVar[Allocation]
    ALLOCATION_FULL: _ClassVar[Allocation]
    ALLOCATION_METADATA: _ClassVar[Allocation]
    ALLOCATION_FALLOC: _ClassVar[Allocation]
POOL_STATE_UNSPECIFIED: PoolState
POOL_STATE_INACTIVE: PoolState
POOL_STATE_BUILDING: PoolState
POOL_STATE_RUNNING: PoolState
POOL_STATE_DEGRADED: PoolState
POOL_STATE_INACCESSIBLE: PoolState
ALLOCATION_THIN: Allocation
ALLOCATION_FULL: Allocation
ALLOCATION_METADATA: Allocation
ALLOCATION_FALLOC: Allocation

class PoolRef(_message.Message):
    __slots__ = ("name", "uuid")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ...) -> None: ...

class VolumeRef(_message.Message):
    __slots__ = ("pool", "name")
    POOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    pool: str
    name: str
    def __init__(self, pool: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("name", "uuid", "type", "state", "persistent", "autostart", "capacity", "allocation", "available", "target_path", "volume_count", "spec")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    TARGET_PATH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_COUNT_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    type: str
    state: PoolState
    persistent: bool
    autostart: bool
    capacity: int
    allocation: int
    available: int
    target_path: str
    volume_count: int
    spec: PoolSpec
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ..., type: _Optional[str] = ..., state: _Optional[_Union[PoolState, str]] = ..., persistent: bool = ..., autostart: bool = ..., capacity: _Optional[int] = ..., allocation: _Optional[int] = ..., available: _Optional[int] = ..., target_path: _Optional[str] = ..., volume_count: _Optional[int] = ..., spec: _Optional[_Union[PoolSpec, _Mapping]] = ...) -> None: ...

class ListPoolsRequest(_message.Message):
    __slots__ = ("active_only", "inactive_only", "page_size", "page_token", "name_prefix")
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    inactive_only: bool
    page_size: int
    page_token: str
    name_prefix: str
    def __init__(self, active_only: bool = ..., inactive_only: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class ListPoolsResponse(_message.Message):
    __slots__ = ("pools", "next_page_token", "event_sequence", "event_epoch")
    POOLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    next_page_token: str
    event_sequence: int
    event_epoch: int
    def __init__(self, pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ...) -> None: ...

class GetPoolXMLRequest(_message.Message):
    __slots__ = ("pool", "inactive")
    POOL_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    pool: PoolRef
    inactive: bool
    def __init__(self, pool: _Optional[_Union[PoolRef, _Mapping]] = ..., inactive: bool = ...) -> None: ...

class GetPoolXMLResponse(_message.Message):
    __slots__ = ("xml",)
    XML_FIELD_NUMBER: _ClassVar[int]
    xml: str
    def __init__(self, xml: _Optional[str] = ...) -> None: ...

class DefinePoolRequest(_message.Message):
    __slots__ = ("spec", "xml", "build", "overwrite", "start", "autostart")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    XML_FIELD_NUMBER: _ClassVar[int]
    BUILD_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    spec: PoolSpec
    xml: str
    build: bool
    overwrite: bool
    start: bool
    autostart: bool
    def __init__(self, spec: _Optional[_Union[PoolSpec, _Mapping]] = ..., xml: _Optional[str] = ..., build: bool = ..., overwrite: bool = ..., start: bool = ..., autostart: bool = ...) -> None: ...

class PoolSpec(_message.Message):
    __slots__ = ("name", "target_path", "owner_uid", "owner_gid", "mode", "uuid", "dir", "fs", "netfs", "disk", "logical", "iscsi", "scsi", "gluster", "rbd")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TARGET_PATH_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    OWNER_GID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    DIR_FIELD_NUMBER: _ClassVar[int]
    FS_FIELD_NUMBER: _ClassVar[int]
    NETFS_FIELD_NUMBER: _ClassVar[int]
    DISK_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_FIELD_NUMBER: _ClassVar[int]
    ISCSI_FIELD_NUMBER: _ClassVar[int]
    SCSI_FIELD_NUMBER: _ClassVar[int]
    GLUSTER_FIELD_NUMBER: _ClassVar[int]
    RBD_FIELD_NUMBER: _ClassVar[int]
    name: str
    target_path: str
    owner_uid: int
    owner_gid: int
    mode: int
    uuid: str
    dir: DirPool
    fs: FsPool
    netfs: NetfsPool
    disk: DiskPool
    logical: LogicalPool
    iscsi: IscsiPool
    scsi: ScsiPool
    gluster: GlusterPool
    rbd: RbdPool
    def __init__(self, name: _Optional[str] = ..., target_path: _Optional[str] = ..., owner_uid: _Optional[int] = ..., owner_gid: _Optional[int] = ..., mode: _Optional[int] = ..., uuid: _Optional[str] = ..., dir: _Optional[_Union[DirPool, _Mapping]] = ..., fs: _Optional[_Union[FsPool, _Mapping]] = ..., netfs: _Optional[_Union[NetfsPool, _Mapping]] = ..., disk: _Optional[_Union[DiskPool, _Mapping]] = ..., logical: _Optional[_Union[LogicalPool, _Mapping]] = ..., iscsi: _Optional[_Union[IscsiPool, _Mapping]] = ..., scsi: _Optional[_Union[ScsiPool, _Mapping]] = ..., gluster: _Optional[_Union[GlusterPool, _Mapping]] = ..., rbd: _Optional[_Union[RbdPool, _Mapping]] = ...) -> None: ...

class DirPool(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FsPool(_message.Message):
    __slots__ = ("device", "format")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    device: str
    format: str
    def __init__(self, device: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class NetfsPool(_message.Message):
    __slots__ = ("host", "export_path", "format")
    HOST_FIELD_NUMBER: _ClassVar[int]
    EXPORT_PATH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    host: str
    export_path: str
    format: str
    def __init__(self, host: _Optional[str] = ..., export_path: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class DiskPool(_message.Message):
    __slots__ = ("device", "format")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    device: str
    format: str
    def __init__(self, device: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class LogicalPool(_message.Message):
    __slots__ = ("volume_group", "devices")
    VOLUME_GROUP_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    volume_group: str
    devices: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, volume_group: _Optional[str] = ..., devices: _Optional[_Iterable[str]] = ...) -> None: ...

class IscsiPool(_message.Message):
    __slots__ = ("host", "port", "target_iqn", "initiator_iqn")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    TARGET_IQN_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_IQN_FIELD_NUMBER: _ClassVar[int]
    host: str
    port: int
    target_iqn: str
    initiator_iqn: str
    def __init__(self, host: _Optional[str] = ..., port: _Optional[int] = ..., target_iqn: _Optional[str] = ..., initiator_iqn: _Optional[str] = ...) -> None: ...

class ScsiPool(_message.Message):
    __slots__ = ("adapter", "wwnn", "wwpn", "parent")
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    WWNN_FIELD_NUMBER: _ClassVar[int]
    WWPN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    adapter: str
    wwnn: str
    wwpn: str
    parent: str
    def __init__(self, adapter: _Optional[str] = ..., wwnn: _Optional[str] = ..., wwpn: _Optional[str] = ..., parent: _Optional[str] = ...) -> None: ...

class GlusterPool(_message.Message):
    __slots__ = ("host", "volume", "folder")
    HOST_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    FOLDER_FIELD_NUMBER: _ClassVar[int]
    host: str
    volume: str
    folder: str
    def __init__(self, host: _Optional[str] = ..., volume: _Optional[str] = ..., folder: _Optional[str] = ...) -> None: ...

class RbdPool(_message.Message):
    __slots__ = ("monitors", "pool", "auth_user", "secret_uuid")
    MONITORS_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    AUTH_USER_FIELD_NUMBER: _ClassVar[int]
    SECRET_UUID_FIELD_NUMBER: _ClassVar[int]
    monitors: _containers.RepeatedScalarFieldContainer[str]
    pool: str
    auth_user: str
    secret_uuid: str
    def __init__(self, monitors: _Optional[_Iterable[str]] = ..., pool: _Optional[str] = ..., auth_user: _Optional[str] = ..., secret_uuid: _Optional[str] = ...) -> None: ...

class BuildPoolRequest(_message.Message):
    __slots__ = ("pool", "overwrite")
    POOL_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    pool: PoolRef
    overwrite: bool
    def __init__(self, pool: _Optional[_Union[PoolRef, _Mapping]] = ..., overwrite: bool = ...) -> None: ...

class SetPoolAutostartRequest(_message.Message):
    __slots__ = ("pool", "autostart")
    POOL_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    pool: PoolRef
    autostart: bool
    def __init__(self, pool: _Optional[_Union[PoolRef, _Mapping]] = ..., autostart: bool = ...) -> None: ...

class GetPoolCapabilitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PoolTypeCapability(_message.Message):
    __slots__ = ("type", "supported", "source_formats", "volume_formats")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FORMATS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FORMATS_FIELD_NUMBER: _ClassVar[int]
    type: str
    supported: bool
    source_formats: _containers.RepeatedScalarFieldContainer[str]
    volume_formats: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, type: _Optional[str] = ..., supported: bool = ..., source_formats: _Optional[_Iterable[str]] = ..., volume_formats: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPoolCapabilitiesResponse(_message.Message):
    __slots__ = ("types", "xml")
    TYPES_FIELD_NUMBER: _ClassVar[int]
    XML_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedCompositeFieldContainer[PoolTypeCapability]
    xml: str
    def __init__(self, types: _Optional[_Iterable[_Union[PoolTypeCapability, _Mapping]]] = ..., xml: _Optional[str] = ...) -> None: ...

class Volume(_message.Message):
    __slots__ = ("name", "pool", "key", "path", "type", "capacity", "allocation", "format")
    NAME_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    name: str
    pool: str
    key: str
    path: str
    type: str
    capacity: int
    allocation: int
    format: str
    def __init__(self, name: _Optional[str] = ..., pool: _Optional[str] = ..., key: _Optional[str] = ..., path: _Optional[str] = ..., type: _Optional[str] = ..., capacity: _Optional[int] = ..., allocation: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("pool", "page_size", "page_token", "name_prefix", "with_format")
    POOL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    WITH_FORMAT_FIELD_NUMBER: _ClassVar[int]
    pool: str
    page_size: int
    page_token: str
    name_prefix: str
    with_format: bool
    def __init__(self, pool: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ..., with_format: bool = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes", "next_page_token", "event_sequence", "event_epoch")
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    next_page_token: str
    event_sequence: int
    event_epoch: int
    def __init__(self, volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ...) -> None: ...

class GetVolumeXMLResponse(_message.Message):
    __slots__ = ("xml",)
    XML_FIELD_NUMBER: _ClassVar[int]
    xml: str
    def __init__(self, xml: _Optional[str] = ...) -> None: ...

class CreateVolumeRequest(_message.Message):
    __slots__ = ("pool", "name", "capacity", "format", "allocation")
    POOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    pool: str
    name: str
    capacity: int
    format: str
    allocation: Allocation
    def __init__(self, pool: _Optional[str] = ..., name: _Optional[str] = ..., capacity: _Optional[int] = ..., format: _Optional[str] = ..., allocation: _Optional[_Union[Allocation, str]] = ...) -> None: ...

class ResizeVolumeRequest(_message.Message):
    __slots__ = ("volume", "capacity", "allow_shrink", "allocate")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SHRINK_FIELD_NUMBER: _ClassVar[int]
    ALLOCATE_FIELD_NUMBER: _ClassVar[int]
    volume: VolumeRef
    capacity: int
    allow_shrink: bool
    allocate: bool
    def __init__(self, volume: _Optional[_Union[VolumeRef, _Mapping]] = ..., capacity: _Optional[int] = ..., allow_shrink: bool = ..., allocate: bool = ...) -> None: ...

class CloneVolumeRequest(_message.Message):
    __slots__ = ("source", "new_name")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NEW_NAME_FIELD_NUMBER: _ClassVar[int]
    source: VolumeRef
    new_name: str
    def __init__(self, source: _Optional[_Union[VolumeRef, _Mapping]] = ..., new_name: _Optional[str] = ...) -> None: ...

class UploadVolumeRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("volume", "offset", "length", "sha256", "create", "create_format")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    volume: VolumeRef
    offset: int
    length: int
    sha256: str
    create: bool
    create_format: str
    def __init__(self, volume: _Optional[_Union[VolumeRef, _Mapping]] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., sha256: _Optional[str] = ..., create: bool = ..., create_format: _Optional[str] = ...) -> None: ...

class UploadVolumeResponse(_message.Message):
    __slots__ = ("bytes_written", "sha256", "volume")
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    bytes_written: int
    sha256: str
    volume: Volume
    def __init__(self, bytes_written: _Optional[int] = ..., sha256: _Optional[str] = ..., volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class DownloadVolumeRequest(_message.Message):
    __slots__ = ("volume", "offset", "length")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    volume: VolumeRef
    offset: int
    length: int
    def __init__(self, volume: _Optional[_Union[VolumeRef, _Mapping]] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class DownloadVolumeResponse(_message.Message):
    __slots__ = ("chunk", "trailer")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    TRAILER_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    trailer: DownloadTrailer
    def __init__(self, chunk: _Optional[bytes] = ..., trailer: _Optional[_Union[DownloadTrailer, _Mapping]] = ...) -> None: ...

class DownloadTrailer(_message.Message):
    __slots__ = ("bytes_read", "sha256")
    BYTES_READ_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    bytes_read: int
    sha256: str
    def __init__(self, bytes_read: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from virthost.v1 import common_pb2 as _common_pb2
from virthost.v1 import domain_pb2 as _domain_pb2
from virthost.v1 import storage_pb2 as _storage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BackupState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKUP_STATE_UNSPECIFIED: _ClassVar[BackupState]
    BACKUP_STATE_RUNNING: _ClassVar[BackupState]
    BACKUP_STATE_COMPLETE: _ClassVar[BackupState]
    BACKUP_STATE_FAILED: _ClassVar[BackupState]
BACKUP_STATE_UNSPECIFIED: BackupState
BACKUP_STATE_RUNNING: BackupState
BACKUP_STATE_COMPLETE: BackupState
BACKUP_STATE_FAILED: BackupState

class MoveDiskRequest(_message.Message):
    __slots__ = ("domain", "target", "pool", "volume", "format", "delete_source", "bandwidth_mib")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DELETE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    BANDWIDTH_MIB_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    target: str
    pool: str
    volume: str
    format: str
    delete_source: bool
    bandwidth_mib: int
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., target: _Optional[str] = ..., pool: _Optional[str] = ..., volume: _Optional[str] = ..., format: _Optional[str] = ..., delete_source: bool = ..., bandwidth_mib: _Optional[int] = ...) -> None: ...

class StartBackupRequest(_message.Message):
    __slots__ = ("domain", "pool", "disks", "incremental", "since", "quiesce")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    QUIESCE_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    pool: str
    disks: _containers.RepeatedScalarFieldContainer[str]
    incremental: bool
    since: str
    quiesce: bool
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., pool: _Optional[str] = ..., disks: _Optional[_Iterable[str]] = ..., incremental: bool = ..., since: _Optional[str] = ..., quiesce: bool = ...) -> None: ...

class Backup(_message.Message):
    __slots__ = ("id", "domain", "parent", "incremental", "state", "pool", "disks", "created_at", "completed_at", "size", "message", "quiesced", "operation_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    QUIESCED_FIELD_NUMBER: _ClassVar[int]
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    domain: str
    parent: str
    incremental: bool
    state: BackupState
    pool: str
    disks: _containers.RepeatedCompositeFieldContainer[BackupDisk]
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    size: int
    message: str
    quiesced: bool
    operation_id: str
    def __init__(self, id: _Optional[str] = ..., domain: _Optional[str] = ..., parent: _Optional[str] = ..., incremental: bool = ..., state: _Optional[_Union[BackupState, str]] = ..., pool: _Optional[str] = ..., disks: _Optional[_Iterable[_Union[BackupDisk, _Mapping]]] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., size: _Optional[int] = ..., message: _Optional[str] = ..., quiesced: bool = ..., operation_id: _Optional[str] = ...) -> None: ...

class BackupDisk(_message.Message):
    __slots__ = ("target", "volume", "capacity", "allocation")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    target: str
    volume: str
    capacity: int
    allocation: int
    def __init__(self, target: _Optional[str] = ..., volume: _Optional[str] = ..., capacity: _Optional[int] = ..., allocation: _Optional[int] = ...) -> None: ...

class ListBackupsRequest(_message.Message):
    __slots__ = ("domain",)
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("name", "parent", "created_at", "disks")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    name: str
    parent: str
    created_at: _timestamp_pb2.Timestamp
    disks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., parent: _Optional[str] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., disks: _Optional[_Iterable[str]] = ...) -> None: ...

class ListBackupsResponse(_message.Message):
    __slots__ = ("backups", "checkpoints")
    BACKUPS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    backups: _containers.RepeatedCompositeFieldContainer[Backup]
    checkpoints: _containers.RepeatedCompositeFieldContainer[Checkpoint]
    def __init__(self, backups: _Optional[_Iterable[_Union[Backup, _Mapping]]] = ..., checkpoints: _Optional[_Iterable[_Union[Checkpoint, _Mapping]]] = ...) -> None: ...

class DeleteBackupRequest(_message.Message):
    __slots__ = ("domain", "id")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    id: str
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class RestoreBackupRequest(_message.Message):
    __slots__ = ("domain", "disk", "pool", "volume", "backup", "format")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DISK_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    BACKUP_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    disk: str
    pool: str
    volume: str
    backup: str
    format: str
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., disk: _Optional[str] = ..., pool: _Optional[str] = ..., volume: _Optional[str] = ..., backup: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

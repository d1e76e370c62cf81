from google.protobuf import timestamp_pb2 as _timestamp_pb2
from virthost.v1 import common_pb2 as _common_pb2
from virthost.v1 import domain_pb2 as _domain_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SnapshotRef(_message.Message):
    __slots__ = ("domain", "name")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    name: str
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("name", "domain", "description", "state", "created_at", "parent", "current", "disk_only", "disks")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    DISK_ONLY_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    name: str
    domain: str
    description: str
    state: str
    created_at: _timestamp_pb2.Timestamp
    parent: str
    current: bool
    disk_only: bool
    disks: _containers.RepeatedCompositeFieldContainer[SnapshotDisk]
    def __init__(self, name: _Optional[str] = ..., domain: _Optional[str] = ..., description: _Optional[str] = ..., state: _Optional[str] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., parent: _Optional[str] = ..., current: bool = ..., disk_only: bool = ..., disks: _Optional[_Iterable[_Union[SnapshotDisk, _Mapping]]] = ...) -> None: ...

class SnapshotDisk(_message.Message):
    __slots__ = ("name", "snapshot", "file")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    name: str
    snapshot: str
    file: str
    def __init__(self, name: _Optional[str] = ..., snapshot: _Optional[str] = ..., file: _Optional[str] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("domain", "name", "description", "disk_only", "quiesce", "no_metadata")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DISK_ONLY_FIELD_NUMBER: _ClassVar[int]
    QUIESCE_FIELD_NUMBER: _ClassVar[int]
    NO_METADATA_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    name: str
    description: str
    disk_only: bool
    quiesce: bool
    no_metadata: bool
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., disk_only: bool = ..., quiesce: bool = ..., no_metadata: bool = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("domain", "page_size", "page_token", "name_prefix")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    page_size: int
    page_token: str
    name_prefix: str
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots", "next_page_token", "event_sequence", "event_epoch")
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[Snapshot]
    next_page_token: str
    event_sequence: int
    event_epoch: int
    def __init__(self, snapshots: _Optional[_Iterable[_Union[Snapshot, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ...) -> None: ...

class GetSnapshotXMLResponse(_message.Message):
    __slots__ = ("xml",)
    XML_FIELD_NUMBER: _ClassVar[int]
    xml: str
    def __init__(self, xml: _Optional[str] = ...) -> None: ...

class DeleteSnapshotRequest(_message.Message):
    __slots__ = ("snapshot", "metadata_only", "children")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    METADATA_ONLY_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    snapshot: SnapshotRef
    metadata_only: bool
    children: bool
    def __init__(self, snapshot: _Optional[_Union[SnapshotRef, _Mapping]] = ..., metadata_only: bool = ..., children: bool = ...) -> None: ...

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from virthost.v1 import operation_pb2 as _operation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_DOMAIN: _ClassVar[EventKind]
    EVENT_KIND_NETWORK: _ClassVar[EventKind]
    EVENT_KIND_POOL: _ClassVar[EventKind]
    EVENT_KIND_AGENT: _ClassVar[EventKind]
    EVENT_KIND_SYSTEM: _ClassVar[EventKind]
    EVENT_KIND_OPERATION: _ClassVar[EventKind]
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_DOMAIN: EventKind
EVENT_KIND_NETWORK: EventKind
EVENT_KIND_POOL: EventKind
EVENT_KIND_AGENT: EventKind
EVENT_KIND_SYSTEM: EventKind
EVENT_KIND_OPERATION: EventKind

class WatchRequest(_message.Message):
    __slots__ = ("kinds", "name", "since_sequence", "since_epoch")
    KINDS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SINCE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[EventKind]
    name: str
    since_sequence: int
    since_epoch: int
    def __init__(self, kinds: _Optional[_Iterable[_Union[EventKind, str]]] = ..., name: _Optional[str] = ..., since_sequence: _Optional[int] = ..., since_epoch: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("sequence", "time", "kind", "name", "uuid", "type", "detail", "device", "gap_from", "epoch", "operation")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    GAP_FROM_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    kind: EventKind
    name: str
    uuid: str
    type: str
    detail: str
    device: str
    gap_from: int
    epoch: int
    operation: _operation_pb2.Operation
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[EventKind, str]] = ..., name: _Optional[str] = ..., uuid: _Optional[str] = ..., type: _Optional[str] = ..., detail: _Optional[str] = ..., device: _Optional[str] = ..., gap_from: _Optional[int] = ..., epoch: _Optional[int] = ..., operation: _Optional[_Union[_operation_pb2.Operation, _Mapping]] = ...) -> None: ...

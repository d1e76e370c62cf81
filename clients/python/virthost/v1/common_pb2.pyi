from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceScope(_message.Message):
    __slots__ = ("live", "config")
    LIVE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    live: bool
    config: bool
    def __init__(self, live: bool = ..., config: bool = ...) -> None: ...

class LibvirtErrorDetail(_message.Message):
    __slots__ = ("code", "domain", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    domain: int
    message: str
    def __init__(self, code: _Optional[int] = ..., domain: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

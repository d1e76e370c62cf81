from google.protobuf import timestamp_pb2 as _timestamp_pb2
from virthost.v1 import domain_pb2 as _domain_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentTimeoutMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_TIMEOUT_MODE_DEADLINE: _ClassVar[AgentTimeoutMode]
    AGENT_TIMEOUT_MODE_BLOCK: _ClassVar[AgentTimeoutMode]
    AGENT_TIMEOUT_MODE_DEFAULT: _ClassVar[AgentTimeoutMode]
    AGENT_TIMEOUT_MODE_NOWAIT: _ClassVar[AgentTimeoutMode]
AGENT_TIMEOUT_MODE_DEADLINE: AgentTimeoutMode
AGENT_TIMEOUT_MODE_BLOCK: AgentTimeoutMode
AGENT_TIMEOUT_MODE_DEFAULT: AgentTimeoutMode
AGENT_TIMEOUT_MODE_NOWAIT: AgentTimeoutMode

class AgentCommandRequest(_message.Message):
    __slots__ = ("domain", "command", "timeout_seconds", "timeout_mode")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MODE_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    command: str
    timeout_seconds: int
    timeout_mode: AgentTimeoutMode
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., command: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., timeout_mode: _Optional[_Union[AgentTimeoutMode, str]] = ...) -> None: ...

class AgentCommandResponse(_message.Message):
    __slots__ = ("reply", "timeout_seconds", "timeout_mode")
    REPLY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MODE_FIELD_NUMBER: _ClassVar[int]
    reply: str
    timeout_seconds: int
    timeout_mode: AgentTimeoutMode
    def __init__(self, reply: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., timeout_mode: _Optional[_Union[AgentTimeoutMode, str]] = ...) -> None: ...

class AgentErrorDetail(_message.Message):
    __slots__ = ("command", "error_class", "desc")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    DESC_FIELD_NUMBER: _ClassVar[int]
    command: str
    error_class: str
    desc: str
    def __init__(self, command: _Optional[str] = ..., error_class: _Optional[str] = ..., desc: _Optional[str] = ...) -> None: ...

class AgentRequest(_message.Message):
    __slots__ = ("domain", "timeout_seconds")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    timeout_seconds: int
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., timeout_seconds: _Optional[int] = ...) -> None: ...

class AgentPingResponse(_message.Message):
    __slots__ = ("latency_us",)
    LATENCY_US_FIELD_NUMBER: _ClassVar[int]
    latency_us: int
    def __init__(self, latency_us: _Optional[int] = ...) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ("version", "commands")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    version: str
    commands: _containers.RepeatedCompositeFieldContainer[AgentCommandInfo]
    def __init__(self, version: _Optional[str] = ..., commands: _Optional[_Iterable[_Union[AgentCommandInfo, _Mapping]]] = ...) -> None: ...

class AgentCommandInfo(_message.Message):
    __slots__ = ("name", "enabled", "success_response")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    name: str
    enabled: bool
    success_response: bool
    def __init__(self, name: _Optional[str] = ..., enabled: bool = ..., success_response: bool = ...) -> None: ...

class GuestOSInfo(_message.Message):
    __slots__ = ("id", "name", "pretty_name", "version", "version_id", "kernel_release", "kernel_version", "machine")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRETTY_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    KERNEL_RELEASE_FIELD_NUMBER: _ClassVar[int]
    KERNEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MACHINE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    pretty_name: str
    version: str
    version_id: str
    kernel_release: str
    kernel_version: str
    machine: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., pretty_name: _Optional[str] = ..., version: _Optional[str] = ..., version_id: _Optional[str] = ..., kernel_release: _Optional[str] = ..., kernel_version: _Optional[str] = ..., machine: _Optional[str] = ...) -> None: ...

class GuestHostName(_message.Message):
    __slots__ = ("host_name",)
    HOST_NAME_FIELD_NUMBER: _ClassVar[int]
    host_name: str
    def __init__(self, host_name: _Optional[str] = ...) -> None: ...

class GuestInterfaces(_message.Message):
    __slots__ = ("interfaces",)
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    interfaces: _containers.RepeatedCompositeFieldContainer[GuestInterface]
    def __init__(self, interfaces: _Optional[_Iterable[_Union[GuestInterface, _Mapping]]] = ...) -> None: ...

class GuestInterface(_message.Message):
    __slots__ = ("name", "mac", "addresses")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    name: str
    mac: str
    addresses: _containers.RepeatedCompositeFieldContainer[GuestIPAddress]
    def __init__(self, name: _Optional[str] = ..., mac: _Optional[str] = ..., addresses: _Optional[_Iterable[_Union[GuestIPAddress, _Mapping]]] = ...) -> None: ...

class GuestIPAddress(_message.Message):
    __slots__ = ("type", "address", "prefix")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    type: str
    address: str
    prefix: int
    def __init__(self, type: _Optional[str] = ..., address: _Optional[str] = ..., prefix: _Optional[int] = ...) -> None: ...

class GuestFilesystems(_message.Message):
    __slots__ = ("filesystems",)
    FILESYSTEMS_FIELD_NUMBER: _ClassVar[int]
    filesystems: _containers.RepeatedCompositeFieldContainer[GuestFilesystem]
    def __init__(self, filesystems: _Optional[_Iterable[_Union[GuestFilesystem, _Mapping]]] = ...) -> None: ...

class GuestFilesystem(_message.Message):
    __slots__ = ("name", "mountpoint", "type", "used_bytes", "total_bytes", "disks")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MOUNTPOINT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    name: str
    mountpoint: str
    type: str
    used_bytes: int
    total_bytes: int
    disks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., mountpoint: _Optional[str] = ..., type: _Optional[str] = ..., used_bytes: _Optional[int] = ..., total_bytes: _Optional[int] = ..., disks: _Optional[_Iterable[str]] = ...) -> None: ...

class GuestUsers(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[GuestUser]
    def __init__(self, users: _Optional[_Iterable[_Union[GuestUser, _Mapping]]] = ...) -> None: ...

class GuestUser(_message.Message):
    __slots__ = ("user", "domain", "login_time")
    USER_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    LOGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    user: str
    domain: str
    login_time: _timestamp_pb2.Timestamp
    def __init__(self, user: _Optional[str] = ..., domain: _Optional[str] = ..., login_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GuestTime(_message.Message):
    __slots__ = ("time",)
    TIME_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("domain", "program", "args", "env", "stdin", "timeout_seconds")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    program: str
    args: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.RepeatedScalarFieldContainer[str]
    stdin: bytes
    timeout_seconds: int
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., program: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., env: _Optional[_Iterable[str]] = ..., stdin: _Optional[bytes] = ..., timeout_seconds: _Optional[int] = ...) -> None: ...

class ExecResponse(_message.Message):
    __slots__ = ("pid", "exited", "exit_code", "signal", "stdout", "stderr", "stdout_truncated", "stderr_truncated")
    PID_FIELD_NUMBER: _ClassVar[int]
    EXITED_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    STDOUT_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    STDERR_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    pid: int
    exited: bool
    exit_code: int
    signal: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    def __init__(self, pid: _Optional[int] = ..., exited: bool = ..., exit_code: _Optional[int] = ..., signal: _Optional[int] = ..., stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., stdout_truncated: bool = ..., stderr_truncated: bool = ...) -> None: ...

class ExecStreamResponse(_message.Message):
    __slots__ = ("stdout", "stderr", "exit", "started")
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    EXIT_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    stdout: bytes
    stderr: bytes
    exit: ExecResponse
    started: ExecStarted
    def __init__(self, stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., exit: _Optional[_Union[ExecResponse, _Mapping]] = ..., started: _Optional[_Union[ExecStarted, _Mapping]] = ...) -> None: ...

class ExecStarted(_message.Message):
    __slots__ = ("pid",)
    PID_FIELD_NUMBER: _ClassVar[int]
    pid: int
    def __init__(self, pid: _Optional[int] = ...) -> None: ...

class FreezeRequest(_message.Message):
    __slots__ = ("domain", "mountpoints", "timeout_seconds")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    MOUNTPOINTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    mountpoints: _containers.RepeatedScalarFieldContainer[str]
    timeout_seconds: int
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., mountpoints: _Optional[_Iterable[str]] = ..., timeout_seconds: _Optional[int] = ...) -> None: ...

class FreezeResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class FreezeStatus(_message.Message):
    __slots__ = ("frozen",)
    FROZEN_FIELD_NUMBER: _ClassVar[int]
    frozen: bool
    def __init__(self, frozen: bool = ...) -> None: ...

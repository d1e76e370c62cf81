"""Typed exceptions for failed calls.

Every failure of a :class:`virthost.Client` call raises a subclass of
:class:`VirtHostError` chosen by the gRPC status code (``NOT_FOUND`` ->
:class:`NotFoundError`, ...). When the failure came from libvirt, the agent
puts libvirt's error in the status details (``grpc-status-details-bin``):
``.libvirt`` is then a ``virthost.v1.LibvirtErrorDetail`` (code, domain,
message) and ``.error_info`` the ``google.rpc.ErrorInfo`` (domain
``libvirt.org``, reason such as ``VIR_ERR_NO_NETWORK``).
"""
import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from .v1 import common_pb2


class VirtHostError(Exception):
    """A failed call: ``code`` (a ``grpc.StatusCode``), ``message``, and
    ``libvirt`` / ``error_info`` when libvirt failed (else None)."""

    code = grpc.StatusCode.UNKNOWN

    def __init__(self, message, code=None, libvirt=None, error_info=None, method=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.libvirt = libvirt
        self.error_info = error_info
        self.method = method

    def __str__(self):
        reason = f" ({self.error_info.reason})" if self.error_info is not None and self.error_info.reason else ""
        return f"{self.code.name}: {self.message}{reason}"


class CancelledError(VirtHostError):
    code = grpc.StatusCode.CANCELLED


class UnknownError(VirtHostError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(VirtHostError):
    """The request is malformed; nothing changed."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(VirtHostError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(VirtHostError):
    """No such object (machine, network, pool, volume, ...)."""
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(VirtHostError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(VirtHostError):
    """The caller's role does not allow the call (the message names the role it needs)."""
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(VirtHostError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(VirtHostError):
    """The object is in the wrong state, e.g. starting a running network."""
    code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(VirtHostError):
    code = grpc.StatusCode.ABORTED


class OutOfRangeError(VirtHostError):
    code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(VirtHostError):
    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(VirtHostError):
    code = grpc.StatusCode.INTERNAL


class UnavailableError(VirtHostError):
    """The agent (or libvirtd behind it) cannot be reached now."""
    code = grpc.StatusCode.UNAVAILABLE


class UnauthenticatedError(VirtHostError):
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE = {cls.code: cls for cls in (
    CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError, NotFoundError, AlreadyExistsError,
    PermissionDeniedError, ResourceExhaustedError, FailedPreconditionError, AbortedError, OutOfRangeError,
    UnimplementedError, InternalError, UnavailableError, UnauthenticatedError)}


def from_rpc_error(error, method=None):
    """The typed exception for a ``grpc.RpcError`` raised by a call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    libvirt = info = None
    try:
        status = rpc_status.from_call(error)
    except (ValueError, AttributeError):  # details that disagree with the status, or no call
        status = None
    for detail in status.details if status is not None else ():
        if detail.Is(common_pb2.LibvirtErrorDetail.DESCRIPTOR):
            libvirt = common_pb2.LibvirtErrorDetail()
            detail.Unpack(libvirt)
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
    return _BY_CODE.get(code, VirtHostError)(message or "", code=code, libvirt=libvirt, error_info=info, method=method)

"""Python client of virthostd, the libvirt host agent.

    import virthost
    with virthost.Client("/run/virthost/virthost.sock") as client:
        for network in client.list_networks().networks:
            print(network.name)

See :class:`virthost.Client` for the calls and :mod:`virthost.errors` for the
exceptions; :mod:`virthost.v1` holds the generated messages and stubs.
"""
from .client import DEFAULT_SOCKET, REQUEST_ID_KEY, Client, EventWatch
from .errors import (
    AbortedError,
    AlreadyExistsError,
    CancelledError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
    VirtHostError,
)

__version__ = "0.1.0"

__all__ = [
    "Client", "EventWatch", "DEFAULT_SOCKET", "REQUEST_ID_KEY", "VirtHostError", "AbortedError", "AlreadyExistsError",
    "CancelledError", "DeadlineExceededError", "FailedPreconditionError", "InternalError", "InvalidArgumentError",
    "NotFoundError", "OutOfRangeError", "PermissionDeniedError", "ResourceExhaustedError", "UnauthenticatedError",
    "UnavailableError", "UnimplementedError", "UnknownError",
]

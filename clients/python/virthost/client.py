"""The client: one method per RPC, generated from the service descriptors."""
import importlib
import os
import pkgutil
import re
import threading

import grpc
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from google.protobuf import message_factory

from . import errors
from . import v1
from .v1 import events_pb2

#: Where the Debian package's agent listens.
DEFAULT_SOCKET = "/run/virthost/virthost.sock"
#: The metadata key that carries a call's request id.
REQUEST_ID_KEY = "virthost-request-id"

# The attribute of each service on the client, e.g. client.networks.list_networks();
# a service not named here gets its name in snake_case without "Service"
# (FooBarService -> client.foo_bar).
_ATTRIBUTES = {
    "HostService": "hosts", "DomainService": "domains", "NetworkService": "networks",
    "HostNetworkService": "host_networks", "StorageService": "storage", "GuestAgentService": "guest_agent",
    "SnapshotService": "snapshots", "EventService": "events", "OperationService": "operations",
    "NodeDeviceService": "node_devices", "DiskJobService": "disk_jobs",
}


def _services():
    """Every service of every generated module in virthost.v1, by attribute name."""
    services = {}
    for info in sorted(pkgutil.iter_modules(v1.__path__), key=lambda info: info.name):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{v1.__name__}.{info.name}")
        for name, service in module.DESCRIPTOR.services_by_name.items():
            attribute = _ATTRIBUTES.get(name) or snake_case(name[:-len("Service")] if name.endswith("Service") else name)
            services[attribute] = service
    return services


# Codes after which a watch opens its stream again.
_RESUMABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL,
              grpc.StatusCode.UNKNOWN, grpc.StatusCode.RESOURCE_EXHAUSTED}

_DEFAULT = object()


def snake_case(name):
    """``ListNetworks`` -> ``list_networks``, ``GetNetworkXML`` -> ``get_network_xml``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _build_request(input_class, method_name, request, fields):
    """The request message from what the caller passed (see :class:`Client`):
    the message itself, a dict of its fields, keyword fields, or the name of
    the one object the request names."""
    if request is not None and fields:
        raise TypeError(f"{method_name}() takes a request message or its fields, not both")
    name = None
    if isinstance(request, _message.Message):
        if request.DESCRIPTOR is not input_class.DESCRIPTOR:
            raise TypeError(f"{method_name}() takes a {input_class.DESCRIPTOR.full_name}, "
                            f"not a {request.DESCRIPTOR.full_name}")
        return request
    if isinstance(request, dict):
        fields, request = dict(request), None
    if isinstance(request, str):
        name, request = request, None
    if request is not None:
        raise TypeError(f"{method_name}() takes a {input_class.DESCRIPTOR.full_name}, a dict, a name or keyword "
                        f"fields, not {type(request).__name__}")
    descriptor = input_class.DESCRIPTOR
    if name is not None:
        target = _name_field(descriptor)
        if target is None:
            raise TypeError(f"{method_name}() does not name one object: pass the fields of "
                            f"{descriptor.full_name} as keywords")
        fields = {target: name}
    built = {}
    for key, value in fields.items():
        field = descriptor.fields_by_name.get(key)
        if field is None:
            known = ", ".join(f.name for f in descriptor.fields) or "none"
            raise TypeError(f"{method_name}(): {descriptor.full_name} has no field {key!r} (fields: {known})")
        # A reference given as a plain name: network="demo-nat" -> NetworkRef(name="demo-nat").
        if (field.type == _descriptor.FieldDescriptor.TYPE_MESSAGE and isinstance(value, str)
                and "name" in field.message_type.fields_by_name):
            value = message_factory.GetMessageClass(field.message_type)(name=value)
        built[key] = value
    try:
        return input_class(**built)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{method_name}(): {error}") from None


def _name_field(descriptor):
    """The field a lone name goes to: ``name`` itself, or the one message
    field whose type has a ``name`` (e.g. ``network`` of GetNetworkXMLRequest)."""
    if "name" in descriptor.fields_by_name:
        return "name"
    candidates = [f.name for f in descriptor.fields
                  if f.type == _descriptor.FieldDescriptor.TYPE_MESSAGE
                  and not _repeated(f)
                  and "name" in f.message_type.fields_by_name]
    return candidates[0] if len(candidates) == 1 else None


def _repeated(field):
    # protobuf 7 has is_repeated and no label; protobuf 5 has label.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == _descriptor.FieldDescriptor.LABEL_REPEATED


class _Stream:
    """A server-streaming call's responses; iterating raises typed errors.
    ``cancel()`` (or leaving a ``with`` block) ends the call."""

    def __init__(self, call, method):
        self._call = call
        self._method = method

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error, self._method) from None

    def cancel(self):
        """Ends the call."""
        self._call.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cancel()


class _Method:
    """One RPC, callable. See :class:`Client` for the arguments."""

    def __init__(self, client, service, method):
        self._client = client
        self.full_name = f"/{service.full_name}/{method.name}"
        self.name = snake_case(method.name)
        self.input_class = message_factory.GetMessageClass(method.input_type)
        self.output_class = message_factory.GetMessageClass(method.output_type)
        self.client_streaming = method.client_streaming
        self.server_streaming = method.server_streaming
        kind = {(False, False): "unary_unary", (False, True): "unary_stream",
                (True, False): "stream_unary", (True, True): "stream_stream"}[(self.client_streaming,
                                                                             self.server_streaming)]
        self._callable = getattr(client._channel, kind)(
            self.full_name, request_serializer=self.input_class.SerializeToString,
            response_deserializer=self.output_class.FromString)
        self.__doc__ = (f"{service.name}.{method.name}: {method.input_type.full_name} -> "
                        f"{'stream ' if self.server_streaming else ''}{method.output_type.full_name}")

    def __call__(self, request=None, /, *, timeout=_DEFAULT, request_id=None, metadata=(), wait_for_ready=None,
                 **fields):
        if self.client_streaming:
            if request is None or fields:
                raise TypeError(f"{self.name}() takes an iterator of {self.input_class.DESCRIPTOR.full_name}")
            message = request
        else:
            message = _build_request(self.input_class, self.name, request, fields)
        if timeout is _DEFAULT:
            timeout = None if self.server_streaming else self._client.timeout
        call_metadata = list(metadata)
        request_id = request_id or (self._client.request_ids() if self._client.request_ids else None)
        if request_id:
            call_metadata.append((REQUEST_ID_KEY, str(request_id)))
        try:
            result = self._callable(message, timeout=timeout, metadata=call_metadata or None,
                                    wait_for_ready=wait_for_ready)
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error, self.full_name) from None
        return _Stream(result, self.full_name) if self.server_streaming else result

    def __repr__(self):
        return f"<virthost RPC {self.full_name}>"


class _Service:
    """One service's methods, e.g. ``client.networks.list_networks``."""

    def __init__(self, descriptor):
        self.full_name = descriptor.full_name

    def __repr__(self):
        return f"<virthost service {self.full_name}>"


class Client:
    """A connection to a virthost agent's gRPC socket.

    ``socket_path`` defaults to ``$VIRTHOST_SOCKET``, else
    :data:`DEFAULT_SOCKET`. ``transport`` must be ``"grpc"`` (the agent's
    ttrpc socket is for Go and Swift clients). ``timeout`` is the deadline in
    seconds of unary calls that give none (None: no deadline); streams have
    none unless given. ``request_ids``, a callable, gives each call that has no
    ``request_id=`` of its own an id (metadata ``virthost-request-id``).

    Every RPC of every service is a method named in snake_case, on the
    client (``client.list_networks()``) and on its service
    (``client.networks.list_networks()``); :meth:`rpc_names` lists them. A
    method takes the request message; or its fields as keywords
    (``list_networks(active_only=True)``), where a reference field also takes a
    plain name (``get_network_xml(network="demo-nat")``); or, for requests
    that name one object, the name (``get_network("demo-nat")``,
    ``start_domain("web-1")``). Each also takes ``timeout=``, ``request_id=``,
    ``metadata=`` and ``wait_for_ready=``. Unary calls return the response
    message; server-streaming calls an iterator of them; client-streaming
    calls (``upload_volume``) take an iterator of requests. Failures raise
    :class:`virthost.VirtHostError` subclasses.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, socket_path=None, transport="grpc", *, timeout=30.0, request_ids=None, options=()):
        if transport != "grpc":
            raise ValueError(f"transport {transport!r} is not supported: use 'grpc' (the agent's main socket)")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive seconds, or None for no deadline")
        if request_ids is not None and not callable(request_ids):
            raise TypeError("request_ids must be a callable that returns a new id")
        self.socket_path = socket_path or os.environ.get("VIRTHOST_SOCKET") or DEFAULT_SOCKET
        self.transport = transport
        self.timeout = timeout
        self.request_ids = request_ids
        # Reconnect quickly after an agent restart (grpc's default waits from 1 s up to 2 min).
        channel_options = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                           ("grpc.max_reconnect_backoff_ms", 2000), *options]
        self._channel = grpc.insecure_channel(f"unix:{self.socket_path}", options=channel_options)
        self._methods = {}
        for attribute, service in _services().items():
            group = _Service(service)
            for method in service.methods:
                bound = _Method(self, service, method)
                setattr(group, bound.name, bound)
                if bound.name in self._methods:  # never today; keep both reachable via the services
                    raise RuntimeError(f"two services define {bound.name}")
                self._methods[bound.name] = bound
            setattr(self, attribute, group)

    def __getattr__(self, name):
        methods = self.__dict__.get("_methods", {})
        if name in methods:
            return methods[name]
        raise AttributeError(f"virthost.Client has no method {name!r} (see Client.rpc_names())")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._methods))

    def rpc_names(self):
        """The snake_case names of every RPC, sorted."""
        return sorted(self._methods)

    def close(self):
        """Closes the channel; calls in flight fail with CANCELLED."""
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def watch(self, kinds=(), name="", since_sequence=0, since_epoch=0, *, resume=True, max_backoff=5.0,
              request_id=None):
        """The agent's events (``virthost.v1.Event``), in order, as an
        :class:`EventWatch` iterator that runs until cancelled.

        ``kinds`` (``events_pb2.EVENT_KIND_*``) and ``name`` filter them;
        ``since_sequence``/``since_epoch`` say where to start (0: from now).
        When the stream breaks (the agent stopped or restarted, its socket went
        away) and ``resume`` is true, the watch waits for the agent and asks for
        what came after the last event it yielded, so buffered events are
        neither lost nor repeated; after an agent restart the first event is a
        gap (kind ``EVENT_KIND_SYSTEM``, type ``"gap"``): list what you track
        again. Pauses between attempts grow from 0.1 s to ``max_backoff``.
        """
        return EventWatch(self._methods["watch"], events_pb2.WatchRequest(
            kinds=kinds, name=name, since_sequence=since_sequence, since_epoch=since_epoch),
            resume=resume, max_backoff=max_backoff, request_id=request_id)


class EventWatch:
    """An iterator of events that resumes after disconnects (see
    :meth:`Client.watch`). :meth:`cancel` (from any thread) or leaving a
    ``with`` block ends it: the iteration then stops."""

    def __init__(self, method, request, *, resume, max_backoff, request_id):
        self._method = method
        self._request = request
        self._resume = resume
        self._max_backoff = max_backoff
        self._request_id = request_id
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._stream = None
        self._events = self._run()

    @property
    def last_sequence(self):
        """The sequence of the last event yielded (where a resume starts)."""
        return self._request.since_sequence

    @property
    def epoch(self):
        """The epoch of the agent that sent the last event."""
        return self._request.since_epoch

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._events)

    def cancel(self):
        """Ends the watch; safe from any thread."""
        self._cancelled.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()

    close = cancel

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cancel()

    def _run(self):
        backoff = 0.1
        while not self._cancelled.is_set():
            stream = self._method(self._request, request_id=self._request_id, wait_for_ready=True)
            with self._lock:
                self._stream = stream
            if self._cancelled.is_set():
                stream.cancel()
            try:
                for event in stream:
                    self._request.since_sequence = event.sequence
                    if event.epoch:
                        self._request.since_epoch = event.epoch
                    backoff = 0.1
                    yield event
            except errors.VirtHostError as error:
                if self._cancelled.is_set():
                    return
                if not self._resume or error.code not in _RESUMABLE:
                    raise
            finally:
                stream.cancel()
            if not self._resume:
                return
            self._cancelled.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

"""A minimal ttrpc client for tests: framing, the Request/Response envelopes,
unary, server-streaming and client-streaming calls.

The protocol (containerd/ttrpc PROTOCOL.md): every frame is a 10-byte
big-endian header (data length u32, stream id u32, type u8, flags u8) and at
most 4 MiB of data. A Request (type 1) is the protobuf
{1 service, 2 method, 3 payload, 4 timeout_nano, 5 metadata {1 key, 2 value}};
a Response (type 2) is {1 google.rpc.Status, 2 payload}; Data (type 3)
carries one stream message. Client stream ids are odd and increase.

The envelopes are encoded by hand so that tests can also build broken ones;
google.rpc.Status comes from googleapis-common-protos (installed with
grpcio-status). Only the standard library and that package are needed, so the
module also runs in a child process as another user.
"""
import collections
import socket
import struct
import time

from google.rpc import error_details_pb2, status_pb2

HEADER = struct.Struct(">IIBB")
HEADER_LENGTH = HEADER.size
MAX_DATA = 4 << 20

REQUEST, RESPONSE, DATA = 0x1, 0x2, 0x3
FLAG_REMOTE_CLOSED, FLAG_REMOTE_OPEN, FLAG_NO_DATA = 0x1, 0x2, 0x4

CODE_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
              "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
CODES = {name: number for number, name in enumerate(CODE_NAMES)}


# --- protobuf, by hand ---------------------------------------------------------

def varint(value):
    """Protobuf base-128 varint; negative int64 values take ten bytes."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def encode_request(service, method, payload=b"", timeout_nano=0, metadata=()):
    """The ttrpc Request envelope; empty fields are left out like proto3 does."""
    out = b""
    if service:
        out += field_bytes(1, service)
    if method:
        out += field_bytes(2, method)
    if payload:
        out += field_bytes(3, payload)
    if timeout_nano:
        out += field_varint(4, timeout_nano)
    for key, value in metadata:
        out += field_bytes(5, field_bytes(1, key) + field_bytes(2, value))
    return out


def read_varint(data, index):
    shift = result = 0
    while True:
        if index >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[index]
        index += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, index


def parse_fields(data):
    """(number, wire type, value) of every field; bytes for length-delimited ones."""
    index, fields = 0, []
    while index < len(data):
        key, index = read_varint(data, index)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, index = read_varint(data, index)
        elif wire == 2:
            length, index = read_varint(data, index)
            if index + length > len(data):
                raise ValueError("truncated field")
            value, index = data[index:index + length], index + length
        elif wire == 1:
            value, index = data[index:index + 8], index + 8
        elif wire == 5:
            value, index = data[index:index + 4], index + 4
        else:
            raise ValueError(f"wire type {wire}")
        fields.append((number, wire, value))
    return fields


def decode_response(data):
    """(google.rpc.Status, payload bytes) of a Response frame's data."""
    status, payload = status_pb2.Status(), b""
    for number, wire, value in parse_fields(data):
        if number == 1 and wire == 2:
            status.MergeFromString(value)
        elif number == 2 and wire == 2:
            payload = value
    return status, payload


# --- frames ----------------------------------------------------------------------

Frame = collections.namedtuple("Frame", "stream_id type flags data")


def frame(stream_id, kind, flags, data=b"", length=None):
    """One frame; `length` overrides the header's length (for broken frames)."""
    return HEADER.pack(len(data) if length is None else length, stream_id, kind, flags) + data


class TTRPCError(Exception):
    """A call that ended with a non-OK google.rpc.Status."""

    def __init__(self, status):
        self.status = status
        self.code = status.code
        self.message = status.message
        super().__init__(f"{self.code_name}: {status.message}")

    @property
    def code_name(self):
        return code_name(self.code)

    def error_infos(self):
        return error_infos(self.status)


def code_name(code):
    return CODE_NAMES[code] if 0 <= code < len(CODE_NAMES) else str(code)


def error_infos(status):
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    return infos


class Closed(Exception):
    """The agent closed the connection."""


class Connection:
    """One ttrpc connection. Frames of other streams that arrive while a call
    waits are kept for their own readers."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.timeout = timeout
        self.buffer = b""
        self.pending = collections.defaultdict(collections.deque)
        self.last_id = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def next_id(self):
        self.last_id += 2
        return self.last_id

    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, stream_id, kind, flags, data=b""):
        self.send(frame(stream_id, kind, flags, data))

    def _read(self, count, deadline):
        while len(self.buffer) < count:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise socket.timeout("no frame in time")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buffer:
                    raise Closed(f"connection closed inside a frame ({len(self.buffer)} bytes left)")
                raise Closed("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_frame(self, timeout=None):
        """The next frame of any stream (Closed at EOF, socket.timeout)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        length, stream_id, kind, flags = HEADER.unpack(self._read(HEADER_LENGTH, deadline))
        if length > MAX_DATA:
            raise ValueError(f"agent sent a frame of {length} bytes")
        return Frame(stream_id, kind, flags, self._read(length, deadline) if length else b"")

    def frame_for(self, stream_id, timeout=None):
        """The next frame of one stream, keeping the others."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        if self.pending[stream_id]:
            return self.pending[stream_id].popleft()
        while True:
            got = self.read_frame(max(0.0, deadline - time.monotonic()))
            if got.stream_id == stream_id:
                return got
            self.pending[got.stream_id].append(got)

    def response_for(self, stream_id, timeout=None):
        """The Response frame of a stream, decoded: (Status, payload)."""
        got = self.frame_for(stream_id, timeout)
        if got.type != RESPONSE:
            raise AssertionError(f"expected a Response on stream {stream_id}, got {got}")
        return decode_response(got.data)

    # --- calls ---

    def unary_raw(self, service, method, payload=b"", timeout_nano=0, metadata=(), stream_id=None, timeout=None):
        """Sends a unary Request; returns (Status, payload) of its Response."""
        stream_id = self.next_id() if stream_id is None else stream_id
        self.send_frame(stream_id, REQUEST, 0, encode_request(service, method, payload, timeout_nano, metadata))
        return self.response_for(stream_id, timeout)

    def call(self, service, method, request, response_type, **kw):
        """A unary call with protobuf messages; raises TTRPCError on a non-OK status."""
        status, payload = self.unary_raw(service, method, request.SerializeToString(), **kw)
        if status.code != 0:
            raise TTRPCError(status)
        return response_type.FromString(payload)

    def server_stream(self, service, method, request, response_type, timeout_nano=0, metadata=(), timeout=None):
        """Starts a server-streaming call (Request flagged remote closed) and
        yields each message; returns at the Data frame flagged remote closed,
        raises TTRPCError if a Response with an error ends the stream."""
        stream_id = self.next_id()
        self.send_frame(stream_id, REQUEST, FLAG_REMOTE_CLOSED,
                        encode_request(service, method, request.SerializeToString(), timeout_nano, metadata))
        return self._stream_messages(stream_id, response_type, timeout)

    def _stream_messages(self, stream_id, response_type, timeout):
        while True:
            got = self.frame_for(stream_id, timeout)
            if got.type == RESPONSE:
                status, payload = decode_response(got.data)
                if status.code != 0:
                    raise TTRPCError(status)
                if payload:
                    yield response_type.FromString(payload)
                return
            if got.type != DATA:
                raise AssertionError(f"unexpected frame on stream {stream_id}: {got}")
            if not got.flags & FLAG_NO_DATA:
                yield response_type.FromString(got.data)
            if got.flags & FLAG_REMOTE_CLOSED:
                return

    def client_stream_raw(self, service, method, payloads, timeout_nano=0, metadata=(), close=True, timeout=None):
        """A client-streaming call: Request flagged remote open with no
        payload, one Data frame per payload (the last flagged remote closed;
        no data too when `payloads` is empty). Returns (Status, payload) of the
        Response, or the stream id without waiting when close is False."""
        stream_id = self.next_id()
        self.send_frame(stream_id, REQUEST, FLAG_REMOTE_OPEN,
                        encode_request(service, method, b"", timeout_nano, metadata))
        payloads = list(payloads)
        for index, payload in enumerate(payloads):
            flags = 0
            if close and index == len(payloads) - 1:
                flags = FLAG_REMOTE_CLOSED | (0 if payload else FLAG_NO_DATA)
            self.send_frame(stream_id, DATA, flags, payload)
        if not close:
            return stream_id
        if not payloads:
            self.send_frame(stream_id, DATA, FLAG_REMOTE_CLOSED | FLAG_NO_DATA)
        return self.response_for(stream_id, timeout)

    def client_stream(self, service, method, requests, response_type, **kw):
        status, payload = self.client_stream_raw(service, method, [r.SerializeToString() for r in requests], **kw)
        if status.code != 0:
            raise TTRPCError(status)
        return response_type.FromString(payload)

"""Malformed ttrpc traffic on raw sockets against the agent's ttrpc socket.

The expected answers follow containerd's Go ttrpc server (server.go,
channel.go): a frame over 4 MiB is answered RESOURCE_EXHAUSTED on its stream
and skipped; a Request that does not decode, an even stream id, or a stream id
that does not increase is answered INVALID_ARGUMENT on that id; Data on a
stream that is not open is answered INVALID_ARGUMENT; a client's Response and
unknown message types are ignored (kept for later protocol versions); a
frame cut off by the peer's close is dropped. After every case the agent must
be alive and answer GetVersion on a fresh connection.
"""
import socket
import threading
import time

import pytest

import ttrpc_wire
from ttrpc_wire import CODES, DATA, FLAG_NO_DATA, FLAG_REMOTE_CLOSED, FLAG_REMOTE_OPEN, MAX_DATA, REQUEST, \
    RESPONSE, Closed, encode_request, field_bytes, field_varint, frame
from test_ttrpc_interop import running_ttrpc_agent

HOST = "virthost.v1.HostService"
GET_VERSION = encode_request(HOST, "GetVersion")


@pytest.fixture(scope="module")
def agent():
    with running_ttrpc_agent("vhu-ttrpcf-") as running:
        yield running


@pytest.fixture(autouse=True)
def still_serving(agent):
    """After each case: the process lives and a fresh connection is served."""
    yield
    assert agent["process"].poll() is None, "virthostd died"
    with connect(agent) as conn:
        assert_version(*conn.unary_raw(HOST, "GetVersion", timeout=10))


def connect(agent, timeout=10.0):
    return ttrpc_wire.Connection(agent["ttrpc"], timeout=timeout)


def assert_version(status, payload):
    assert status.code == 0, status
    fields = {number: value for number, _, value in ttrpc_wire.parse_fields(payload)}
    assert fields[4] == b"TEST"  # hypervisor_type


def code_of(conn, stream_id, timeout=5.0):
    status, _ = conn.response_for(stream_id, timeout)
    return ttrpc_wire.code_name(status.code)


def expect_closed(conn, timeout=5.0):
    """Reads until the agent closes the connection; returns the frames before."""
    frames, deadline = [], time.monotonic() + timeout
    while True:
        try:
            frames.append(conn.read_frame(max(0.01, deadline - time.monotonic())))
        except Closed:
            return frames
        except socket.timeout:
            pytest.fail(f"the agent kept the connection open ({len(frames)} frames)")


def assert_quiet(conn, seconds=0.3):
    """No frame arrives (nothing was owed)."""
    with pytest.raises(socket.timeout):
        got = conn.read_frame(seconds)
        pytest.fail(f"unexpected frame {got}")


# --- lengths -----------------------------------------------------------------------

def test_frame_over_4_mib_is_refused_and_skipped(agent):
    with connect(agent) as conn:
        conn.send(ttrpc_wire.HEADER.pack(MAX_DATA + 1, 1, REQUEST, 0))
        assert code_of(conn, 1) == "RESOURCE_EXHAUSTED"
        conn.send(b"\0" * (MAX_DATA + 1))  # skipped as it arrives
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=3))


def exact_envelope(size):
    """A GetVersion Request of exactly `size` bytes: GetVersionRequest has no
    fields, so an unknown field 15 pads its payload and is skipped."""
    body = encode_request(HOST, "GetVersion")
    for pad in range(size - len(body), 0, -1):
        payload = field_bytes(15, b"x" * pad)
        data = body + field_bytes(3, payload)
        if len(data) == size:
            return data
    raise AssertionError("no padding fits")


def test_frame_of_exactly_4_mib_is_served(agent):
    data = exact_envelope(MAX_DATA)
    with connect(agent, timeout=20) as conn:
        conn.send_frame(1, REQUEST, 0, data)
        status, payload = conn.response_for(1, 20)
        # The frame is within the protocol's limit; the payload inside it may
        # still be over the services' own message limit.
        assert ttrpc_wire.code_name(status.code) in ("OK", "RESOURCE_EXHAUSTED"), status
        if status.code == 0:
            assert_version(status, payload)
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=3))


@pytest.mark.parametrize("length", [0x0100000A, 0x7FFFFFFF, 0xFFFFFFFF], ids=["16MiB", "2GiB", "4GiB"])
def test_first_byte_non_zero_is_refused(agent, length):
    """A length over 16 MiB (first header byte set): RESOURCE_EXHAUSTED at
    once, before any of the announced data; the peer then leaves."""
    with connect(agent) as conn:
        conn.send(ttrpc_wire.HEADER.pack(length, 1, REQUEST, 0) + b"junk")
        assert code_of(conn, 1) == "RESOURCE_EXHAUSTED"


def test_truncated_frames_are_dropped(agent):
    cases = [
        ttrpc_wire.HEADER.pack(100, 1, REQUEST, 0) + b"x" * 30,       # length larger than what follows
        frame(1, REQUEST, 0, GET_VERSION)[:-1],                      # one byte short
        ttrpc_wire.HEADER.pack(len(GET_VERSION), 1, REQUEST, 0)[:5],  # half a header
        b"\0",
    ]
    for data in cases:
        # Then the peer half-closes: the agent answers nothing and closes.
        with connect(agent) as conn:
            conn.send(data)
            conn.sock.shutdown(socket.SHUT_WR)
            assert expect_closed(conn) == [], data
        # Or goes away entirely.
        with connect(agent) as conn:
            conn.send(data)


def test_half_close_after_a_request_still_gets_the_answer(agent):
    with connect(agent) as conn:
        conn.send_frame(1, REQUEST, 0, GET_VERSION)
        conn.sock.shutdown(socket.SHUT_WR)
        frames = expect_closed(conn)
        assert [f.stream_id for f in frames] == [1] and frames[0].type == RESPONSE
        assert_version(*ttrpc_wire.decode_response(frames[0].data))


# --- message types and stream ids ---------------------------------------------------

def test_unknown_types_and_client_responses_are_ignored(agent):
    with connect(agent) as conn:
        junk = b"".join(frame(1, kind, flags, b"\x08\x01junk") for kind in (0x0, 0x4, 0x7F, 0xFF)
                        for flags in (0, FLAG_REMOTE_CLOSED))
        junk += frame(1, RESPONSE, 0, field_bytes(1, field_varint(1, 5)))  # a Response from the client
        junk += frame(2, RESPONSE, 0, b"")
        conn.send(junk)
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=3))
        assert not any(conn.pending.values()), dict(conn.pending)
        assert_quiet(conn)


def test_data_outside_an_open_stream(agent):
    with connect(agent) as conn:
        # Data on a stream never opened.
        conn.send_frame(5, DATA, 0, b"\x08\x01")
        assert code_of(conn, 5) == "INVALID_ARGUMENT"
        conn.send_frame(7, DATA, FLAG_REMOTE_CLOSED | FLAG_NO_DATA)
        assert code_of(conn, 7) == "INVALID_ARGUMENT"
        # Data on a unary stream that has finished.
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=9))
        conn.send_frame(9, DATA, FLAG_REMOTE_CLOSED, b"\x08\x01")
        assert code_of(conn, 9) == "INVALID_ARGUMENT"
        # Data on a unary stream still running: never a second answer that is not an error.
        conn.send(frame(11, REQUEST, 0, GET_VERSION) + frame(11, DATA, 0, b"\x08\x01") +
                  frame(11, DATA, FLAG_REMOTE_CLOSED | FLAG_NO_DATA))
        assert code_of(conn, 11) in ("OK", "INVALID_ARGUMENT")
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=13))
        for extra in conn.pending.pop(11, []):
            assert extra.type == RESPONSE
            assert ttrpc_wire.decode_response(extra.data)[0].code == CODES["INVALID_ARGUMENT"]
        assert not any(conn.pending.values()), dict(conn.pending)


def test_stream_ids_must_be_odd_and_increase(agent):
    with connect(agent) as conn:
        for even in (0, 2, 0xFFFFFFFE):
            conn.send_frame(even, REQUEST, 0, GET_VERSION)
            assert code_of(conn, even) == "INVALID_ARGUMENT", even
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=1))
        conn.send_frame(1, REQUEST, 0, GET_VERSION)  # reused
        assert code_of(conn, 1) == "INVALID_ARGUMENT"
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=7))
        conn.send_frame(5, REQUEST, 0, GET_VERSION)  # decreasing
        assert code_of(conn, 5) == "INVALID_ARGUMENT"
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=9))
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=0xFFFFFFFF))  # the last id there is
        conn.send_frame(11, REQUEST, 0, GET_VERSION)
        assert code_of(conn, 11) == "INVALID_ARGUMENT"
        # The reuse checks do not kill the streams of others: a fresh connection starts at 1.
    with connect(agent) as conn:
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=1))


# --- the Request envelope ------------------------------------------------------------

BAD_ENVELOPES = {
    "random bytes": b"\xff\xff\xff\xff\xff",
    "truncated field": b"\x0a\x10virthost",
    "truncated varint": b"\x20\xff\xff",
    "wire type 7": b"\x0f\x00",
    "group start": b"\x0b\x0c",
    "field 0": b"\x02\x00",
    "metadata not a message": field_bytes(1, HOST) + field_bytes(2, "GetVersion") + field_bytes(5, b"\xff\xff"),
    "over-long varint": field_bytes(1, HOST) + field_bytes(2, "GetVersion") + b"\x20" + b"\xff" * 10 + b"\x01",
}


@pytest.mark.parametrize("name", list(BAD_ENVELOPES))
def test_garbage_request_envelope_is_invalid_argument(agent, name):
    with connect(agent) as conn:
        conn.send_frame(1, REQUEST, 0, BAD_ENVELOPES[name])
        assert code_of(conn, 1) == "INVALID_ARGUMENT"
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=3))


def test_requests_naming_nothing_or_nonsense(agent):
    cases = [
        (b"", ("INVALID_ARGUMENT", "UNIMPLEMENTED")),  # no service, no method
        (encode_request(HOST, ""), ("INVALID_ARGUMENT", "UNIMPLEMENTED")),
        (encode_request("", "GetVersion"), ("INVALID_ARGUMENT", "UNIMPLEMENTED")),
        (encode_request(HOST, "getversion"), ("UNIMPLEMENTED",)),
        (encode_request(HOST + "/", "GetVersion"), ("UNIMPLEMENTED", "INVALID_ARGUMENT")),
        (encode_request("/" + HOST, "/GetVersion"), ("UNIMPLEMENTED", "INVALID_ARGUMENT")),
        (encode_request("../" * 50, "x" * 10000), ("UNIMPLEMENTED", "INVALID_ARGUMENT")),
        (field_bytes(1, b"\xff\xfe") + field_bytes(2, "GetVersion"), ("UNIMPLEMENTED", "INVALID_ARGUMENT")),
        (field_bytes(1, HOST) + field_bytes(2, b"Get\0Version"), ("UNIMPLEMENTED", "INVALID_ARGUMENT")),
        # The method's own payload is not its protobuf.
        (encode_request("virthost.v1.NetworkService", "GetNetwork", b"\x0a\xff"), ("INVALID_ARGUMENT", "INTERNAL")),
    ]
    with connect(agent) as conn:
        for index, (data, codes) in enumerate(cases):
            conn.send_frame(2 * index + 1, REQUEST, 0, data)
            assert code_of(conn, 2 * index + 1) in codes, (data[:60], codes)
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=1001))


def test_huge_and_odd_metadata(agent):
    cases = {
        "20000 pairs": [(f"k{i:05d}", "v") for i in range(20000)],
        "3 MiB value": [("x-big", "v" * (3 << 20))],
        "30 KiB key": [("k" * 30000, "v")],
        "odd keys": [("", "v"), (":authority", "evil"), (":path", "/x"), ("Bad Key\n", "v"), ("x-bin", "!!not base64"),
                     ("content-type", "text/plain"), ("te", "gzip"), ("grpc-encoding", "gzip"),
                     ("grpc-accept-encoding", "br"), ("x-utf8", "\u00e9\u2603"), ("x-ctl", "a\r\nb\0c")],
        "client grpc-timeout": [("grpc-timeout", "1n")],
    }
    with connect(agent, timeout=20) as conn:
        stream_id = 1
        for name, metadata in cases.items():
            status, payload = conn.unary_raw(HOST, "GetVersion", metadata=metadata, stream_id=stream_id, timeout=20)
            allowed = ("OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED")
            assert ttrpc_wire.code_name(status.code) in allowed, (name, status)
            if status.code == 0:
                assert_version(status, payload)
            stream_id += 2
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=stream_id))


# --- many frames, many peers -------------------------------------------------------

def send_in_background(conn, data):
    thread = threading.Thread(target=conn.send, args=(data,), daemon=True)
    thread.start()
    return thread


def test_thousands_of_frames_in_one_write(agent):
    """2,000 requests in one write: each answered exactly once; past the
    per-connection limit of concurrent calls an answer may be RESOURCE_EXHAUSTED."""
    count = 2000
    ids = [2 * i + 1 for i in range(count)]
    with connect(agent, timeout=30) as conn:
        started = time.monotonic()
        writer = send_in_background(conn, b"".join(frame(i, REQUEST, 0, GET_VERSION) for i in ids))
        codes = {}
        for _ in ids:
            got = conn.read_frame(30)
            assert got.type == RESPONSE and got.stream_id not in codes
            codes[got.stream_id] = ttrpc_wire.code_name(ttrpc_wire.decode_response(got.data)[0].code)
        writer.join(10)
        elapsed = time.monotonic() - started
        assert sorted(codes) == ids
        assert set(codes.values()) <= {"OK", "RESOURCE_EXHAUSTED"}, set(codes.values())
        assert list(codes.values()).count("OK") >= 64
        print(f"2000 pipelined GetVersion: {elapsed:.2f} s, "
              f"{list(codes.values()).count('OK')} OK")
        assert_quiet(conn)

    # Junk and requests interleaved, one write: only the requests are answered.
    with connect(agent, timeout=30) as conn:
        data = b"".join(frame(2 * i + 1, REQUEST, 0, GET_VERSION) + frame(2 * i + 1, 0x7F, 0, b"junk") +
                        frame(2 * i + 1, RESPONSE, 0, b"") for i in range(500))
        writer = send_in_background(conn, data)
        answered = set()
        for _ in range(500):
            got = conn.read_frame(30)
            assert got.type == RESPONSE and got.stream_id not in answered
            answered.add(got.stream_id)
        writer.join(10)
        assert_quiet(conn)


def test_silent_and_half_header_peers(agent):
    """Peers that connect and say nothing, or half a header, neither block
    others nor leak: they are served alongside and may leave at any time."""
    idle = []
    try:
        for i in range(40):
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(agent["ttrpc"])
            if i % 2:
                sock.sendall(ttrpc_wire.HEADER.pack(len(GET_VERSION), 1, REQUEST, 0)[:5])
            idle.append(sock)
        with connect(agent) as conn:
            assert_version(*conn.unary_raw(HOST, "GetVersion"))
    finally:
        for sock in idle:
            sock.close()
    for i in range(100):
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(agent["ttrpc"])
        if i % 2:
            sock.sendall(b"\0\0\0")
        sock.close()


def test_many_connections_at_once(agent):
    conns = []
    try:
        for _ in range(200):
            conns.append(connect(agent, timeout=20))
        for conn in conns:
            conn.send_frame(1, REQUEST, 0, GET_VERSION)
        codes = [code_of(conn, 1, 20) for conn in conns]
        assert codes.count("OK") == len(conns), {c: codes.count(c) for c in set(codes)}
    finally:
        for conn in conns:
            conn.close()


def test_peers_leaving_mid_stream(agent):
    """Watch and upload streams whose client goes away: nothing is left running."""
    watch = encode_request("virthost.v1.EventService", "Watch")
    upload = encode_request("virthost.v1.StorageService", "UploadVolume")
    for i in range(20):
        with connect(agent) as conn:
            conn.send_frame(1, REQUEST, FLAG_REMOTE_CLOSED, watch)
            conn.send_frame(3, REQUEST, FLAG_REMOTE_OPEN, upload)
            conn.send_frame(3, DATA, 0, b"\x12\x03abc")
            if i % 2:
                conn.sock.shutdown(socket.SHUT_WR)
    # A client stream whose Data claims remote closed and then sends more.
    with connect(agent) as conn:
        conn.send_frame(1, REQUEST, FLAG_REMOTE_OPEN, upload)
        conn.send_frame(1, DATA, FLAG_REMOTE_CLOSED, b"\x12\x03abc")
        conn.send_frame(1, DATA, 0, b"\x12\x03abc")
        assert code_of(conn, 1) == "INVALID_ARGUMENT"  # a chunk before the header
        for extra in conn.pending.pop(1, []):
            assert extra.type == RESPONSE and ttrpc_wire.decode_response(extra.data)[0].code != 0
        assert_version(*conn.unary_raw(HOST, "GetVersion", stream_id=3))


def test_odd_timeouts(agent):
    """timeout_nano at the ends of int64 (last in the file: a crash here
    would take the agent down for the cases after it)."""
    with connect(agent) as conn:
        for stream_id, timeout in ((1, -1), (3, -(1 << 63)), (5, (1 << 63) - 1), (7, 1 << 40)):
            conn.send_frame(stream_id, REQUEST, 0, encode_request(HOST, "GetVersion", timeout_nano=timeout))
            assert code_of(conn, stream_id) in ("OK", "DEADLINE_EXCEEDED", "INVALID_ARGUMENT"), timeout
        conn.send_frame(9, REQUEST, 0, encode_request(HOST, "GetVersion", timeout_nano=1))
        assert code_of(conn, 9) in ("OK", "DEADLINE_EXCEEDED")

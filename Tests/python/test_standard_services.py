"""The agent's standard gRPC services, checked with PyPI's own clients:
grpc.health.v1 with grpcio-health-checking, server reflection with
grpcio-reflection (its descriptor database, over v1alpha) and, for v1,
with message classes built from what reflection itself returned. Nothing
here uses virthost's generated code.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from test_grpc_interop import ROOT, start_agent, stop_agent

# Every service the contract declares, read from the .proto files themselves.
VIRTHOST_SERVICES = sorted(
    f"virthost.v1.{name}" for path in sorted((ROOT / "proto" / "virthost" / "v1").glob("*.proto"))
    for name in re.findall(r"^service (\w+)", path.read_text(), re.M))
STANDARD_SERVICES = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                     "grpc.reflection.v1alpha.ServerReflection"]
NOBODY = 65534


@pytest.fixture(scope="module")
def agent():
    """A demo agent anyone may connect to, where a caller with no rule has no role."""
    folder = tempfile.mkdtemp(prefix="vhu-std-")
    os.chmod(folder, 0o755)
    config = os.path.join(folder, "virthostd.toml")
    with open(config, "w") as file:
        file.write('[access]\ndefault_role = "none"\n')
    path = os.path.join(folder, "agent.sock")
    process = start_agent(path, "--socket-mode", "0666", "--config", config)
    try:
        yield path
    finally:
        stop_agent(process, path)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def channel(agent):
    with grpc.insecure_channel(f"unix:{agent}") as ch:
        yield ch


def test_health_check_overall_per_service_and_unknown(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ["", *VIRTHOST_SERVICES, *STANDARD_SERVICES]:
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
    with pytest.raises(grpc.RpcError) as raised:
        health.Check(health_pb2.HealthCheckRequest(service="virthost.v1.NoSuchService"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_sends_the_status_at_once_and_stays_open(channel):
    health = health_pb2_grpc.HealthStub(channel)
    stream = health.Watch(health_pb2.HealthCheckRequest(service="virthost.v1.NetworkService"), timeout=10)
    assert next(stream).status == health_pb2.HealthCheckResponse.SERVING
    unknown = health.Watch(health_pb2.HealthCheckRequest(service="no.Such"), timeout=10)
    assert next(unknown).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
    # Nothing changes on the demo host: the streams stay open until cancelled.
    stream.cancel()
    unknown.cancel()
    with pytest.raises(grpc.RpcError) as raised:
        next(stream)
    assert raised.value.code() == grpc.StatusCode.CANCELLED


def test_reflection_lists_and_describes_every_service(channel):
    database = ProtoReflectionDescriptorDatabase(channel)
    assert sorted(database.get_services()) == sorted(VIRTHOST_SERVICES + STANDARD_SERVICES)
    pool = descriptor_pool.DescriptorPool(database)
    networks = pool.FindServiceByName("virthost.v1.NetworkService")
    assert "ListNetworks" in [m.name for m in networks.methods]
    get = networks.methods_by_name["GetNetwork"]
    assert get.input_type.full_name == "virthost.v1.NetworkRef"
    assert get.output_type.full_name == "virthost.v1.Network"
    # Transitive imports came along: a message of events.proto with a Timestamp field.
    event = pool.FindMessageTypeByName("virthost.v1.Event")
    assert event.fields_by_name["time"].message_type.full_name == "google.protobuf.Timestamp"
    assert pool.FindFileByName("virthost/v1/common.proto").message_types_by_name["LibvirtErrorDetail"]
    health = pool.FindServiceByName("grpc.health.v1.Health")
    assert {m.name for m in health.methods} >= {"Check", "Watch"}
    # Every virthost method is there, with message types the pool resolves.
    count = 0
    for name in VIRTHOST_SERVICES:
        for method in pool.FindServiceByName(name).methods:
            assert method.input_type.full_name and method.output_type.full_name
            count += 1
    assert count >= 80 and len(VIRTHOST_SERVICES) >= 8
    with pytest.raises(KeyError):
        pool.FindMessageTypeByName("virthost.v1.NoSuchMessage")


def test_reflection_v1_with_classes_built_from_reflection(channel):
    """Calls grpc.reflection.v1 with message classes made from the
    descriptors the server's own reflection returned."""
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    service = pool.FindServiceByName("grpc.reflection.v1.ServerReflection")
    method = service.methods_by_name["ServerReflectionInfo"]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    call = channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                 request_serializer=request_class.SerializeToString,
                                 response_deserializer=response_class.FromString)
    questions = [request_class(list_services=""),
                 request_class(file_containing_symbol="virthost.v1.HostService.GetHealth"),
                 request_class(file_by_filename="virthost/v1/nope.proto")]
    answers = list(call(iter(questions), timeout=10))
    assert len(answers) == 3
    assert sorted(s.name for s in answers[0].list_services_response.service) == sorted(
        VIRTHOST_SERVICES + STANDARD_SERVICES)
    files = answers[1].file_descriptor_response.file_descriptor_proto
    names = []
    for blob in files:
        proto = descriptor_pb2.FileDescriptorProto()
        proto.ParseFromString(blob)
        names.append(proto.name)
    assert names[0] == "virthost/v1/host.proto"
    assert "google/protobuf/timestamp.proto" in names
    assert answers[2].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    assert answers[2].original_request.file_by_filename == "virthost/v1/nope.proto"


def run_as_nobody(code, socket_path):
    """Runs Python `code` as uid/gid 65534 (no role on this agent)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a client as nobody")
    program = textwrap.dedent(f"""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc
        from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
        channel = grpc.insecure_channel("unix:{socket_path}")
    """) + textwrap.dedent(code)
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                           "-c", program], capture_output=True, text=True, timeout=60)


def test_health_is_open_to_a_caller_with_no_role_and_reflection_is_not(agent):
    result = run_as_nobody("""
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10).status
        print("health", health_pb2.HealthCheckResponse.ServingStatus.Name(status))
        try:
            ProtoReflectionDescriptorDatabase(channel).get_services()
            print("reflection OK")
        except grpc.RpcError as error:
            print("reflection", error.code().name, error.details())
    """, agent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "health SERVING"
    assert lines[1].startswith("reflection PERMISSION_DENIED") and "needs the reader role" in lines[1], lines

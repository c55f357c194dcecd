"""C01: server reflection v1 and v1alpha, read with the grpcio-reflection client."""

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

EXPECTED = {
    "cloud.image.v1.ImageService",
    "cloud.image.v1.TagService",
    "cloud.image.v1.UserService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}


class _V1Stub:
    """The v1 reflection service. Its messages are the v1alpha ones byte for byte (only the
    package differs), so grpcio-reflection's client speaks v1 once its stub calls the v1 path."""

    def __init__(self, channel):
        self.ServerReflectionInfo = channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )


def database(channel, version):
    db = ProtoReflectionDescriptorDatabase(channel)
    if version == "v1":
        db._stub = _V1Stub(channel)
    return db


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_list_services(channel, version):
    services = set(database(channel, version).get_services())
    assert EXPECTED <= services, EXPECTED - services


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_descriptors_resolve_imports(channel, version):
    pool = descriptor_pool.DescriptorPool(database(channel, version))
    image = pool.FindMessageTypeByName("cloud.image.v1.Image")
    assert image.fields_by_name["create_time"].message_type.full_name == "google.protobuf.Timestamp"
    service = pool.FindServiceByName("cloud.image.v1.ImageService")
    methods = {m.name for m in service.methods}
    assert {"ListImages", "GetImage", "CreateImage", "UpdateImage", "CloneImage", "ShareImage",
            "RevokeImageShares", "ListImageMembers", "BindImageTags", "UnbindImageTags",
            "DeleteImage"} <= methods
    update = pool.FindMessageTypeByName("cloud.image.v1.UpdateImageRequest")
    assert update.fields_by_name["update_mask"].message_type.full_name == "google.protobuf.FieldMask"
    for name in ["cloud.image.v1.TagService", "cloud.image.v1.UserService", "grpc.health.v1.Health"]:
        assert pool.FindServiceByName(name).methods


def test_unknown_method_is_unimplemented(channel):
    call = channel.unary_unary("/cloud.image.v1.ImageService/NoSuchMethod")
    with pytest.raises(grpc.RpcError) as info:
        call(b"")
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED

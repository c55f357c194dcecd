"""Fixtures: a channel to the server that run.sh started, and the service stubs.

run.sh exports IMAGE_SERVICE_ADDR and one TOKEN_<USERNAME> per user (TOKEN_ROOT is an
administrator) and puts the stubs generated from ../../proto on PYTHONPATH.
"""

import grpc
import pytest

from cloud.image.v1 import image_pb2_grpc, tag_pb2_grpc, user_pb2_grpc
from helpers import env


@pytest.fixture(scope="session")
def addr():
    return env("IMAGE_SERVICE_ADDR")


@pytest.fixture(scope="session")
def channel(addr):
    # A default channel: grpcio's default 4 MiB receive limit applies.
    with grpc.insecure_channel(addr) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch


@pytest.fixture(scope="session")
def images(channel):
    return image_pb2_grpc.ImageServiceStub(channel)


@pytest.fixture(scope="session")
def tags(channel):
    return tag_pb2_grpc.TagServiceStub(channel)


@pytest.fixture(scope="session")
def users(channel):
    return user_pb2_grpc.UserServiceStub(channel)

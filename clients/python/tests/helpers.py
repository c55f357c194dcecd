"""Helpers shared by the tests: tokens, unique names, error-detail decoding, paging."""

import os
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cloud.image.v1 import image_pb2

# Users created by run.sh (id, username): ids differ from usernames except for root and alice.
USER_IDS = {
    "root": "root",
    "alice": "alice",
    "bob": "u-bob",
    "carol": "u-carol",
    "dave": "u-dave",
    "bulk": "u-bulk",
}

Category = image_pb2.ImageCategory


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite through run.sh", returncode=2)
    return value


def md(user):
    """Call metadata carrying the bearer token of `user` (a username)."""
    return (("authorization", "Bearer " + env("TOKEN_" + user.upper())),)


def unique(prefix="img"):
    """A name that no other test uses, so tests sharing one server stay independent."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create(images, user, name, description="", system=False, **attrs):
    image = image_pb2.Image(name=name, description=description, **attrs)
    resp = images.CreateImage(
        image_pb2.CreateImageRequest(image=image, system=system), metadata=md(user)
    )
    return resp.image


def rpc_error(fn, *args, **kwargs):
    """Calls `fn` and returns the grpc.RpcError it must raise."""
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


def details_of(err, kind):
    """Decodes the google.rpc.Status of `err` and returns its details of message type `kind`.

    Also checks what C05 asks of rich errors: the embedded code and message equal the call's.
    """
    status = rpc_status.from_call(err)
    assert status is not None, f"no google.rpc.Status in grpc-status-details-bin: {err!r}"
    assert status.code == err.code().value[0]
    assert status.message == err.details()
    found = []
    for any_detail in status.details:
        if any_detail.Is(kind.DESCRIPTOR):
            detail = kind()
            any_detail.Unpack(detail)
            found.append(detail)
    return found


def violations(err):
    """Field paths of every BadRequest field violation of `err`."""
    return [
        v.field
        for bad in details_of(err, error_details_pb2.BadRequest)
        for v in bad.field_violations
    ]


def resource_names(err):
    """(resource_type, resource_name) of every ResourceInfo detail of `err`."""
    return [
        (r.resource_type, r.resource_name)
        for r in details_of(err, error_details_pb2.ResourceInfo)
    ]


def list_all(images, user, **request):
    """Every image of a ListImages query, following next_page_token."""
    out = []
    token = ""
    while True:
        resp = images.ListImages(
            image_pb2.ListImagesRequest(page_token=token, **request), metadata=md(user)
        )
        out.extend(resp.images)
        token = resp.next_page_token
        if not token:
            return out

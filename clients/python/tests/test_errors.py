"""Errors as clients read them: codes, readable messages and the google.rpc details in
grpc-status-details-bin, decoded with grpc_status.rpc_status.from_call (C05, C06, C09)."""

import grpc
from google.protobuf import field_mask_pb2
from grpc_status import rpc_status

from cloud.image.v1 import image_pb2
from helpers import USER_IDS, Category, create, md, resource_names, rpc_error, unique, violations


def update(images, image, *paths):
    return images.UpdateImage(
        image_pb2.UpdateImageRequest(image=image, update_mask=field_mask_pb2.FieldMask(paths=list(paths))),
        metadata=md("alice"),
    )


def assert_readable(message):
    """No percent-escapes, no mojibake, no raw control characters (C05)."""
    assert message
    assert "%0A" not in message.upper() and "%C3" not in message.upper()
    assert "Ã" not in message and "\ufffd" not in message
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in message), repr(message)


def test_bad_name_field_violation(images):
    err = rpc_error(create, images, "alice", "bad/name*")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err) == ["image.name"]
    assert_readable(err.details())

    # Every offending field is named, not only the first.
    err = rpc_error(create, images, "alice", "", "bad\x07description")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sorted(violations(err)) == ["image.description", "image.name"]

    err = rpc_error(create, images, "alice", "n" * 129)
    assert violations(err) == ["image.name"]


def test_c05_control_and_non_ascii_name(images):
    x = create(images, "alice", unique("c05"), "keep")
    err = rpc_error(update, images, image_pb2.Image(id=x.id, name="bad\nname" + "é" * 300), "name")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert_readable(err.details())
    status = rpc_status.from_call(err)  # raises if code or message disagree with the call's
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert status.message == err.details()
    assert violations(err) == ["image.name"]
    got = images.GetImage(image_pb2.GetImageRequest(id=x.id), metadata=md("alice")).image
    assert got.name == x.name and got.description == "keep"


def test_c05_unicode_round_trip(images):
    # Names allow letters of any script, so this one is accepted and comes back byte for byte.
    name = unique("Ünïcødé 日本 (ß) façade")
    x = create(images, "alice", name)
    assert x.name == name
    # The C05 text with `%`, a check mark and an emoji is no valid name under DOMAIN.md's
    # name rule, but is a valid description.
    text = "Ünïcødé 100% ✓ 😀 日本"
    err = rpc_error(update, images, image_pb2.Image(id=x.id, name=text), "name")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert_readable(err.details())
    update(images, image_pb2.Image(id=x.id, description=text), "description")
    got = images.GetImage(image_pb2.GetImageRequest(id=x.id), metadata=md("alice")).image
    assert got.name == name and got.description == text
    assert got.description.encode() == text.encode()


def test_share_unknown_user_resource_info(images):
    x = create(images, "alice", unique("ghost"))
    err = rpc_error(
        images.ShareImage,
        image_pb2.ShareImageRequest(id=x.id, users=["carol", "ghost", "dave", "999999"]),
        metadata=md("alice"),
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "ghost" in err.details()
    infos = resource_names(err)
    assert ("cloud.image.v1.User", "ghost") in infos
    assert ("cloud.image.v1.User", "999999") in infos
    assert len(infos) == 2
    # All or nothing (C09): carol and dave were not added.
    got = images.GetImage(image_pb2.GetImageRequest(id=x.id), metadata=md("alice")).image
    assert got.member_count == 0 and got.category == Category.IMAGE_CATEGORY_OWN

    err = rpc_error(
        images.ShareImage, image_pb2.ShareImageRequest(id=x.id, users=["carol", ""]), metadata=md("alice")
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err) == ["users[1]"]

    err = rpc_error(
        images.ShareImage, image_pb2.ShareImageRequest(id=x.id, users=["alice"]), metadata=md("alice")
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT

    ok = images.ShareImage(
        image_pb2.ShareImageRequest(id=x.id, users=["carol", "dave", USER_IDS["dave"]]), metadata=md("alice")
    )
    assert sorted(m.username for m in ok.added) == ["carol", "dave"] and ok.member_count == 2


def test_c06_unknown_category(images):
    err = rpc_error(images.ListImages, image_pb2.ListImagesRequest(category=99), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err) == ["category"]
    err = rpc_error(images.ListImages, image_pb2.ListImagesRequest(category=-1), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unauthenticated_and_unknown_caller(images):
    err = rpc_error(images.ListImages, image_pb2.ListImagesRequest())
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    err = rpc_error(
        images.ListImages, image_pb2.ListImagesRequest(), metadata=(("authorization", "Bearer nope"),)
    )
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    # A valid token of a user the directory does not know.
    err = rpc_error(images.ListImages, image_pb2.ListImagesRequest(), metadata=md("nobody"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_user_service_admin_only(users):
    from cloud.image.v1 import user_pb2

    err = rpc_error(users.ListUsers, user_pb2.ListUsersRequest(), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = users.ListUsers(user_pb2.ListUsersRequest(page_size=1000), metadata=md("root")).users
    assert {u.username for u in listed} >= set(USER_IDS)
    new_id = unique("u")
    created = users.CreateUser(
        user_pb2.CreateUserRequest(user=user_pb2.User(id=new_id, username=new_id.upper())),
        metadata=md("root"),
    ).user
    assert created.id == new_id and not created.disabled
    err = rpc_error(
        users.CreateUser,
        user_pb2.CreateUserRequest(user=user_pb2.User(id=unique("u"), username=new_id.lower())),
        metadata=md("root"),
    )
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS

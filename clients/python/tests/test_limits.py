"""C04: message-size limits and gzip between grpcio and the tonic server."""

import time

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cloud.image.v1 import image_pb2
from helpers import Category, create, md, rpc_error, unique

MiB = 1024 * 1024
BULK_USER = "bulk"
BULK_COUNT = 3000
# 1024 characters (the description limit) of a two-byte character: 2 KiB of UTF-8 each.
BULK_DESCRIPTION = "é" * 1024


def test_gzip_get_and_list(images):
    x = create(images, "alice", unique("gz"), "compressed " * 50)
    got = images.GetImage(
        image_pb2.GetImageRequest(id=x.id), metadata=md("alice"), compression=grpc.Compression.Gzip
    ).image
    assert got == x
    listed = images.ListImages(
        image_pb2.ListImagesRequest(name_contains=x.name),
        metadata=md("alice"),
        compression=grpc.Compression.Gzip,
    )
    assert [i.id for i in listed.images] == [x.id]


def test_gzip_channel(addr):
    from cloud.image.v1 import image_pb2_grpc

    with grpc.insecure_channel(addr, compression=grpc.Compression.Gzip) as ch:
        stub = image_pb2_grpc.ImageServiceStub(ch)
        x = stub.CreateImage(
            image_pb2.CreateImageRequest(image=image_pb2.Image(name=unique("gzch"))), metadata=md("alice")
        ).image
        assert stub.GetImage(image_pb2.GetImageRequest(id=x.id), metadata=md("alice")).image.id == x.id


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_five_mib_description_refused(images, compression):
    x = create(images, "alice", unique("big"), "small")
    err = rpc_error(
        images.UpdateImage,
        image_pb2.UpdateImageRequest(
            image=image_pb2.Image(id=x.id, description="d" * (5 * MiB)),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
        metadata=md("alice"),
        compression=compression,
    )
    assert err.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT), (
        err.code(),
        err.details(),
    )
    # The server keeps serving and nothing was stored.
    got = images.GetImage(image_pb2.GetImageRequest(id=x.id), metadata=md("alice")).image
    assert got.description == "small"
    # Under the transport limit, the description rule answers.
    err = rpc_error(
        images.UpdateImage,
        image_pb2.UpdateImageRequest(
            image=image_pb2.Image(id=x.id, description="d" * 1025),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
        metadata=md("alice"),
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_description_over_limit_is_invalid(images):
    x = create(images, "alice", unique("desc"), "small")
    err = rpc_error(
        images.UpdateImage,
        image_pb2.UpdateImageRequest(
            image=image_pb2.Image(id=x.id, description="d" * 1025),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
        metadata=md("alice"),
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Exactly at the limit, in two-byte characters: accepted.
    ok = images.UpdateImage(
        image_pb2.UpdateImageRequest(
            image=image_pb2.Image(id=x.id, description=BULK_DESCRIPTION),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
        metadata=md("alice"),
    ).image
    assert ok.description == BULK_DESCRIPTION


@pytest.fixture(scope="module")
def bulk_images(images):
    """BULK_COUNT images of the bulk user, created with up to 64 calls in flight."""
    prefix = unique("bulk")
    started = time.monotonic()
    pending = []
    ids = []
    for n in range(BULK_COUNT):
        request = image_pb2.CreateImageRequest(
            image=image_pb2.Image(name=f"{prefix}-{n:05d}", description=BULK_DESCRIPTION)
        )
        pending.append(images.CreateImage.future(request, metadata=md(BULK_USER)))
        if len(pending) >= 64:
            ids.extend(f.result().image.id for f in pending)
            pending = []
    ids.extend(f.result().image.id for f in pending)
    print(f"created {len(ids)} images in {time.monotonic() - started:.1f}s")
    assert len(set(ids)) == BULK_COUNT
    return set(ids)


def test_default_page_stays_small(images, bulk_images):
    resp = images.ListImages(
        image_pb2.ListImagesRequest(category=Category.IMAGE_CATEGORY_OWN), metadata=md(BULK_USER)
    )
    assert len(resp.images) == 50
    assert resp.ByteSize() < 4 * MiB
    assert resp.next_page_token and resp.total_size == BULK_COUNT


def test_walk_pages_of_1000(images, bulk_images):
    seen = []
    token = ""
    pages = 0
    while True:
        resp = images.ListImages(
            image_pb2.ListImagesRequest(
                category=Category.IMAGE_CATEGORY_OWN, page_size=1000, page_token=token
            ),
            metadata=md(BULK_USER),
        )
        pages += 1
        assert resp.ByteSize() < 4 * MiB, resp.ByteSize()
        assert 0 < len(resp.images) <= 1000
        seen.extend(i.id for i in resp.images)
        token = resp.next_page_token
        if not token:
            break
        assert pages < 100
    assert len(seen) == BULK_COUNT and set(seen) == bulk_images


def test_page_size_too_large(images, bulk_images):
    for size in [1001, 1_000_000]:
        err = rpc_error(
            images.ListImages,
            image_pb2.ListImagesRequest(category=Category.IMAGE_CATEGORY_OWN, page_size=size),
            metadata=md(BULK_USER),
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, size
    err = rpc_error(images.ListImages, image_pb2.ListImagesRequest(page_size=-1), metadata=md(BULK_USER))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT

"""The console workflow end to end: create, list by tab, get, modify, clone, share, revoke,
members, tags and delete, as alice (a user), bob/carol (recipients) and root (an admin)."""

import grpc
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2

from cloud.image.v1 import image_pb2, tag_pb2
from helpers import (
    USER_IDS,
    Category,
    create,
    details_of,
    list_all,
    md,
    rpc_error,
    unique,
)

ATTRS = dict(
    disk_format=image_pb2.DISK_FORMAT_QCOW2,
    os_type=image_pb2.OS_TYPE_LINUX,
    os_distro="ubuntu",
    os_version="24.04",
    architecture=image_pb2.ARCHITECTURE_X86_64,
    size_bytes=2 * 1024**3,
    min_disk_gb=10,
    min_ram_mb=1024,
    checksum_sha256="ab" * 32,
)


def names_in(images, user, prefix, category=None):
    request = dict(name_contains=prefix, page_size=1000)
    if category is not None:
        request["category"] = category
    return sorted(i.name for i in list_all(images, user, **request))


def get(images, user, image_id):
    return images.GetImage(image_pb2.GetImageRequest(id=image_id), metadata=md(user)).image


def share(images, user, image_id, *who):
    return images.ShareImage(
        image_pb2.ShareImageRequest(id=image_id, users=list(who)), metadata=md(user)
    )


def test_create_and_list_by_category(images):
    p = unique("cat")
    system = create(images, "root", f"{p} sys", "platform image", system=True, **ATTRS)
    own = create(images, "alice", f"{p} own", "mine", **ATTRS)
    shared = create(images, "alice", f"{p} shared", "mine, shared")
    received = create(images, "bob", f"{p} received", "bob's, shared with alice")
    hidden = create(images, "bob", f"{p} hidden", "bob's, private")

    assert system.owner_id == "" and system.category == Category.IMAGE_CATEGORY_SYSTEM
    assert own.owner_id == "alice" and own.category == Category.IMAGE_CATEGORY_OWN
    assert own.status == image_pb2.IMAGE_STATUS_ACTIVE
    assert own.id and own.etag and own.create_time.seconds > 0

    share(images, "alice", shared.id, "bob")
    share(images, "bob", received.id, "alice")

    expect = {
        Category.IMAGE_CATEGORY_SYSTEM: [system.name],
        Category.IMAGE_CATEGORY_OWN: [own.name],
        Category.IMAGE_CATEGORY_SHARED: [shared.name],
        Category.IMAGE_CATEGORY_RECEIVED: [received.name],
    }
    for category, names in expect.items():
        found = list_all(images, "alice", category=category, name_contains=p)
        assert sorted(i.name for i in found) == names, Category.Name(category)
        assert all(i.category == category for i in found)

    # Unset and explicit UNSPECIFIED both mean every image visible to the caller.
    everything = sorted(n for names in expect.values() for n in names)
    assert names_in(images, "alice", p) == everything
    assert names_in(images, "alice", p, Category.IMAGE_CATEGORY_UNSPECIFIED) == everything
    assert hidden.name not in everything
    for image in list_all(images, "alice", name_contains=p):
        assert image.category != Category.IMAGE_CATEGORY_UNSPECIFIED
        assert image.status == image_pb2.IMAGE_STATUS_ACTIVE

    # The same images seen by bob: alice's shared one is RECEIVED, his own is SHARED.
    bob = {i.name: i.category for i in list_all(images, "bob", name_contains=p)}
    assert bob == {
        system.name: Category.IMAGE_CATEGORY_SYSTEM,
        shared.name: Category.IMAGE_CATEGORY_RECEIVED,
        received.name: Category.IMAGE_CATEGORY_SHARED,
        hidden.name: Category.IMAGE_CATEGORY_OWN,
    }

    # An image that is neither visible nor the caller's is NOT_FOUND, like an unused id.
    err = rpc_error(images.GetImage, image_pb2.GetImageRequest(id=hidden.id), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_list_order_and_paging(images):
    p = unique("page")
    for n in ["c", "a", "b"]:
        create(images, "alice", f"{p} {n}")
    by_name = images.ListImages(
        image_pb2.ListImagesRequest(name_contains=p, order_by="name", page_size=2),
        metadata=md("alice"),
    )
    assert [i.name for i in by_name.images] == [f"{p} a", f"{p} b"]
    assert by_name.total_size == 3 and by_name.next_page_token
    rest = images.ListImages(
        image_pb2.ListImagesRequest(
            name_contains=p, order_by="name", page_size=2, page_token=by_name.next_page_token
        ),
        metadata=md("alice"),
    )
    assert [i.name for i in rest.images] == [f"{p} c"] and rest.next_page_token == ""
    newest_first = list_all(images, "alice", name_contains=p)
    assert [i.name for i in newest_first] == [f"{p} b", f"{p} a", f"{p} c"]


def test_get_image(images):
    name = unique("get")
    created = create(images, "alice", name, "a description", **ATTRS)
    image = get(images, "alice", created.id)
    assert image == created
    assert image.name == name and image.description == "a description"
    assert image.disk_format == image_pb2.DISK_FORMAT_QCOW2
    assert image.checksum_sha256 == "ab" * 32 and image.min_ram_mb == 1024
    assert image.update_time.seconds >= image.create_time.seconds

    for bad_id, code in [("not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT),
                         ("00000000-0000-4000-8000-000000000000", grpc.StatusCode.NOT_FOUND)]:
        err = rpc_error(images.GetImage, image_pb2.GetImageRequest(id=bad_id), metadata=md("alice"))
        assert err.code() == code, bad_id


def test_modify_with_field_mask(images):
    """C07: rename keeps the description; an explicit empty description clears it."""
    x = create(images, "alice", unique("web"), "prod base")

    def update(image, paths, user="alice", etag=""):
        return images.UpdateImage(
            image_pb2.UpdateImageRequest(
                image=image, update_mask=field_mask_pb2.FieldMask(paths=paths), etag=etag
            ),
            metadata=md(user),
        ).image

    new_name = unique("web2")
    renamed = update(image_pb2.Image(id=x.id, name=new_name), ["name"])
    assert renamed.name == new_name and renamed.description == "prod base"
    assert get(images, "alice", x.id).description == "prod base"
    assert renamed.etag != x.etag

    cleared = update(image_pb2.Image(id=x.id), ["description"])
    assert cleared.description == "" and cleared.name == new_name
    assert get(images, "alice", x.id).description == ""

    # Names are stored trimmed.
    trimmed = update(image_pb2.Image(id=x.id, name=f"  {new_name}-t  "), ["name"])
    assert trimmed.name == f"{new_name}-t"

    before = get(images, "alice", x.id)
    # Neither field, and blank names: INVALID_ARGUMENT, nothing changes.
    for paths, name in [([], ""), (["name"], ""), (["name"], "   ")]:
        err = rpc_error(update, image_pb2.Image(id=x.id, name=name), paths)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (paths, name)
    err = rpc_error(update, image_pb2.Image(id=x.id, name="x"), ["owner_id"])
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert get(images, "alice", x.id) == before

    # A stale etag is ABORTED; the current one works.
    err = rpc_error(update, image_pb2.Image(id=x.id, description="d"), ["description"], etag=x.etag)
    assert err.code() == grpc.StatusCode.ABORTED
    ok = update(image_pb2.Image(id=x.id, description="d"), ["description"], etag=before.etag)
    assert ok.description == "d"

    # Only the owner (or an admin) may modify; a recipient may not.
    share(images, "alice", x.id, "bob")
    err = rpc_error(update, image_pb2.Image(id=x.id, description="bob"), ["description"], user="bob")
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    by_admin = update(image_pb2.Image(id=x.id, description="by admin"), ["description"], user="root")
    assert by_admin.description == "by admin"


def test_clone_count_3(images, tags):
    src = create(images, "alice", unique("src"), "cloned description", **ATTRS)
    tag = tags.CreateTag(
        tag_pb2.CreateTagRequest(tag=image_pb2.Tag(key=unique("k"), value="v")), metadata=md("alice")
    ).tag
    images.BindImageTags(image_pb2.BindImageTagsRequest(id=src.id, tag_ids=[tag.id]), metadata=md("alice"))
    share(images, "alice", src.id, "bob")

    base = unique("copy")
    resp = images.CloneImage(
        image_pb2.CloneImageRequest(id=src.id, name=base, count=3), metadata=md("alice")
    )
    assert [i.name for i in resp.images] == [f"{base}-1", f"{base}-2", f"{base}-3"]
    for copy in resp.images:
        assert copy.owner_id == "alice"
        assert copy.source_image_id == src.id
        assert copy.description == "cloned description"
        assert copy.os_distro == "ubuntu" and copy.size_bytes == src.size_bytes
        assert copy.category == Category.IMAGE_CATEGORY_OWN
        assert copy.member_count == 0 and list(copy.tags) == []
        assert get(images, "alice", copy.id) == copy

    # The same call again clashes on the names and creates nothing.
    err = rpc_error(
        images.CloneImage, image_pb2.CloneImageRequest(id=src.id, name=base, count=3), metadata=md("alice")
    )
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(list_all(images, "alice", name_contains=base)) == 3

    # A recipient may clone what was shared with them; the copy is theirs and unshared.
    single = images.CloneImage(
        image_pb2.CloneImageRequest(id=src.id, name=unique("bobs")), metadata=md("bob")
    ).images
    assert len(single) == 1 and single[0].owner_id == USER_IDS["bob"]

    for count in [-1, 11]:
        err = rpc_error(
            images.CloneImage,
            image_pb2.CloneImageRequest(id=src.id, name=unique("bad"), count=count),
            metadata=md("alice"),
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, count


def test_share_revoke_and_members(images):
    x = create(images, "alice", unique("shr"))
    # One recipient by username (any case), one by user id.
    resp = share(images, "alice", x.id, "Bob", USER_IDS["carol"])
    assert sorted(m.user_id for m in resp.added) == [USER_IDS["bob"], USER_IDS["carol"]]
    assert sorted(m.username for m in resp.added) == ["bob", "carol"]
    assert list(resp.already_members) == [] and resp.member_count == 2
    assert get(images, "alice", x.id).category == Category.IMAGE_CATEGORY_SHARED
    assert get(images, "alice", x.id).member_count == 2
    assert get(images, "bob", x.id).category == Category.IMAGE_CATEGORY_RECEIVED

    again = share(images, "alice", x.id, USER_IDS["bob"])
    assert list(again.added) == [] and [m.username for m in again.already_members] == ["bob"]
    assert again.member_count == 2

    members = images.ListImageMembers(image_pb2.ListImageMembersRequest(id=x.id), metadata=md("alice"))
    assert [m.username for m in members.members] == ["bob", "carol"]
    assert all(m.image_id == x.id and m.create_time.seconds > 0 for m in members.members)
    err = rpc_error(images.ListImageMembers, image_pb2.ListImageMembersRequest(id=x.id), metadata=md("bob"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED

    # The console's confirmation dialog: validate_only answers and changes nothing.
    preview = images.RevokeImageShares(
        image_pb2.RevokeImageSharesRequest(id=x.id, users=["bob"], validate_only=True),
        metadata=md("alice"),
    )
    assert [m.username for m in preview.revoked] == ["bob"] and preview.member_count == 1
    assert get(images, "alice", x.id).member_count == 2
    assert get(images, "bob", x.id).category == Category.IMAGE_CATEGORY_RECEIVED

    done = images.RevokeImageShares(
        image_pb2.RevokeImageSharesRequest(id=x.id, users=["bob"]), metadata=md("alice")
    )
    assert [m.user_id for m in done.revoked] == [USER_IDS["bob"]] and done.member_count == 1
    members = images.ListImageMembers(image_pb2.ListImageMembersRequest(id=x.id), metadata=md("alice"))
    assert [m.username for m in members.members] == ["carol"]
    err = rpc_error(images.GetImage, image_pb2.GetImageRequest(id=x.id), metadata=md("bob"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert x.id not in [i.id for i in list_all(images, "bob", category=Category.IMAGE_CATEGORY_RECEIVED)]

    # Revoking someone who is not a member is NOT_FOUND naming them.
    err = rpc_error(
        images.RevokeImageShares,
        image_pb2.RevokeImageSharesRequest(id=x.id, users=["dave"]),
        metadata=md("alice"),
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND

    # Last member gone: the image is OWN again.
    images.RevokeImageShares(
        image_pb2.RevokeImageSharesRequest(id=x.id, users=["carol"]), metadata=md("alice")
    )
    assert get(images, "alice", x.id).category == Category.IMAGE_CATEGORY_OWN
    err = rpc_error(
        images.RevokeImageShares,
        image_pb2.RevokeImageSharesRequest(id=x.id, users=["carol"]),
        metadata=md("alice"),
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_tags_bind_filter_unbind_delete(images, tags):
    def new_tag(key, value=""):
        return tags.CreateTag(
            tag_pb2.CreateTagRequest(tag=image_pb2.Tag(key=key, value=value)), metadata=md("alice")
        ).tag

    key = unique("env")
    t1, t2 = new_tag(key, "prod"), new_tag(key, "")
    assert t1.owner_id == "alice" and t1.key == key and t1.value == "prod"
    err = rpc_error(new_tag, key, "prod")
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS

    listed = [t.id for t in tags.ListTags(tag_pb2.ListTagsRequest(page_size=1000), metadata=md("alice")).tags]
    assert t1.id in listed and t2.id in listed

    a = create(images, "alice", unique("tag-a"))
    b = create(images, "alice", unique("tag-b"))

    def bind(image_id, *ids):
        return images.BindImageTags(
            image_pb2.BindImageTagsRequest(id=image_id, tag_ids=list(ids)), metadata=md("alice")
        ).image

    def unbind(image_id, *ids):
        return images.UnbindImageTags(
            image_pb2.UnbindImageTagsRequest(id=image_id, tag_ids=list(ids)), metadata=md("alice")
        ).image

    bound = bind(a.id, t1.id, t2.id, t1.id)
    assert sorted(t.id for t in bound.tags) == sorted([t1.id, t2.id])
    assert sorted(t.id for t in bind(a.id, t1.id).tags) == sorted([t1.id, t2.id])
    bind(b.id, t1.id)

    def filtered(*ids):
        return sorted(i.id for i in list_all(images, "alice", tag_ids=list(ids)))

    assert filtered(t1.id) == sorted([a.id, b.id])
    assert filtered(t1.id, t2.id) == [a.id]
    assert filtered(t2.id) == [a.id]

    after = unbind(a.id, t2.id)
    assert [t.id for t in after.tags] == [t1.id]
    assert filtered(t2.id) == []
    assert [t.id for t in unbind(a.id, t2.id).tags] == [t1.id]  # unbinding an unbound tag: no-op

    # A bound tag needs force to be deleted; force unbinds it everywhere.
    err = rpc_error(tags.DeleteTag, tag_pb2.DeleteTagRequest(id=t1.id), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    deleted = tags.DeleteTag(tag_pb2.DeleteTagRequest(id=t1.id, force=True), metadata=md("alice"))
    assert deleted.unbound_images == 2
    assert list(get(images, "alice", a.id).tags) == [] and list(get(images, "alice", b.id).tags) == []
    tags.DeleteTag(tag_pb2.DeleteTagRequest(id=t2.id), metadata=md("alice"))

    # Binding a deleted tag: NOT_FOUND naming it.
    err = rpc_error(bind, a.id, t1.id)
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert t1.id in [r.resource_name for r in details_of(err, error_details_pb2.ResourceInfo)]


def test_delete(images):
    own = create(images, "alice", unique("del-own"))
    deleted = images.DeleteImage(image_pb2.DeleteImageRequest(id=own.id), metadata=md("alice")).image
    assert deleted.id == own.id
    err = rpc_error(images.GetImage, image_pb2.GetImageRequest(id=own.id), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.NOT_FOUND

    shared = create(images, "alice", unique("del-shared"))
    share(images, "alice", shared.id, "bob", "carol")
    err = rpc_error(images.DeleteImage, image_pb2.DeleteImageRequest(id=shared.id), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "2" in err.details()
    assert details_of(err, error_details_pb2.PreconditionFailure)
    assert get(images, "bob", shared.id).category == Category.IMAGE_CATEGORY_RECEIVED

    # A recipient may not delete it.
    err = rpc_error(
        images.DeleteImage, image_pb2.DeleteImageRequest(id=shared.id, force=True), metadata=md("bob")
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED

    images.DeleteImage(image_pb2.DeleteImageRequest(id=shared.id, force=True), metadata=md("alice"))
    for user in ["alice", "bob"]:
        err = rpc_error(images.GetImage, image_pb2.GetImageRequest(id=shared.id), metadata=md(user))
        assert err.code() == grpc.StatusCode.NOT_FOUND

    # Protected images cannot be deleted until protection is turned off.
    prot = create(images, "alice", unique("del-prot"), protected=True)
    assert prot.protected
    err = rpc_error(images.DeleteImage, image_pb2.DeleteImageRequest(id=prot.id, force=True), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION

    # System images: admin only.
    system = create(images, "root", unique("del-sys"), system=True)
    err = rpc_error(images.DeleteImage, image_pb2.DeleteImageRequest(id=system.id), metadata=md("alice"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    images.DeleteImage(image_pb2.DeleteImageRequest(id=system.id), metadata=md("root"))

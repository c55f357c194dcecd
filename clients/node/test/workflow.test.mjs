// The console workflow through @grpc/grpc-js: create, list by tab, get, modify with a field
// mask, clone, share, revoke (preview, then for real), tags, delete, rich error details, gzip.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Status, call, callError, connect, detailsOf, richStatus, unique } from '../lib/client.mjs';

const CATEGORIES = [
  'IMAGE_CATEGORY_SYSTEM',
  'IMAGE_CATEGORY_OWN',
  'IMAGE_CATEGORY_SHARED',
  'IMAGE_CATEGORY_RECEIVED',
];

let c;
before(() => {
  c = connect();
});
after(() => c.close());

const create = async (user, name, description = '', system = false) =>
  (await call(c.images, 'CreateImage', { image: { name, description }, system }, user)).image;
const get = async (user, id) => (await call(c.images, 'GetImage', { id }, user)).image;
const listAll = async (user, request) => {
  const out = [];
  let page_token = '';
  do {
    const res = await call(c.images, 'ListImages', { ...request, page_token }, user);
    out.push(...res.images);
    page_token = res.next_page_token;
  } while (page_token);
  return out;
};
const update = (user, image, paths) =>
  call(c.images, 'UpdateImage', { image, update_mask: { paths } }, user);

describe('image workflow', () => {
  const p = unique('node');
  const img = {};

  test('create system, own, shared and received images', async () => {
    img.system = await create('root', `${p} sys`, 'platform', true);
    img.own = await create('alice', `${p} own`, 'prod base');
    img.shared = await create('alice', `${p} shared`, 'to share');
    img.received = await create('bob', `${p} received`, "bob's");
    assert.equal(img.system.owner_id, '');
    assert.equal(img.system.category, 'IMAGE_CATEGORY_SYSTEM');
    assert.equal(img.own.owner_id, 'alice');
    assert.equal(img.own.category, 'IMAGE_CATEGORY_OWN');
    assert.equal(img.own.status, 'IMAGE_STATUS_ACTIVE');
    assert.ok(Number(img.own.create_time.seconds) > 0);
    await call(c.images, 'ShareImage', { id: img.shared.id, users: ['bob'] }, 'alice');
    await call(c.images, 'ShareImage', { id: img.received.id, users: ['alice'] }, 'bob');
  });

  test('list by each category and unset', async () => {
    const expected = {
      IMAGE_CATEGORY_SYSTEM: img.system.id,
      IMAGE_CATEGORY_OWN: img.own.id,
      IMAGE_CATEGORY_SHARED: img.shared.id,
      IMAGE_CATEGORY_RECEIVED: img.received.id,
    };
    for (const category of CATEGORIES) {
      const found = await listAll('alice', { category, name_contains: p });
      assert.deepEqual(found.map((i) => i.id), [expected[category]], category);
      assert.equal(found[0].category, category);
    }
    const all = await listAll('alice', { name_contains: p });
    assert.deepEqual(all.map((i) => i.id).sort(), Object.values(expected).sort());
    assert.ok(all.every((i) => CATEGORIES.includes(i.category)));
    const unspecified = await listAll('alice', { name_contains: p, category: 'IMAGE_CATEGORY_UNSPECIFIED' });
    assert.equal(unspecified.length, 4);
  });

  test('a category that is no category is INVALID_ARGUMENT', async () => {
    const err = await callError(c.images, 'ListImages', { category: 99 }, 'alice');
    assert.equal(err.code, Status.INVALID_ARGUMENT);
    const [bad] = detailsOf(err, 'google.rpc.BadRequest');
    assert.deepEqual(bad.field_violations.map((v) => v.field), ['category']);
  });

  test('get', async () => {
    const got = await get('alice', img.own.id);
    assert.equal(got.name, `${p} own`);
    assert.equal(got.description, 'prod base');
    assert.equal(got.etag, img.own.etag);
    const err = await callError(c.images, 'GetImage', { id: img.own.id }, 'carol');
    assert.equal(err.code, Status.NOT_FOUND);
  });

  test('modify with a field mask: rename keeps the description, then clear it', async () => {
    const { image: renamed } = await update('alice', { id: img.own.id, name: `${p} own2` }, ['name']);
    assert.equal(renamed.name, `${p} own2`);
    assert.equal(renamed.description, 'prod base');
    const { image: cleared } = await update('alice', { id: img.own.id }, ['description']);
    assert.equal(cleared.description, '');
    assert.equal(cleared.name, `${p} own2`);
    const got = await get('alice', img.own.id);
    assert.equal(got.description, '');
    const err = await callError(c.images, 'UpdateImage', { image: { id: img.own.id }, update_mask: { paths: [] } }, 'alice');
    assert.equal(err.code, Status.INVALID_ARGUMENT);
  });

  test('a bad name carries a BadRequest naming image.name, readable in err.details', async () => {
    const err = await callError(
      c.images,
      'UpdateImage',
      { image: { id: img.own.id, name: 'bad\nname' + 'é'.repeat(300) }, update_mask: { paths: ['name'] } },
      'alice',
    );
    assert.equal(err.code, Status.INVALID_ARGUMENT);
    assert.doesNotMatch(err.details, /%[0-9A-F]{2}|Ã|[\u0000-\u001f]/);
    const status = richStatus(err);
    assert.equal(status.code, err.code);
    assert.equal(status.message, err.details);
    const [bad] = detailsOf(err, 'google.rpc.BadRequest');
    assert.deepEqual(bad.field_violations.map((v) => v.field), ['image.name']);
    assert.equal((await get('alice', img.own.id)).name, `${p} own2`);
  });

  test('clone with count 3', async () => {
    const base = unique('ncopy');
    const { images } = await call(c.images, 'CloneImage', { id: img.shared.id, name: base, count: 3 }, 'alice');
    assert.deepEqual(images.map((i) => i.name), [1, 2, 3].map((n) => `${base}-${n}`));
    for (const copy of images) {
      assert.equal(copy.source_image_id, img.shared.id);
      assert.equal(copy.owner_id, 'alice');
      assert.equal(copy.description, 'to share');
      assert.equal(copy.member_count, 0);
      assert.equal(copy.category, 'IMAGE_CATEGORY_OWN');
    }
  });

  test('share by username and by id, revoke with a preview, list members', async () => {
    const x = await create('alice', unique('nshare'));
    const shared = await call(c.images, 'ShareImage', { id: x.id, users: ['carol', 'u-dave'] }, 'alice');
    assert.deepEqual(shared.added.map((m) => m.username).sort(), ['carol', 'dave']);
    assert.equal(shared.member_count, 2);

    const unknown = await callError(c.images, 'ShareImage', { id: x.id, users: ['ghost'] }, 'alice');
    assert.equal(unknown.code, Status.NOT_FOUND);
    assert.deepEqual(detailsOf(unknown, 'google.rpc.ResourceInfo').map((r) => r.resource_name), ['ghost']);

    const preview = await call(c.images, 'RevokeImageShares', { id: x.id, users: ['carol'], validate_only: true }, 'alice');
    assert.deepEqual(preview.revoked.map((m) => m.username), ['carol']);
    assert.equal(preview.member_count, 1);
    let members = await call(c.images, 'ListImageMembers', { id: x.id }, 'alice');
    assert.equal(members.members.length, 2);

    const revoked = await call(c.images, 'RevokeImageShares', { id: x.id, users: ['carol'] }, 'alice');
    assert.deepEqual(revoked.revoked.map((m) => m.user_id), ['u-carol']);
    members = await call(c.images, 'ListImageMembers', { id: x.id }, 'alice');
    assert.deepEqual(members.members.map((m) => m.username), ['dave']);
    assert.equal((await callError(c.images, 'GetImage', { id: x.id }, 'carol')).code, Status.NOT_FOUND);
    assert.equal((await get('dave', x.id)).category, 'IMAGE_CATEGORY_RECEIVED');
  });

  test('tags: bind, filter ListImages by tag_ids, unbind, delete with force', async () => {
    const key = unique('nenv');
    const { tag: t1 } = await call(c.tags, 'CreateTag', { tag: { key, value: 'prod' } }, 'alice');
    const { tag: t2 } = await call(c.tags, 'CreateTag', { tag: { key, value: 'test' } }, 'alice');
    const { image: bound } = await call(c.images, 'BindImageTags', { id: img.shared.id, tag_ids: [t1.id, t2.id] }, 'alice');
    assert.deepEqual(bound.tags.map((t) => t.id).sort(), [t1.id, t2.id].sort());
    assert.deepEqual((await listAll('alice', { tag_ids: [t1.id] })).map((i) => i.id), [img.shared.id]);
    assert.deepEqual((await listAll('alice', { tag_ids: [t1.id, t2.id] })).map((i) => i.id), [img.shared.id]);
    const { image: unbound } = await call(c.images, 'UnbindImageTags', { id: img.shared.id, tag_ids: [t2.id] }, 'alice');
    assert.deepEqual(unbound.tags.map((t) => t.id), [t1.id]);
    assert.deepEqual(await listAll('alice', { tag_ids: [t2.id] }), []);
    const busy = await callError(c.tags, 'DeleteTag', { id: t1.id }, 'alice');
    assert.equal(busy.code, Status.FAILED_PRECONDITION);
    const deleted = await call(c.tags, 'DeleteTag', { id: t1.id, force: true }, 'alice');
    assert.equal(deleted.unbound_images, 1);
    assert.deepEqual((await get('alice', img.shared.id)).tags, []);
  });

  test('delete: a shared image needs force', async () => {
    const err = await callError(c.images, 'DeleteImage', { id: img.shared.id }, 'alice');
    assert.equal(err.code, Status.FAILED_PRECONDITION);
    assert.ok(detailsOf(err, 'google.rpc.PreconditionFailure').length > 0);
    await call(c.images, 'DeleteImage', { id: img.shared.id, force: true }, 'alice');
    assert.equal((await callError(c.images, 'GetImage', { id: img.shared.id }, 'bob')).code, Status.NOT_FOUND);
    await call(c.images, 'DeleteImage', { id: img.own.id }, 'alice');
    assert.equal((await callError(c.images, 'GetImage', { id: img.own.id }, 'alice')).code, Status.NOT_FOUND);
  });

  test('page_size above the maximum is INVALID_ARGUMENT', async () => {
    const err = await callError(c.images, 'ListImages', { page_size: 1000000 }, 'alice');
    assert.equal(err.code, Status.INVALID_ARGUMENT);
  });
});

describe('gzip', () => {
  test('GetImage and ListImages with grpc.default_compression_algorithm = 2 (gzip)', async () => {
    const gz = connect({ 'grpc.default_compression_algorithm': 2 });
    try {
      const name = unique('ngz');
      const created = (
        await call(gz.images, 'CreateImage', { image: { name, description: 'zip '.repeat(200) } }, 'alice')
      ).image;
      const got = (await call(gz.images, 'GetImage', { id: created.id }, 'alice')).image;
      assert.equal(got.description, 'zip '.repeat(200));
      const listed = await call(gz.images, 'ListImages', { name_contains: name }, 'alice');
      assert.deepEqual(listed.images.map((i) => i.id), [created.id]);
    } finally {
      gz.close();
    }
  });
});

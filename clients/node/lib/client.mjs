// Clients for the image service, built at run time from ../../proto with @grpc/proto-loader
// (nothing generated is committed), plus a decoder for google.rpc.Status error details.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoRoot = path.resolve(here, '../../../proto');
const rpcProtoRoot = path.resolve(here, '../proto');

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite through run.sh`);
  return value;
}

export const addr = () => env('IMAGE_SERVICE_ADDR');

const definition = protoLoader.loadSync(
  ['cloud/image/v1/image.proto', 'cloud/image/v1/tag.proto', 'cloud/image/v1/user.proto'],
  { includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
);
const pkg = grpc.loadPackageDefinition(definition).cloud.image.v1;

/** Clients of the three services over one channel with `options` (grpc-js channel options). */
export function connect(options = {}) {
  const creds = grpc.credentials.createInsecure();
  const images = new pkg.ImageService(addr(), creds, options);
  const channelOverride = images.getChannel();
  return {
    images,
    tags: new pkg.TagService(addr(), creds, { ...options, channelOverride }),
    users: new pkg.UserService(addr(), creds, { ...options, channelOverride }),
    close: () => images.close(),
  };
}

/** Metadata with the bearer token of `user` (a username). */
export function md(user) {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${env(`TOKEN_${user.toUpperCase()}`)}`);
  return m;
}

/** Calls a unary method and resolves with its response (rejects with the grpc-js error). */
export function call(client, method, request, user) {
  return new Promise((resolve, reject) => {
    client[method](request, md(user), { deadline: Date.now() + 30_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The error a unary call must fail with. */
export async function callError(client, method, request, user) {
  try {
    await call(client, method, request, user);
  } catch (err) {
    return err;
  }
  throw new Error(`${method} succeeded, an error was expected`);
}

export const unique = (prefix = 'img') => `${prefix}-${randomUUID().slice(0, 8)}`;

export const Status = grpc.status;

const rpcRoot = new protobuf.Root();
rpcRoot.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : path.join(rpcProtoRoot, target);
rpcRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const StatusMessage = rpcRoot.lookupType('google.rpc.Status');

/**
 * Decodes the google.rpc.Status in the `grpc-status-details-bin` trailer of a grpc-js error:
 * { code, message, details: [{ type: 'google.rpc.BadRequest', value: {...} }, ...] }.
 */
export function richStatus(err) {
  const [bin] = err.metadata?.get('grpc-status-details-bin') ?? [];
  if (!bin) return null;
  const status = StatusMessage.toObject(StatusMessage.decode(bin), { defaults: true });
  status.details = status.details.map((any) => {
    const type = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const messageType = rpcRoot.lookupType(type);
    return { type, value: messageType.toObject(messageType.decode(any.value), { defaults: true }) };
  });
  return status;
}

/** The details of type `type` (e.g. 'google.rpc.BadRequest') of an error. */
export function detailsOf(err, type) {
  const status = richStatus(err);
  if (!status) throw new Error(`no grpc-status-details-bin in ${err.code} ${err.details}`);
  return status.details.filter((d) => d.type === type).map((d) => d.value);
}

/**
 * Loading the wire contract at runtime: one `@grpc/proto-loader` package definition of every
 * .proto file under the repo's `proto/` directory, cached for the life of the process, and the
 * typed gRPC objects built from it (service definitions for servers, client constructors).
 *
 * The loader options below are the contract's JavaScript conventions and must match the flags
 * tools/gen-proto.mjs passes to `proto-loader-gen-types` (which generates the types used here):
 * - field names in lowerCamelCase (`region_id` -> `regionId`; the wire format is unaffected);
 * - 64-bit integers as decimal strings on output (any of number | string | Long on input);
 * - enums as their value names on output (name or number on input);
 * - defaults filled in on output (scalars get their zero value, message fields `null`);
 * - a virtual property naming the present field of each oneof (`cmd: 'RawGet'`).
 *
 * Nothing is loaded at import time; the first call pays the parse (tens of milliseconds).
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as TikvpbGrpcType } from './generated/tikvpb.js';
import type { ProtoGrpcType as PdpbGrpcType } from './generated/pdpb.js';
import type { ProtoGrpcType as RaftcmdGrpcType } from './generated/raftcmd.js';
import type { ProtoGrpcType as PdadminGrpcType } from './generated/pdadmin.js';
import type { PdAdminClient, PdAdminDefinition } from './generated/mrkv/pdadmin/PdAdmin.js';
import type { TikvClient, TikvDefinition } from './generated/tikvpb/Tikv.js';
import type { PDClient, PDDefinition } from './generated/pdpb/PD.js';

/** Conversion options shared by the gRPC loader and the direct codecs (codec.ts). */
export const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies protoLoader.Options;

/**
 * Every package of the contract as typed by the generated code: `kvrpcpb.RawGetRequest`,
 * `tikvpb.Tikv` (a client constructor with `.service`), `pdpb.PD`, `mrkv.raftcmd.RaftCmdRequest`, ...
 */
export type MrkvGrpcObject = TikvpbGrpcType & PdpbGrpcType & RaftcmdGrpcType & PdadminGrpcType;

let cachedDir: string | undefined;
let cachedFiles: readonly string[] | undefined;
let cachedDefinition: protoLoader.PackageDefinition | undefined;
let cachedGrpcObject: MrkvGrpcObject | undefined;

/**
 * Absolute path of the repo's `proto/` directory. Found relative to this module, which sits at the
 * same depth in `src/` and in `dist/`.
 */
export function protoDir(): string {
  cachedDir ??= fileURLToPath(new URL('../../../proto/', import.meta.url));
  return cachedDir;
}

/** The contract's .proto files, relative to {@link protoDir} with `/` separators, sorted. */
export function protoFiles(): readonly string[] {
  if (cachedFiles === undefined) {
    const base = protoDir();
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = join(dir, e.name);
        if (e.isDirectory()) return walk(full);
        return e.isFile() && e.name.endsWith('.proto') ? [relative(base, full).split(sep).join('/')] : [];
      });
    cachedFiles = Object.freeze(walk(base).sort());
  }
  return cachedFiles;
}

/** The proto-loader package definition of the whole contract (cached). */
export function loadProtos(): protoLoader.PackageDefinition {
  cachedDefinition ??= protoLoader.loadSync([...protoFiles()], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return cachedDefinition;
}

/** The typed gRPC object tree of the contract (cached). */
export function loadGrpcObject(): MrkvGrpcObject {
  cachedGrpcObject ??= grpc.loadPackageDefinition(loadProtos()) as unknown as MrkvGrpcObject;
  return cachedGrpcObject;
}

/** Service definition of `tikvpb.Tikv`, for `server.addService(tikvService(), handlers)`. */
export function tikvService(): TikvDefinition {
  return loadGrpcObject().tikvpb.Tikv.service;
}

/** Service definition of `pdpb.PD`, for `server.addService(pdService(), handlers)`. */
export function pdService(): PDDefinition {
  return loadGrpcObject().pdpb.PD.service;
}

/** Options for {@link createTikvClient} and {@link createPdClient}. */
export interface ClientOptions {
  /** Defaults to insecure (plaintext) credentials. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Channel options, e.g. `grpc.max_receive_message_length` for large raft batches. */
  readonly channelOptions?: grpc.ChannelOptions;
}

/** A `tikvpb.Tikv` client for `host:port`. Close it with `client.close()`. */
export function createTikvClient(address: string, options: ClientOptions = {}): TikvClient {
  const Ctor = loadGrpcObject().tikvpb.Tikv;
  return new Ctor(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
}

/** A `pdpb.PD` client for `host:port`. Close it with `client.close()`. */
export function createPdClient(address: string, options: ClientOptions = {}): PDClient {
  const Ctor = loadGrpcObject().pdpb.PD;
  return new Ctor(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
}

/** Service definition of mrkv's PD admin service (`mrkv.pdadmin.PdAdmin`, used by mrkv-ctl). */
export function pdAdminService(): PdAdminDefinition {
  return loadGrpcObject().mrkv.pdadmin.PdAdmin.service;
}

/** A `mrkv.pdadmin.PdAdmin` client for `host:port`. Close it with `client.close()`. */
export function createPdAdminClient(address: string, options: ClientOptions = {}): PdAdminClient {
  const Ctor = loadGrpcObject().mrkv.pdadmin.PdAdmin;
  return new Ctor(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
}

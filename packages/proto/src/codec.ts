/**
 * Direct encoding and decoding of contract messages, outside gRPC: raft commands in entry data,
 * local states in the engines, raft messages in tests and tools.
 *
 * The codecs are the very serializers gRPC uses (the proto-loader package definition of load.ts),
 * so a message encoded here is byte-identical to one sent over the wire, and decoding yields the
 * same plain-object shape (camelCase fields, 64-bit integers as strings, enums as names, defaults
 * filled in). Message names are fully qualified (`raft_serverpb.RaftMessage`,
 * `mrkv.raftcmd.RaftCmdRequest`) and typed from the generated code, so a typo is a compile error.
 *
 * Decoding untrusted bytes never throws anything but a {@link ProtoError}: `KV:Proto:Malformed`
 * for bytes that are not the message, `KV:Proto:InvalidMessage` for an object that cannot be
 * encoded.
 */
import { isAbsolute, join } from 'node:path';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { loadProtos, protoDir, protoFiles, type MrkvGrpcObject } from './load.js';
import { ProtoCodes, ProtoError } from './errors.js';
import type { Entry, Entry__Output } from './generated/eraftpb/Entry.js';
import type { RaftMessage, RaftMessage__Output } from './generated/raft_serverpb/RaftMessage.js';
import type { RaftLocalState, RaftLocalState__Output } from './generated/raft_serverpb/RaftLocalState.js';
import type { RaftApplyState, RaftApplyState__Output } from './generated/raft_serverpb/RaftApplyState.js';
import type { RegionLocalState, RegionLocalState__Output } from './generated/raft_serverpb/RegionLocalState.js';
import type { StoreIdent, StoreIdent__Output } from './generated/raft_serverpb/StoreIdent.js';
import type { RaftCmdRequest, RaftCmdRequest__Output } from './generated/mrkv/raftcmd/RaftCmdRequest.js';
import type { RaftCmdResponse, RaftCmdResponse__Output } from './generated/mrkv/raftcmd/RaftCmdResponse.js';

type IsService<T> = T extends { service: unknown } ? true : false;

/** Fully qualified names of every message type in {@link MrkvGrpcObject}, computed from its type. */
type MessageNames<T, P extends string = ''> = {
  [K in keyof T & string]: IsService<T[K]> extends true
    ? never
    : T[K] extends EnumTypeDefinition
      ? never
      : T[K] extends { format: 'Protocol Buffer 3 DescriptorProto' }
        ? `${P}${K}`
        : MessageNames<T[K], `${P}${K}.`>;
}[keyof T & string];

type Lookup<T, N extends string> = N extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? Lookup<T[H], R>
    : never
  : N extends keyof T
    ? T[N]
    : never;

/** A fully qualified message name of the contract, e.g. `'kvrpcpb.RawGetRequest'`. */
export type MessageName = MessageNames<MrkvGrpcObject>;

/** The object accepted when encoding message `N` (all fields optional; ints as number | string | Long). */
export type MessageInput<N extends MessageName> =
  Lookup<MrkvGrpcObject, N> extends MessageTypeDefinition<infer I, infer _O> ? I : never;

/** The object produced when decoding message `N` (defaults filled in; 64-bit ints as strings). */
export type MessageOutput<N extends MessageName> =
  Lookup<MrkvGrpcObject, N> extends MessageTypeDefinition<infer _I, infer O> ? O : never;

type AnyMessageDefinition = MessageTypeDefinition<object, object>;

function messageDefinition(typeName: string): AnyMessageDefinition {
  const def = loadProtos()[typeName];
  if (def === undefined || (def as { format?: unknown }).format !== 'Protocol Buffer 3 DescriptorProto') {
    throw new ProtoError(ProtoCodes.UNKNOWN_TYPE, `no message type ${typeName} in the mrkv contract`, {
      details: { typeName },
    });
  }
  return def as AnyMessageDefinition;
}

/** Encodes `message` as protobuf bytes of type `typeName`. */
export function encodeMessage<N extends MessageName>(typeName: N, message: MessageInput<N>): Uint8Array {
  return encodeByName(typeName, message as object);
}

/** Decodes protobuf bytes of type `typeName`. Throws `KV:Proto:Malformed` on bad bytes. */
export function decodeMessage<N extends MessageName>(typeName: N, bytes: Uint8Array): MessageOutput<N> {
  return decodeByName(typeName, bytes) as MessageOutput<N>;
}

/** Untyped {@link encodeMessage} for tools that pick the type at runtime. */
export function encodeByName(typeName: string, message: object): Uint8Array {
  const def = messageDefinition(typeName);
  try {
    return def.serialize(message);
  } catch (cause) {
    throw new ProtoError(ProtoCodes.INVALID_MESSAGE, `cannot encode ${typeName}: ${errorText(cause)}`, {
      cause,
      details: { typeName },
    });
  }
}

/** Untyped {@link decodeMessage} for tools that pick the type at runtime. */
export function decodeByName(typeName: string, bytes: Uint8Array): object {
  const def = messageDefinition(typeName);
  try {
    // proto-loader's deserializer is typed for Buffer but only needs a Uint8Array.
    return def.deserialize(bytes as Buffer);
  } catch (cause) {
    throw new ProtoError(
      ProtoCodes.MALFORMED_MESSAGE,
      `malformed ${typeName} (${bytes.byteLength} bytes): ${errorText(cause)}`,
      { cause, details: { typeName, length: bytes.byteLength } },
    );
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- Typed shorthands for the messages the store encodes on its hot paths ----

/** The raft command in a normal entry's data (mrkv's encoding, modelled on raft_cmdpb). */
export function encodeRaftCmdRequest(m: RaftCmdRequest): Uint8Array {
  return encodeByName('mrkv.raftcmd.RaftCmdRequest', m);
}
export function decodeRaftCmdRequest(bytes: Uint8Array): RaftCmdRequest__Output {
  return decodeByName('mrkv.raftcmd.RaftCmdRequest', bytes) as RaftCmdRequest__Output;
}
export function encodeRaftCmdResponse(m: RaftCmdResponse): Uint8Array {
  return encodeByName('mrkv.raftcmd.RaftCmdResponse', m);
}
export function decodeRaftCmdResponse(bytes: Uint8Array): RaftCmdResponse__Output {
  return decodeByName('mrkv.raftcmd.RaftCmdResponse', bytes) as RaftCmdResponse__Output;
}

/** Raft log entries as stored in the raft engine. */
export function encodeEntry(m: Entry): Uint8Array {
  return encodeByName('eraftpb.Entry', m);
}
export function decodeEntry(bytes: Uint8Array): Entry__Output {
  return decodeByName('eraftpb.Entry', bytes) as Entry__Output;
}

/** Store-to-store raft messages. */
export function encodeRaftMessage(m: RaftMessage): Uint8Array {
  return encodeByName('raft_serverpb.RaftMessage', m);
}
export function decodeRaftMessage(bytes: Uint8Array): RaftMessage__Output {
  return decodeByName('raft_serverpb.RaftMessage', bytes) as RaftMessage__Output;
}

/** Per-region hard state and last index (raft engine). */
export function encodeRaftLocalState(m: RaftLocalState): Uint8Array {
  return encodeByName('raft_serverpb.RaftLocalState', m);
}
export function decodeRaftLocalState(bytes: Uint8Array): RaftLocalState__Output {
  return decodeByName('raft_serverpb.RaftLocalState', bytes) as RaftLocalState__Output;
}

/** Per-region applied index and truncated state (kv engine, written with the data). */
export function encodeRaftApplyState(m: RaftApplyState): Uint8Array {
  return encodeByName('raft_serverpb.RaftApplyState', m);
}
export function decodeRaftApplyState(bytes: Uint8Array): RaftApplyState__Output {
  return decodeByName('raft_serverpb.RaftApplyState', bytes) as RaftApplyState__Output;
}

/** Per-region metadata and lifecycle state (kv engine). */
export function encodeRegionLocalState(m: RegionLocalState): Uint8Array {
  return encodeByName('raft_serverpb.RegionLocalState', m);
}
export function decodeRegionLocalState(bytes: Uint8Array): RegionLocalState__Output {
  return decodeByName('raft_serverpb.RegionLocalState', bytes) as RegionLocalState__Output;
}

/** The store's identity (cluster id, store id), written once at bootstrap. */
export function encodeStoreIdent(m: StoreIdent): Uint8Array {
  return encodeByName('raft_serverpb.StoreIdent', m);
}
export function decodeStoreIdent(bytes: Uint8Array): StoreIdent__Output {
  return decodeByName('raft_serverpb.StoreIdent', bytes) as StoreIdent__Output;
}

// ---- Reflection ----

const cachedRoots = new Map<boolean, protobuf.Root>();

/**
 * A protobufjs `Root` of the whole contract, for reflection (field tables, JSON dumps, building
 * modified types in tests). Loaded on first use, separately from the gRPC loader. Field names are
 * camelCased as in the loader, unless `keepCase` asks for the names as written in the .proto files
 * (kvproto's snake_case).
 */
export function protobufRoot(options: { keepCase?: boolean } = {}): protobuf.Root {
  const keepCase = options.keepCase ?? false;
  let root = cachedRoots.get(keepCase);
  if (root === undefined) {
    root = new protobuf.Root();
    const dir = protoDir();
    root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(dir, target));
    root.loadSync([...protoFiles()], { keepCase });
    root.resolveAll();
    cachedRoots.set(keepCase, root);
  }
  return root;
}

/**
 * The compatibility test: the loaded wire contract (protobufjs reflection of proto/, and the
 * proto-loader definitions gRPC uses) must match the pinned kvproto tables field by field, and
 * every message reachable from the served methods must be pinned.
 */
import { describe, it, expect } from 'vitest';
import protobuf from 'protobufjs';
import { loadProtos, protobufRoot } from './index.js';
import { ENUMS, MESSAGES, SERVICES } from './__tests__/kvproto-contract.js';

const root = protobufRoot({ keepCase: true });

/** The table notation of a reflected field (see kvproto-contract.ts). */
function fieldSpec(f: protobuf.Field): string {
  const type = f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type;
  const oneof = f.partOf ? ` oneof:${f.partOf.name}` : '';
  if (f instanceof protobuf.MapField) return `${f.id} ${f.name} map<${f.keyType},${type}>${oneof}`;
  return `${f.id} ${f.name} ${f.repeated ? 'rep ' : ''}${type}${oneof}`;
}

function collect(ns: protobuf.NamespaceBase, out: { types: protobuf.Type[]; enums: protobuf.Enum[]; services: protobuf.Service[] }) {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type) out.types.push(obj);
    else if (obj instanceof protobuf.Enum) out.enums.push(obj);
    else if (obj instanceof protobuf.Service) out.services.push(obj);
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) collect(obj, out);
  }
  return out;
}

const nameOf = (o: protobuf.ReflectionObject) => o.fullName.slice(1);
/** mrkv's PD admin API (mrkv-ctl ↔ mrkv-pd) is no part of the kvproto contract; services/pd tests it. */
const notPinned = (o: protobuf.ReflectionObject) => !nameOf(o).startsWith('mrkv.pdadmin.');
const all = collect(root, { types: [], enums: [], services: [] });
const loaded = { types: all.types.filter(notPinned), enums: all.enums.filter(notPinned), services: all.services.filter(notPinned) };

const PACKAGES = ['tikvpb', 'kvrpcpb', 'metapb', 'errorpb', 'pdpb', 'eraftpb', 'raft_serverpb', 'disk_usage', 'mrkv.raftcmd'];

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  oneofDecl: { name: string }[];
}

/** The proto-loader (gRPC) descriptor of a message, including nested ones like `A.B`. */
function loaderDescriptor(fullName: string): MessageDescriptor {
  const def = loadProtos();
  const parts = fullName.split('.');
  for (let cut = parts.length; cut > 0; cut--) {
    const top = def[parts.slice(0, cut).join('.')] as { format?: string; type?: MessageDescriptor } | undefined;
    if (top?.format !== 'Protocol Buffer 3 DescriptorProto') continue;
    let desc = top.type!;
    for (const nested of parts.slice(cut)) {
      const next = desc.nestedType.find((n) => n.name === nested);
      if (next === undefined) throw new Error(`no nested type ${nested} in ${fullName}`);
      desc = next;
    }
    return desc;
  }
  throw new Error(`no proto-loader definition for ${fullName}`);
}

const SCALAR_TYPES: Record<string, string> = {
  double: 'TYPE_DOUBLE', float: 'TYPE_FLOAT', int64: 'TYPE_INT64', uint64: 'TYPE_UINT64', int32: 'TYPE_INT32',
  uint32: 'TYPE_UINT32', fixed64: 'TYPE_FIXED64', fixed32: 'TYPE_FIXED32', bool: 'TYPE_BOOL', string: 'TYPE_STRING',
  bytes: 'TYPE_BYTES', sint32: 'TYPE_SINT32', sint64: 'TYPE_SINT64', sfixed32: 'TYPE_SFIXED32', sfixed64: 'TYPE_SFIXED64',
};

/** Parses one pinned field: `<n> <name> [rep ]<type>[ oneof:<o>]`. */
function parseField(spec: string) {
  const m = /^(\d+) (\w+) (rep )?(map<\w+,[\w.]+>|[\w.]+)( oneof:(\w+))?$/.exec(spec);
  if (m === null) throw new Error(`bad table entry: ${spec}`);
  return { number: Number(m[1]), name: m[2]!, repeated: m[3] !== undefined || m[4]!.startsWith('map<'), type: m[4]!, oneof: m[6] };
}

/** protobufjs/proto-loader camelCase: `region_id` -> `regionId`; other names unchanged. */
const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

describe('compatibility with kvproto: messages', () => {
  it('pins every message of the loaded contract, and nothing more', () => {
    const loadedNames = loaded.types.filter((t) => !t.options?.map_entry).map(nameOf).sort();
    expect(loadedNames).toEqual(Object.keys(MESSAGES).sort());
    for (const name of loadedNames) expect(PACKAGES.some((p) => name.startsWith(`${p}.`)), name).toBe(true);
  });

  it.each(Object.entries(MESSAGES))('%s has exactly the pinned fields (protobufjs)', (name, fields) => {
    const type = root.lookupType(name);
    expect([...type.fieldsArray].sort((a, b) => a.id - b.id).map(fieldSpec)).toEqual(fields);
  });

  it.each(Object.entries(MESSAGES))('%s agrees with the gRPC loader descriptor', (name, fields) => {
    const desc = loaderDescriptor(name);
    expect(desc.field.map((f) => f.number).sort((a, b) => a - b)).toEqual(fields.map((f) => parseField(f).number));
    for (const spec of fields) {
      const f = parseField(spec);
      const d = desc.field.find((x) => x.number === f.number);
      expect(d, `${name} field ${f.number}`).toBeDefined();
      // The loader camelCases names (keepCase: false); the wire only sees numbers.
      expect(d!.name).toBe(camel(f.name));
      expect(d!.label).toBe(f.repeated ? 'LABEL_REPEATED' : 'LABEL_OPTIONAL');
      const scalar = SCALAR_TYPES[f.type];
      if (scalar !== undefined) {
        expect(d!.type, `${name}.${f.name}`).toBe(scalar);
      } else if (f.type.startsWith('map<')) {
        expect(d!.type).toBe('TYPE_MESSAGE');
      } else {
        expect(d!.type).toBe(f.type in ENUMS ? 'TYPE_ENUM' : 'TYPE_MESSAGE');
        // The loader keeps type names as written in the .proto (relative or qualified).
        expect(f.type.endsWith(d!.typeName), `${name}.${f.name}: ${d!.typeName}`).toBe(true);
      }
      if (f.oneof !== undefined) expect(desc.oneofDecl.map((o) => o.name)).toContain(f.oneof);
    }
  });

  it('pins every message and enum reachable from the Tikv and PD methods', () => {
    const seen = new Set<string>();
    const visit = (t: protobuf.Type | protobuf.Enum) => {
      const name = nameOf(t);
      if (seen.has(name)) return;
      seen.add(name);
      if (t instanceof protobuf.Type) {
        if (t.options?.['map_entry'] === true) seen.delete(name);
        for (const f of t.fieldsArray) {
          if (f.resolvedType instanceof protobuf.Type || f.resolvedType instanceof protobuf.Enum) visit(f.resolvedType);
        }
      }
    };
    for (const svc of ['tikvpb.Tikv', 'pdpb.PD']) {
      for (const m of root.lookupService(svc).methodsArray) {
        visit(m.resolvedRequestType!);
        visit(m.resolvedResponseType!);
      }
    }
    const unpinned = [...seen].filter((n) => !(n in MESSAGES) && !(n in ENUMS));
    expect(unpinned).toEqual([]);
    // The raft transport and RawKV messages named in the issue are all among them.
    for (const n of ['raft_serverpb.RaftMessage', 'raft_serverpb.SnapshotChunk', 'eraftpb.Message', 'kvrpcpb.RawCASRequest',
      'tikvpb.BatchCommandsRequest.Request', 'pdpb.RegionHeartbeatResponse', 'pdpb.StoreStats', 'errorpb.Error']) {
      expect(seen.has(n), n).toBe(true);
    }
  });
});

describe('compatibility with kvproto: enums', () => {
  it('pins every enum of the loaded contract, and nothing more', () => {
    expect(loaded.enums.map(nameOf).sort()).toEqual(Object.keys(ENUMS).sort());
  });

  it.each(Object.entries(ENUMS))('%s has exactly the pinned values (protobufjs and gRPC loader)', (name, values) => {
    const e = root.lookupEnum(name);
    expect(Object.entries(e.values).map(([k, v]) => `${k}=${v}`)).toEqual(values);
    const desc = (loadProtos()[name] as unknown as { type: { value: { name: string; number: number }[] } }).type;
    expect(desc.value.map((v) => `${v.name}=${v.number}`)).toEqual(values);
  });
});

describe('compatibility with kvproto: services', () => {
  it('declares exactly the pinned services', () => {
    expect(loaded.services.map(nameOf).sort()).toEqual(Object.keys(SERVICES).sort());
  });

  it.each(Object.entries(SERVICES))('%s has exactly the pinned methods, paths and stream kinds', (name, methods) => {
    const svc = root.lookupService(name);
    const spec = (m: protobuf.Method) =>
      `${m.name} ${m.requestStream ? 'stream ' : ''}${nameOf(m.resolvedRequestType!)} -> ` +
      `${m.responseStream ? 'stream ' : ''}${nameOf(m.resolvedResponseType!)}`;
    expect(svc.methodsArray.map(spec)).toEqual(methods);

    const def = loadProtos()[name] as unknown as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
    expect(Object.keys(def)).toEqual(methods.map((m) => m.split(' ')[0]));
    for (const m of methods) {
      const [method] = m.split(' ');
      const d = def[method!]!;
      // The gRPC path is what a TiKV client dials: /<package>.<Service>/<Method>.
      expect(d.path).toBe(`/${name}/${method}`);
      expect(d.requestStream).toBe(/^\w+ stream /.test(m));
      expect(d.responseStream).toBe(m.includes('-> stream '));
    }
  });

  it('uses TiKV\'s service names, so gRPC paths match a TiKV server', () => {
    const def = loadProtos();
    const tikv = def['tikvpb.Tikv'] as unknown as Record<string, { path: string }>;
    const pd = def['pdpb.PD'] as unknown as Record<string, { path: string }>;
    expect(tikv['RawGet']!.path).toBe('/tikvpb.Tikv/RawGet');
    expect(tikv['RawCompareAndSwap']!.path).toBe('/tikvpb.Tikv/RawCompareAndSwap');
    expect(tikv['BatchCommands']!.path).toBe('/tikvpb.Tikv/BatchCommands');
    expect(pd['GetRegion']!.path).toBe('/pdpb.PD/GetRegion');
    expect(pd['AllocID']!.path).toBe('/pdpb.PD/AllocID');
  });
});

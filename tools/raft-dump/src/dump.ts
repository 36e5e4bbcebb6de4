/**
 * Reading a store's data directory for `mrkv-raft-dump`, like etcd-dump-logs: the raft entries and
 * raft states of every raft-log engine, and the store ident, apply states and region states of the
 * kv engine.
 *
 * The engines are opened read-only (nothing is locked, written or repaired; a directory held by a
 * running store is refused with `KV:Engine:DataDirLocked`) and their raw key ranges are scanned
 * and decoded here, not through `RaftLogEngine`, so a damaged log can still be dumped: a record
 * that fails its checksum is printed with `crc: false` and the reason, instead of refusing the
 * whole directory the way opening the engine does.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  FORMAT_FILE,
  LOCAL_MAX_KEY,
  LOCAL_MIN_KEY,
  REGION_RAFT_MAX_KEY,
  REGION_RAFT_MIN_KEY,
  RocksKvEngine,
  decodeEntry,
  decodeState,
  parseLocalKey,
  regionRaftRange,
  type EngineKind,
  type HardState,
  type KvEngine,
  type KvPair,
} from '@mrkv/engine';
import { decodeRaftApplyState, decodeRegionLocalState, decodeStoreIdent } from '@mrkv/proto';

/** What to dump. */
export interface DumpOptions {
  /** Only this region. */
  readonly region?: number | undefined;
  /** Only entries at or above this index. */
  readonly from?: number | undefined;
  /** Include entry data (hex; truncated to 64 bytes in text output). */
  readonly data?: boolean | undefined;
}

/** eraftpb `EntryType` names. */
const ENTRY_TYPES = ['EntryNormal', 'EntryConfChange', 'EntryConfChangeV2'] as const;

/** One thing found, in output order. JSON output prints each as one line. */
export type DumpRecord =
  | { readonly kind: 'engine'; readonly engine: EngineKind; readonly path: string }
  | {
      readonly kind: 'entry';
      readonly regionId: number;
      readonly index: number;
      readonly term?: number;
      readonly type?: string;
      readonly size: number;
      readonly crc: boolean;
      readonly error?: string;
      readonly data?: string;
    }
  | {
      readonly kind: 'raftState';
      readonly regionId: number;
      readonly hardState?: HardState;
      readonly firstIndex?: number;
      readonly lastIndex?: number;
      readonly termRuns?: ReadonlyArray<readonly [number, number]>;
      readonly crc: boolean;
      readonly error?: string;
    }
  | { readonly kind: 'storeIdent' | 'applyState' | 'regionState'; readonly regionId?: number; readonly state?: unknown; readonly error?: string; readonly hex?: string }
  | { readonly kind: 'otherKey'; readonly type: string; readonly regionId?: number; readonly key: string; readonly size: number };

/** Totals of a dump. */
export interface DumpSummary {
  entries: number;
  badRecords: number;
  regions: number;
}

/** Engine directories inside `dir`: a store data dir (`kv/`, `raft/<n>/`) or one engine dir. */
export function findEngineDirs(dir: string): string[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new DumpError(`${root} is not a directory`);
  if (existsSync(join(root, FORMAT_FILE))) return [root];
  const out: string[] = [];
  const raftRoot = join(root, 'raft');
  if (existsSync(raftRoot)) {
    const workers = readdirSync(raftRoot).filter((n) => existsSync(join(raftRoot, n, FORMAT_FILE)));
    workers.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    for (const w of workers) out.push(join(raftRoot, w));
  }
  if (existsSync(join(root, 'kv', FORMAT_FILE))) out.push(join(root, 'kv'));
  if (out.length === 0) throw new DumpError(`${root} holds no mrkv engine directory (expected kv/ and raft/<n>/, or a ${FORMAT_FILE} marker)`);
  return out;
}

/** A usage or environment problem of the tool (exit code 1), as opposed to an engine error. */
export class DumpError extends Error {
  readonly code = 'KV:RaftDump:InvalidArgument';
  constructor(message: string) {
    super(message);
    this.name = 'DumpError';
  }
}

/** Dumps every engine directory of `dir`, calling `emit` for each record, in order. */
export async function dumpDataDir(dir: string, options: DumpOptions, emit: (r: DumpRecord) => void): Promise<DumpSummary> {
  const summary: DumpSummary = { entries: 0, badRecords: 0, regions: 0 };
  for (const path of findEngineDirs(dir)) {
    const kv = await RocksKvEngine.openKind({ path, readOnly: true }, readKind(path));
    try {
      const kind = kv.dir.marker.kind;
      emit({ kind: 'engine', engine: kind, path });
      if (kind === 'raft') await dumpRaftEngine(kv, options, emit, summary);
      else await dumpKvEngine(kv, options, emit, summary);
    } finally {
      await kv.close();
    }
  }
  return summary;
}

/** The kind a directory's marker declares; the open then checks the whole marker. */
function readKind(path: string): EngineKind {
  try {
    const m = JSON.parse(readFileSync(join(path, FORMAT_FILE), 'utf8')) as { kind?: unknown };
    return m.kind === 'raft' ? 'raft' : 'kv';
  } catch (e) {
    if (e instanceof SyntaxError) return 'kv'; // the open reports the bad marker
    throw e;
  }
}

/** The key range to scan in a raft engine: one region's keys, or all of them. */
function raftRange(options: DumpOptions): { start: Uint8Array; end: Uint8Array } {
  if (options.region === undefined) return { start: REGION_RAFT_MIN_KEY, end: REGION_RAFT_MAX_KEY };
  return regionRaftRange(options.region);
}

async function forEachPair(kv: KvEngine, range: { start: Uint8Array; end: Uint8Array }, f: (p: KvPair) => void): Promise<void> {
  const it = kv.iterator(range);
  try {
    for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) for (const p of chunk) f(p);
  } finally {
    await it.close();
  }
}

async function dumpRaftEngine(kv: KvEngine, options: DumpOptions, emit: (r: DumpRecord) => void, summary: DumpSummary): Promise<void> {
  const range = raftRange(options);
  // Entries sort before the state key of their region: the state is emitted when met, after them.
  await forEachPair(kv, range, ({ key, value }) => {
    const k = parseLocalKey(key);
    if (k.type === 'raftLog') {
      if (options.from !== undefined && k.index < options.from) return;
      summary.entries++;
      const e = decodeEntry(value, k.index);
      if (typeof e === 'string') {
        summary.badRecords++;
        emit({ kind: 'entry', regionId: k.regionId, index: k.index, size: value.length, crc: false, error: e });
        return;
      }
      const size = e.data.length + (e.context?.length ?? 0);
      emit({
        kind: 'entry',
        regionId: k.regionId,
        index: e.index,
        term: e.term,
        type: ENTRY_TYPES[e.entryType] ?? `EntryType(${e.entryType})`,
        size,
        crc: true,
        ...(options.data ? { data: Buffer.from(e.data).toString('hex') } : {}),
      });
    } else if (k.type === 'raftState') {
      summary.regions++;
      const s = decodeState(value);
      if (typeof s === 'string') {
        summary.badRecords++;
        emit({ kind: 'raftState', regionId: k.regionId, crc: false, error: s });
        return;
      }
      const runs: Array<[number, number]> = [];
      for (let i = 0; i < s.runs.length; i += 2) runs.push([s.runs[i]!, s.runs[i + 1]!]);
      emit({ kind: 'raftState', regionId: k.regionId, hardState: s.hardState, firstIndex: s.firstIndex, lastIndex: s.lastIndex, termRuns: runs, crc: true });
    } else {
      emit(otherKey(key, value));
    }
  });
}

function decoded(kind: 'storeIdent' | 'applyState' | 'regionState', regionId: number | undefined, value: Uint8Array, decode: (b: Uint8Array) => unknown): DumpRecord {
  const base = regionId === undefined ? { kind } : { kind, regionId };
  try {
    return { ...base, state: decode(value) };
  } catch (e) {
    return { ...base, error: `cannot decode: ${(e as Error).message}`, hex: Buffer.from(value).toString('hex') };
  }
}

async function dumpKvEngine(kv: KvEngine, options: DumpOptions, emit: (r: DumpRecord) => void, summary: DumpSummary): Promise<void> {
  await forEachPair(kv, { start: LOCAL_MIN_KEY, end: LOCAL_MAX_KEY }, ({ key, value }) => {
    const k = parseLocalKey(key);
    if (k.type === 'storeIdent') {
      if (options.region === undefined) emit(decoded('storeIdent', undefined, value, decodeStoreIdent));
      return;
    }
    if (k.type !== 'applyState' && k.type !== 'regionState') {
      const regionId = 'regionId' in k ? k.regionId : undefined;
      if (options.region === undefined || options.region === regionId) emit(otherKey(key, value));
      return;
    }
    if (options.region !== undefined && options.region !== k.regionId) return;
    const r = k.type === 'applyState' ? decoded('applyState', k.regionId, value, decodeRaftApplyState) : decoded('regionState', k.regionId, value, decodeRegionLocalState);
    if ('error' in r && r.error !== undefined) summary.badRecords++;
    emit(r);
  });
}

/** A key the dump does not decode (snapshot raft states, bootstrap markers, foreign keys). */
function otherKey(key: Uint8Array, value: Uint8Array): DumpRecord {
  const k = parseLocalKey(key);
  return { kind: 'otherKey', type: k.type, ...('regionId' in k ? { regionId: k.regionId } : {}), key: Buffer.from(key).toString('hex'), size: value.length };
}

/** Rendering dump records as text (for humans) or JSON lines (for scripts). */
import type { DumpRecord, DumpSummary } from './dump.js';

/** JSON with byte arrays as hex strings (protobuf `bytes` fields decode to Buffers). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array ? Buffer.from(raw).toString('hex') : value;
  });
}

const col = (v: unknown, w: number): string => String(v).padEnd(w);

/** The header line printed above the entries of a raft engine. */
export const ENTRY_HEADER = `${col('region', 8)}${col('index', 10)}${col('term', 8)}${col('type', 19)}${col('size', 8)}crc`;

/** One record as one line of text. */
export function formatText(r: DumpRecord): string {
  switch (r.kind) {
    case 'engine':
      return `\n== ${r.engine} engine ${r.path}${r.engine === 'raft' ? `\n${ENTRY_HEADER}` : ''}`;
    case 'entry': {
      const crc = r.crc ? 'ok' : `BAD: ${r.error ?? ''}`;
      const data = r.data === undefined ? '' : `  data=${r.data.length > 128 ? r.data.slice(0, 128) + '…' : r.data}`;
      return `${col(r.regionId, 8)}${col(r.index, 10)}${col(r.term ?? '?', 8)}${col(r.type ?? '?', 19)}${col(r.size, 8)}${crc}${data}`;
    }
    case 'raftState': {
      if (!r.crc) return `region ${r.regionId} raft state: BAD: ${r.error ?? ''}`;
      const hs = r.hardState!;
      const runs = (r.termRuns ?? []).map(([start, term]) => `${term}@${start}`).join(' ');
      const log = r.lastIndex! >= r.firstIndex! ? `log [${r.firstIndex}, ${r.lastIndex}]` : `empty log after ${r.lastIndex}`;
      return `region ${r.regionId} raft state: term=${hs.term} vote=${hs.vote} commit=${hs.commit}, ${log}, term runs ${runs || '-'}`;
    }
    case 'storeIdent':
    case 'applyState':
    case 'regionState': {
      const label = r.kind === 'storeIdent' ? 'store ident' : `region ${String(r.regionId)} ${r.kind === 'applyState' ? 'apply state' : 'region state'}`;
      return r.error === undefined ? `${label}: ${toJson(r.state)}` : `${label}: ${r.error} (hex ${r.hex ?? ''})`;
    }
    case 'otherKey':
      return `other key ${r.type}${r.regionId === undefined ? '' : ` region ${r.regionId}`}: ${r.key} (${r.size} bytes)`;
  }
}

/** The closing line. */
export function formatSummary(s: DumpSummary): string {
  return `\n${s.entries} entries, ${s.regions} raft states, ${s.badRecords} bad records`;
}

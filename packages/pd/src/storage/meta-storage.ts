/**
 * PD's metadata in a `KvEngine` (PD keeps it in etcd plus a local region storage): the cluster
 * record, stores, regions, the id allocator's and TSO's persisted bounds, the schedule config and
 * the enabled schedulers. A restart reloads all of it, so it loses nothing.
 *
 * Key layout (ASCII prefixes, ids as 8 big-endian bytes so scans come out in id order):
 * | key | value |
 * | --- | --- |
 * | `pd/cluster` | JSON {@link ClusterRecord} |
 * | `pd/alloc-id` | u64 BE: every id ≤ this may have been handed out |
 * | `pd/tso` | u64 BE: wall ms no timestamp may reach (the saved upper bound) |
 * | `pd/config` | JSON {@link ScheduleConfig} |
 * | `pd/schedulers` | JSON `string[]` of enabled scheduler names |
 * | `pd/store/<id>` | protobuf metapb.Store |
 * | `pd/region/<id>` | protobuf metapb.Region |
 *
 * Writes that bound what PD may hand out (ids, timestamps) and the cluster record are synced;
 * region and store writes are not (a lost region update comes back with the next heartbeat,
 * exactly as PD's region storage behaves).
 */
import { decodeU64BEBig, encodeU64BE, encodeU64BEBig, readU64BE } from '@mrkv/common';
import type { KvEngine } from '@mrkv/engine';
import { decodeMessage, encodeMessage, regionFromWire, regionToWire, storeFromWire, storeToWire, type Region, type Store } from '@mrkv/proto';
import { PdError, PdErrorCodes } from '../errors.js';

/** The cluster's identity and bootstrap state. */
export interface ClusterRecord {
  /** Chosen at first start; every pdpb header carries it. */
  readonly clusterId: number;
  readonly bootstrapped: boolean;
  /** Wall ms of the bootstrap (0 before). */
  readonly bootstrapTimeMs: number;
}

const enc = new TextEncoder();
const CLUSTER_KEY = enc.encode('pd/cluster');
const ALLOC_ID_KEY = enc.encode('pd/alloc-id');
const TSO_KEY = enc.encode('pd/tso');
const CONFIG_KEY = enc.encode('pd/config');
const SCHEDULERS_KEY = enc.encode('pd/schedulers');
const STORE_PREFIX = enc.encode('pd/store/');
const REGION_PREFIX = enc.encode('pd/region/');

function idKey(prefix: Uint8Array, id: number): Uint8Array {
  const key = new Uint8Array(prefix.length + 8);
  key.set(prefix);
  key.set(encodeU64BE(id), prefix.length);
  return key;
}

function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  end[end.length - 1]!++;
  return end;
}

function corrupt(what: string, cause: unknown): PdError {
  return new PdError(PdErrorCodes.CORRUPT_META, `PD metadata ${what} cannot be read: ${(cause as Error).message ?? String(cause)}`, { cause, details: { what } });
}

export class MetaStorage {
  constructor(private readonly engine: KvEngine) {}

  async loadCluster(): Promise<ClusterRecord | undefined> {
    const v = await this.engine.get(CLUSTER_KEY);
    if (v === undefined) return undefined;
    try {
      const o = JSON.parse(Buffer.from(v).toString('utf8')) as ClusterRecord;
      if (!Number.isSafeInteger(o.clusterId) || o.clusterId <= 0) throw new Error(`bad cluster id ${String(o.clusterId)}`);
      return { clusterId: o.clusterId, bootstrapped: o.bootstrapped === true, bootstrapTimeMs: Number(o.bootstrapTimeMs) || 0 };
    } catch (e) {
      throw corrupt('pd/cluster', e);
    }
  }

  async saveCluster(rec: ClusterRecord): Promise<void> {
    await this.engine.write(this.engine.newWriteBatch().put(CLUSTER_KEY, enc.encode(JSON.stringify(rec))), { sync: true });
  }

  /**
   * Bootstrap in one atomic, synced write: the cluster record, the first store and the first
   * region, so a crash leaves either an unbootstrapped or a fully bootstrapped cluster.
   */
  async saveBootstrap(rec: ClusterRecord, store: Store, region: Region): Promise<void> {
    const b = this.engine.newWriteBatch();
    b.put(CLUSTER_KEY, enc.encode(JSON.stringify(rec)));
    b.put(idKey(STORE_PREFIX, store.id), encodeMessage('metapb.Store', storeToWire(store)));
    b.put(idKey(REGION_PREFIX, region.id), encodeMessage('metapb.Region', regionToWire(region)));
    await this.engine.write(b, { sync: true });
  }

  async loadAllocId(): Promise<number> {
    const v = await this.engine.get(ALLOC_ID_KEY);
    if (v === undefined) return 0;
    try {
      return readU64BE(v, 0);
    } catch (e) {
      throw corrupt('pd/alloc-id', e);
    }
  }

  async saveAllocId(end: number): Promise<void> {
    await this.engine.write(this.engine.newWriteBatch().put(ALLOC_ID_KEY, encodeU64BE(end)), { sync: true });
  }

  /** The saved TSO bound in wall ms (0 if none). */
  async loadTsoBound(): Promise<number> {
    const v = await this.engine.get(TSO_KEY);
    if (v === undefined) return 0;
    if (v.length !== 8) throw corrupt('pd/tso', new Error(`expected 8 bytes, found ${v.length}`));
    return Number(decodeU64BEBig(v));
  }

  async saveTsoBound(ms: number): Promise<void> {
    await this.engine.write(this.engine.newWriteBatch().put(TSO_KEY, encodeU64BEBig(BigInt(ms))), { sync: true });
  }

  async loadJson(which: 'config' | 'schedulers'): Promise<unknown> {
    const v = await this.engine.get(which === 'config' ? CONFIG_KEY : SCHEDULERS_KEY);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(Buffer.from(v).toString('utf8')) as unknown;
    } catch (e) {
      throw corrupt(`pd/${which}`, e);
    }
  }

  async saveJson(which: 'config' | 'schedulers', value: unknown): Promise<void> {
    const key = which === 'config' ? CONFIG_KEY : SCHEDULERS_KEY;
    await this.engine.write(this.engine.newWriteBatch().put(key, enc.encode(JSON.stringify(value))), { sync: true });
  }

  async saveStore(store: Store): Promise<void> {
    await this.engine.write(this.engine.newWriteBatch().put(idKey(STORE_PREFIX, store.id), encodeMessage('metapb.Store', storeToWire(store))));
  }

  async loadStores(): Promise<Store[]> {
    const pairs = await this.engine.scan({ start: STORE_PREFIX, end: prefixEnd(STORE_PREFIX) });
    return pairs.map((p) => {
      try {
        return storeFromWire(decodeMessage('metapb.Store', p.value));
      } catch (e) {
        throw corrupt(`store ${Buffer.from(p.key).toString('hex')}`, e);
      }
    });
  }

  /** Saves `regions` and deletes `removedIds` in one batch. */
  async saveRegions(regions: readonly Region[], removedIds: readonly number[] = []): Promise<void> {
    if (regions.length === 0 && removedIds.length === 0) return;
    const b = this.engine.newWriteBatch();
    for (const id of removedIds) b.delete(idKey(REGION_PREFIX, id));
    for (const r of regions) b.put(idKey(REGION_PREFIX, r.id), encodeMessage('metapb.Region', regionToWire(r)));
    await this.engine.write(b);
  }

  async loadRegions(): Promise<Region[]> {
    const pairs = await this.engine.scan({ start: REGION_PREFIX, end: prefixEnd(REGION_PREFIX) });
    return pairs.map((p) => {
      try {
        return regionFromWire(decodeMessage('metapb.Region', p.value));
      } catch (e) {
        throw corrupt(`region ${Buffer.from(p.key).toString('hex')}`, e);
      }
    });
  }

  /** Makes every write so far durable. */
  async sync(): Promise<void> {
    await this.engine.sync();
  }
}

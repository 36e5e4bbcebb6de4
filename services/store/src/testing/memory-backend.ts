/**
 * An in-memory raftstore backend for process-level tests of the store shell: bootstrap helpers
 * that keep the prepared region in memory, and a "raftstore" that serves the regions this store
 * bootstrapped from a `MemoryRawKv` and records inbound raft traffic. Nothing survives a restart:
 * it exercises the shell (data directory, ident, bootstrap, servers, heartbeats, signals), not
 * durability.
 */
import { CommonCodes, MrkvError } from '@mrkv/common';
import { cloneRegion, type Region } from '@mrkv/proto';
import type { StoreStats } from '@mrkv/raftstore';
import type { BootstrapEngines } from '../process/bootstrap.js';
import type { OpenRaftstoreBackend, RaftstoreBackend, RaftstoreStartDeps, RunningRaftstore } from '../process/backend.js';
import { MemoryRawKv } from './memory-raw-kv.js';
import { RecordingSink } from './recording-sink.js';

/** Bootstrap helpers over memory, recording what the shell asked for. */
export class MemoryBootstrapEngines implements BootstrapEngines {
  /** The prepared first region and whether its marker is still set. */
  prepared: Region | undefined;
  marker = false;
  /** Regions this store holds (the first region, once bootstrapped by it). */
  readonly regions: Region[] = [];
  readonly calls: string[] = [];

  async preparedRegion(): Promise<Region | undefined> {
    this.calls.push('preparedRegion');
    return this.marker && this.prepared ? cloneRegion(this.prepared) : undefined;
  }

  async prepareBootstrap(region: Region): Promise<void> {
    this.calls.push('prepareBootstrap');
    this.prepared = cloneRegion(region);
    this.marker = true;
    this.regions.push(cloneRegion(region));
  }

  async clearPrepareBootstrap(): Promise<void> {
    this.calls.push('clearPrepareBootstrap');
    this.marker = false;
  }

  async clearPreparedRegion(region: Region): Promise<void> {
    this.calls.push('clearPreparedRegion');
    this.marker = false;
    const i = this.regions.findIndex((r) => r.id === region.id);
    if (i >= 0) this.regions.splice(i, 1);
  }
}

/** What a started memory raftstore exposes to tests. */
export interface MemoryRaftstore extends RunningRaftstore {
  readonly kv: MemoryRawKv;
  readonly sink: RecordingSink;
  readonly unreachable: number[];
  readonly deps: RaftstoreStartDeps;
  stopped: boolean;
}

/** A backend whose started raftstores are reported to `onStart` (tests keep a handle). */
export function memoryBackend(onStart?: (rs: MemoryRaftstore, engines: MemoryBootstrapEngines) => void): OpenRaftstoreBackend {
  return async () => {
    const engines = new MemoryBootstrapEngines();
    let closed = false;
    const backend: RaftstoreBackend = {
      bootstrap: engines,
      start: async (deps) => {
        if (closed) throw new MrkvError(CommonCodes.INTERNAL, 'memory backend: start after close');
        const kv = new MemoryRawKv({ storeId: deps.storeId, regions: engines.regions });
        const sink = new RecordingSink({ keepMessages: false });
        const rs: MemoryRaftstore = {
          kv,
          sink,
          deps,
          unreachable: [],
          stopped: false,
          rawKv: kv,
          raftSink: sink,
          onStoreUnreachable: (id) => rs.unreachable.push(id),
          regionCount: () => kv.regionCount,
          storeStats: (): Partial<StoreStats> => ({ regionCount: kv.regionCount, usedSize: kv.size }),
          metricsText: () => `# TYPE mrkv_memory_keys gauge\nmrkv_memory_keys ${kv.size}\n`,
          stop: async () => {
            rs.stopped = true;
          },
        };
        onStart?.(rs, engines);
        return rs;
      },
      close: async () => {
        closed = true;
      },
    };
    return backend;
  };
}

/**
 * What the store process needs from PD: the raftstore's `PdApi` (heartbeats, split ids, store
 * lookups, id allocation) plus the calls made once at startup to join or bootstrap the cluster
 * (reference §6.5). The process talks to PD only through this interface; the gRPC implementation
 * is @mrkv/client's PdClient, adapted by the process wiring.
 */
import type { Logger } from '@mrkv/common';
import type { Region, Store } from '@mrkv/proto';
import type { PdApi } from '@mrkv/raftstore';

export interface StorePd extends PdApi {
  /** The cluster id PD reported (GetMembers header); every request carries it. */
  readonly clusterId: number;
  isBootstrapped(): Promise<boolean>;
  /** `Bootstrap(store, region)`; `alreadyBootstrapped` when PD answers ALREADY_BOOTSTRAPPED. */
  bootstrapCluster(store: Store, region: Region): Promise<'bootstrapped' | 'alreadyBootstrapped'>;
  /** The region holding the empty key (`GetRegion("")`), if PD knows one. */
  getFirstRegion(): Promise<Region | undefined>;
  /** `PutStore`: registers or updates this store's addresses and labels. */
  putStore(store: Store): Promise<void>;
  /** Ends streams and connections. */
  close(): void;
}

/** Connects to PD (`endpoints`: host:port list) and learns the cluster id. */
export type ConnectPd = (endpoints: readonly string[], logger: Logger) => Promise<StorePd>;

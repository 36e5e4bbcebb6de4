/**
 * An in-process fake mrkv for the bench smoke tests: the real store gRPC server
 * (`@mrkv/store-server`'s `startStoreServer`) around an in-memory RawKV with one region, and a
 * fake PD that knows that region and the store's address.
 */
import { noopLogger } from '@mrkv/common';
import { loadStoreConfig, startStoreServer } from '@mrkv/store-server';
import { MemoryRawKv, RecordingSink, fakePdCluster, startFakePdServer } from '@mrkv/store-server/testing';

/** A running fake cluster. */
export interface FakeMrkv {
  readonly pdAddress: string;
  readonly kv: MemoryRawKv;
  close(): Promise<void>;
}

/** Starts a one-store, one-region fake cluster on loopback ports. */
export async function startFakeMrkv(): Promise<FakeMrkv> {
  const clusterId = 7;
  const kv = new MemoryRawKv({ storeId: 1 });
  const server = await startStoreServer({
    config: loadStoreConfig({ flags: { 'server.addr': '127.0.0.1:0', 'server.status-addr': '127.0.0.1:0' } }),
    rawKv: kv,
    raftSink: new RecordingSink({ keepMessages: false }),
    storeId: () => 1,
    clusterId: () => clusterId,
    logger: noopLogger,
  });
  server.markReady();
  const cluster = fakePdCluster(clusterId);
  cluster.bootstrapped = true;
  cluster.region = {
    id: '1',
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    regionEpoch: { confVer: '1', version: '1' },
    peers: [{ id: '1', storeId: '1', role: 'Voter', isWitness: false }],
  } as unknown as typeof cluster.region;
  cluster.stores.set('1', { id: '1', address: server.grpcAddress } as unknown as NonNullable<ReturnType<typeof cluster.stores.get>>);
  const pd = await startFakePdServer(cluster);
  return {
    pdAddress: pd.address,
    kv,
    close: async () => {
      pd.stop();
      await server.forceStop();
    },
  };
}

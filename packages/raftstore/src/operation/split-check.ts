/**
 * The split checker (TiKV `split_check` worker, size and keys checkers with half split): on its
 * tick a leader asks the kv engine for its region's approximate size and key count; past
 * `regionMaxSize` or `regionMaxKeys` it finds the key in the middle of the region by a keys-only
 * scan (I/O on the engine, never blocking the poll round) and asks for a split there — the same
 * path as a manual split (split.ts). Only one check runs per region at a time.
 */
import { dataEndKey, dataKey } from '@mrkv/engine';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';

const EMPTY = new Uint8Array(0);

export function maybeSplitCheck(peer: Peer, ctx: StoreContext): void {
  if (!peer.isLeader || peer.leader.splitChecking || ctx.pd === undefined || !peer.isInitialized) return;
  peer.leader.splitChecking = true;
  const region = peer.region;
  const start = dataKey(region.startKey);
  const end = region.endKey.length === 0 ? dataEndKey(EMPTY) : dataKey(region.endKey);
  const done = () => {
    peer.leader.splitChecking = false;
  };
  ctx.kvEngine
    .approximateStats({ start, end })
    .then(async (stats) => {
      if (stats.bytes < ctx.cfg.regionMaxSize && stats.keys < ctx.cfg.regionMaxKeys) return undefined;
      return middleKey(ctx, start, end, stats.keys);
    })
    .then((key) => {
      if (key === undefined || peer.destroyed) return done();
      peer.logger.info({ splitKey: Buffer.from(key).toString('hex') }, 'region too large; asking for a split');
      ctx.sendPeer(peer.regionId, {
        type: 'pdOperator',
        op: { kind: 'splitRegion', policy: 'USEKEY', keys: [key] },
      });
      done();
    })
    .catch((err: unknown) => {
      peer.logger.warn({ err }, 'split check failed');
      done();
    });
}

/** Splits the region at its middle key (PD's SCAN / APPROXIMATE split policies). */
export function splitInHalf(peer: Peer, ctx: StoreContext, cb: (err?: Error) => void): void {
  const region = peer.region;
  const start = dataKey(region.startKey);
  const end = region.endKey.length === 0 ? dataEndKey(EMPTY) : dataKey(region.endKey);
  ctx.kvEngine
    .approximateStats({ start, end })
    .then((stats) => middleKey(ctx, start, end, stats.keys))
    .then((key) => {
      if (key === undefined) return cb(new Error('region too small to split'));
      ctx.sendPeer(peer.regionId, { type: 'pdOperator', op: { kind: 'splitRegion', policy: 'USEKEY', keys: [key] } });
      cb();
    })
    .catch((err: unknown) => cb(err instanceof Error ? err : new Error(String(err))));
}

/** The key halfway through `[start, end)` by count (keys-only scan in chunks). */
async function middleKey(ctx: StoreContext, start: Uint8Array, end: Uint8Array, approxKeys: number): Promise<Uint8Array | undefined> {
  const target = Math.max(1, Math.floor(approxKeys / 2));
  const it = ctx.kvEngine.iterator({ start, end, keysOnly: true });
  let seen = 0;
  try {
    for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
      if (seen + chunk.length > target) {
        const k = chunk[target - seen]!.key;
        return k.length > 1 ? Uint8Array.from(k.subarray(1)) : undefined;
      }
      seen += chunk.length;
    }
  } finally {
    await it.close();
  }
  return undefined;
}

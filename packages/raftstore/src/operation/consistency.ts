/**
 * Consistency check, peer side (see apply/consistency.ts): the leader starts it, every replica
 * records its hash per index, the leader's hash travels in VerifyHash, and each replica compares.
 */
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { proposeAdmin } from './propose.js';

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function onHashComputed(peer: Peer, ctx: StoreContext, index: number, hash: Uint8Array): void {
  const c = peer.consistency;
  c.hashes.set(index, hash);
  if (c.hashes.size > 4) c.hashes.delete(c.hashes.keys().next().value!);
  const expected = c.expected.get(index);
  if (expected !== undefined) {
    c.expected.delete(index);
    verify(peer, ctx, index, hash, expected);
  }
  if (peer.isLeader) {
    proposeAdmin(peer, ctx, { t: 'verifyHash', index, hash }, (r) => {
      if (!r.ok) peer.logger.warn({ err: r.error, index }, 'VerifyHash not applied');
    });
  }
}

export function onVerifyHash(peer: Peer, ctx: StoreContext, index: number, hash: Uint8Array): void {
  const mine = peer.consistency.hashes.get(index);
  if (mine === undefined) {
    peer.consistency.expected.set(index, hash);
    return;
  }
  verify(peer, ctx, index, mine, hash);
}

function verify(peer: Peer, ctx: StoreContext, index: number, mine: Uint8Array, leader: Uint8Array): void {
  const ok = same(mine, leader);
  peer.consistency.last = { index, ok };
  if (ok) return;
  ctx.counters.consistencyMismatches++;
  peer.logger.error(
    { index, hash: Buffer.from(mine).toString('hex'), leaderHash: Buffer.from(leader).toString('hex') },
    'replica data differs from the leader at the same index',
  );
}

/**
 * The region heartbeat streams, one per store (PD `hbstream`): a stream is bound to the store of
 * the leader in its first heartbeat. Commands go to the stream of the store that holds the
 * region's leader (the `target_peer`), which is not necessarily the stream the heartbeat came
 * on. A header-only keep-alive goes to every stream periodically, as PD does every 60 s.
 */
import type * as grpc from '@grpc/grpc-js';
import { noopLogger, type Logger } from '@mrkv/common';
import type { HeartbeatCommand } from '@mrkv/pd';
import type { pdpb } from '@mrkv/proto';
import { heartbeatCommandToWire } from './wire.js';

export type HeartbeatStream = grpc.ServerDuplexStream<pdpb.RegionHeartbeatRequest__Output, pdpb.RegionHeartbeatResponse>;

export class HeartbeatStreams {
  private readonly byStore = new Map<number, HeartbeatStream>();
  private readonly logger: Logger;

  constructor(
    private readonly clusterId: number,
    logger: Logger = noopLogger,
  ) {
    this.logger = logger.child({ component: 'hbstream' });
  }

  /** Binds `stream` to `storeId` (a newer stream of the same store replaces the older one). */
  bind(storeId: number, stream: HeartbeatStream): void {
    if (this.byStore.get(storeId) === stream) return;
    this.byStore.set(storeId, stream);
    this.logger.info({ storeId }, 'region heartbeat stream bound');
  }

  /** Forgets `stream` (it ended). */
  unbind(stream: HeartbeatStream): void {
    for (const [id, s] of this.byStore) if (s === stream) this.byStore.delete(id);
  }

  /** Stores with a bound stream. */
  get storeIds(): number[] {
    return [...this.byStore.keys()].sort((a, b) => a - b);
  }

  /** Sends `cmd` to the leader's store. Returns false if that store has no stream. */
  send(cmd: HeartbeatCommand): boolean {
    const s = this.byStore.get(cmd.targetPeer.storeId);
    if (s === undefined || s.destroyed || s.writableEnded) return false;
    s.write(heartbeatCommandToWire(cmd, this.clusterId));
    return true;
  }

  /** Writes a header-only keep-alive to every stream. */
  keepalive(): void {
    for (const s of this.byStore.values()) if (!s.destroyed && !s.writableEnded) s.write({ header: { clusterId: this.clusterId } });
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const s of this.byStore.values()) if (!s.destroyed && !s.writableEnded) s.end();
    this.byStore.clear();
  }
}

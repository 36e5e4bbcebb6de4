/**
 * A throwaway etcd cluster for `--target etcd` without `--etcd`: `members` etcd processes from
 * Debian's `etcd-server` package (`/usr/bin/etcd`, or `$ETCD_BIN`) on loopback, free ports, data
 * in a temporary directory that is removed on stop. Defaults otherwise (heartbeat 100 ms, election
 * 1 s, fsync on), as perf-anchors §2.4 measured them.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, freePorts } from '@mrkv/playground';
import { BenchCodes, BenchError } from './errors.js';

/** Where the etcd binary is looked for. */
export function etcdBinary(): string {
  return process.env.ETCD_BIN ?? '/usr/bin/etcd';
}

/** True if the etcd binary exists here. */
export function etcdAvailable(): boolean {
  return existsSync(etcdBinary());
}

/** A started cluster. */
export interface EtcdCluster {
  /** Client endpoints, `127.0.0.1:port`. */
  readonly endpoints: readonly string[];
  readonly dir: string;
  /** Stops every member (SIGTERM, then SIGKILL after 5 s) and removes the data. */
  stop(): Promise<void>;
}

/** Starts `members` members and waits until each answers /health with `"health":"true"`. */
export async function startEtcdCluster(members = 3, readyTimeoutMs = 30_000): Promise<EtcdCluster> {
  const bin = etcdBinary();
  if (!existsSync(bin)) {
    throw new BenchError(BenchCodes.TARGET_UNAVAILABLE, `etcd target: ${bin} not found (install Debian's etcd-server, set ETCD_BIN, or pass --etcd host:port,…)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mrkv-bench-etcd-'));
  const ports = await freePorts(2 * members);
  const names = Array.from({ length: members }, (_, i) => `m${i + 1}`);
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]!}`;
  const clientUrl = (i: number) => `http://127.0.0.1:${ports[2 * i]!}`;
  const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
  const children = names.map((name, i) => {
    mkdirSync(join(dir, name), { recursive: true });
    return new Child({
      name: `etcd-${name}`,
      command: bin,
      args: [
        '--name', name,
        '--data-dir', join(dir, name, 'data'),
        '--listen-client-urls', clientUrl(i),
        '--advertise-client-urls', clientUrl(i),
        '--listen-peer-urls', peerUrl(i),
        '--initial-advertise-peer-urls', peerUrl(i),
        '--initial-cluster', initialCluster,
        '--initial-cluster-token', `mrkv-bench-${process.pid}`,
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      cwd: dir,
      logFile: join(dir, `${name}.log`),
    });
  });
  const stop = async () => {
    // One at a time: a leader stopping hands leadership to a live member first (etcd 3.4 does so
    // on SIGTERM), which hangs until SIGKILL when every other member is already gone.
    for (const c of children) await c.stop(3000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (let i = 0; i < members; i++) {
      for (;;) {
        const dead = children.find((c) => !c.running);
        if (dead) {
          await dead.exited;
          throw new BenchError(BenchCodes.TARGET_FAILED, `etcd target: ${dead.exitError().message}`);
        }
        const healthy = await fetch(`${clientUrl(i)}/health`, { signal: AbortSignal.timeout(1000) })
          .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
          .catch(() => false);
        if (healthy) break;
        if (Date.now() > deadline) throw new BenchError(BenchCodes.TARGET_FAILED, `etcd target: member ${names[i]} not healthy after ${readyTimeoutMs} ms (logs in ${dir})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoints: names.map((_, i) => `127.0.0.1:${ports[2 * i]!}`), dir, stop };
}

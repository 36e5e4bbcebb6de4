/**
 * Free loopback ports and temporary directories for cross-process tests. Every test gets its own
 * ports and directories, so tests can run in parallel and a failed run leaves nothing behind that
 * a later one trips over.
 *
 * Ports are found by binding port 0 and closing again; all ports of one `freePorts` call are held
 * open together, so they are distinct. Another process could still take a port before the store
 * binds it; `StoreProcess` reports such a bind failure clearly (exit code and log).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `n` distinct free TCP ports on `host`. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, host, () => resolve());
      });
      ports.push((srv.address() as { port: number }).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** One free TCP port on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

/** A new empty directory under the OS temp dir; `cleanup()` removes it (and everything in it). */
export function tempDir(prefix = 'mrkv-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

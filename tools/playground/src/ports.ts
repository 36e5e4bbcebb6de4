/**
 * Loopback ports: finding free ones (base port 0) and checking that a fixed layout's ports are
 * free before any child is started, so a taken port is one clear error instead of a child that
 * dies during start-up.
 */
import { createServer, type Server } from 'node:net';
import { PlaygroundCodes, PlaygroundError } from './errors.js';

async function listen(port: number, host: string): Promise<Server> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  return srv;
}

async function closeAll(servers: readonly Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
}

/** `n` distinct free TCP ports on `host` (all held open together while choosing, so distinct). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listen(0, host));
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await closeAll(servers);
  }
}

/** Throws `PORT_IN_USE` naming the first of `ports` on `host` that cannot be bound. */
export async function assertPortsFree(ports: readonly number[], host = '127.0.0.1'): Promise<void> {
  const servers: Server[] = [];
  try {
    for (const port of ports) {
      try {
        servers.push(await listen(port, host));
      } catch (e) {
        throw new PlaygroundError(PlaygroundCodes.PORT_IN_USE, `port ${host}:${port} is in use (pick another --base-port)`, { cause: e, details: { port } });
      }
    }
  } finally {
    await closeAll(servers);
  }
}

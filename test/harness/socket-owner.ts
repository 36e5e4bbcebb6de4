/**
 * Which local process owns the other end of a loopback TCP connection (Linux only).
 *
 * A fault-injecting proxy in front of a store sees every peer store and every client as
 * `127.0.0.1:<ephemeral port>`; to cut store 1 off from store 2 but not from clients it must know
 * who dialed. The kernel knows: the dialing socket is the row of `/proc/net/tcp` whose local port
 * is the accepted connection's remote port, and its inode appears as `socket:[inode]` among the
 * dialing process's file descriptors. No product code is involved, and a store restarted on the
 * same ports is recognised by its new pid.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';

/** The inode of the TCP socket bound to `127.0.0.1:localPort` and connected to `remotePort`. */
export async function loopbackSocketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = portOf(f[1]!);
      const remote = portOf(f[2]!);
      if (local === localPort && remote === remotePort) return f[9];
    }
  }
  return undefined;
}

function portOf(addr: string): number {
  return parseInt(addr.slice(addr.lastIndexOf(':') + 1), 16);
}

/** True if process `pid` holds the socket `inode` open. A process that is gone owns nothing. */
export async function pidOwnsSocket(pid: number, inode: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false; // exited (ENOENT) or not ours to read: not the owner either way
  }
  const want = `socket:[${inode}]`;
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target === want) return true;
  }
  return false;
}

/**
 * Among `candidates` (name → pid), the one that dialed the connection whose far end is
 * `127.0.0.1:remotePort` → `127.0.0.1:localPort` (the proxy's listening port); undefined if none of
 * them did (another process, or the dialer is already gone).
 */
export async function dialerOf(remotePort: number, localPort: number, candidates: ReadonlyMap<string, number>): Promise<string | undefined> {
  const inode = await loopbackSocketInode(remotePort, localPort);
  if (inode === undefined || inode === '0') return undefined;
  for (const [name, pid] of candidates) if (await pidOwnsSocket(pid, inode)) return name;
  return undefined;
}

/**
 * A fault-injecting TCP network for real-process tests: one proxy in front of each store, with
 * faults per directed link (who dialed → whose proxy).
 *
 * Each store listens on its real address and advertises its proxy's address to PD, so every
 * connection to it (from peer stores, which dial the address PD gives them, and from SDK clients)
 * crosses the proxy. The proxy names the dialer by pid (`socket-owner.ts`): a registered store, the
 * test process (`client`), or `unknown`. Because raft traffic from store A to store B always rides a
 * connection A dialed to B, blocking the link A → B drops A's raft messages to B and nothing else:
 * one-way partitions come for free, and a symmetric partition blocks both directions.
 *
 * Faults:
 * - `drop`: connections on the link are reset now, and new ones are accepted and closed at once
 *   (a dialer sees a broken connection and backs off, as after a real partition);
 * - `delayMs`: every chunk on the link (both directions of the connection) waits that long, in
 *   order.
 *
 * ```ts
 * const net = new FaultNet();
 * const p = await net.addProxy('s1', '127.0.0.1:20161');     // advertise p.addr for store s1
 * net.setPid('s1', storeProcess.pid);
 * net.isolate('s1');   // s1 ↔ every other store, both ways (clients still reach it)
 * net.heal();
 * await net.close();
 * ```
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dialerOf } from './socket-owner.js';

/** What happens on one directed link. */
export interface LinkFault {
  /** Reset connections and refuse new ones. */
  readonly drop?: boolean;
  /** Delay every chunk by this many milliseconds. */
  readonly delayMs?: number;
}

/** The dialer name of connections from the test process itself. */
export const CLIENT = 'client';
/** The dialer name of connections from a process the network does not know. */
export const UNKNOWN = 'unknown';

interface Conn {
  readonly from: string;
  readonly to: string;
  readonly down: Socket;
  readonly up: Socket;
}

/** One listening proxy in front of the endpoint `name`. */
export class FaultProxy {
  private constructor(
    readonly name: string,
    readonly target: string,
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** The proxy's `host:port` (what the store advertises). */
  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** @internal Starts listening; `onConn` is handed each accepted (paused) socket. */
  static async listen(name: string, target: string, onConn: (s: Socket, proxy: FaultProxy) => void, port = 0): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer({ pauseOnConnect: true }, (s) => onConn(s, holder.proxy!));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    holder.proxy = new FaultProxy(name, target, server, (server.address() as { port: number }).port);
    return holder.proxy;
  }

  /** Stops accepting connections. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export class FaultNet {
  private readonly proxies = new Map<string, FaultProxy>();
  private readonly pids = new Map<string, number>([[CLIENT, process.pid]]);
  private readonly faults = new Map<string, LinkFault>();
  private readonly conns = new Set<Conn>();
  /** Connections refused by a `drop` fault, per link (`from>to`), for assertions. */
  readonly refused = new Map<string, number>();

  /** Starts a proxy for `name` forwarding to `target` (`host:port`), on `port` (default: any free one). */
  async addProxy(name: string, target: string, port = 0): Promise<FaultProxy> {
    if (this.proxies.has(name)) throw new Error(`FaultNet: a proxy for ${name} exists already`);
    const p = await FaultProxy.listen(name, target, (s, proxy) => void this.accept(s, proxy), port);
    this.proxies.set(name, p);
    return p;
  }

  /** The proxy of `name`. */
  proxy(name: string): FaultProxy {
    const p = this.proxies.get(name);
    if (!p) throw new Error(`FaultNet: no proxy for ${name}`);
    return p;
  }

  /** Registers (or updates, after a restart) the pid of endpoint `name`, so its dials are recognised. */
  setPid(name: string, pid: number): void {
    this.pids.set(name, pid);
  }

  /** Sets the fault of the link `from` → `to` (undefined clears it) and applies it to live connections. */
  setLink(from: string, to: string, fault: LinkFault | undefined): void {
    const key = `${from}>${to}`;
    if (fault === undefined || (!fault.drop && !fault.delayMs)) this.faults.delete(key);
    else this.faults.set(key, fault);
    if (fault?.drop) for (const c of this.conns) if (c.from === from && c.to === to) this.destroy(c);
  }

  /** The fault of the link `from` → `to` now. */
  link(from: string, to: string): LinkFault {
    return this.faults.get(`${from}>${to}`) ?? {};
  }

  /** Drops traffic in both directions between `a` and `b`. */
  partitionPair(a: string, b: string): void {
    this.setLink(a, b, { drop: true });
    this.setLink(b, a, { drop: true });
  }

  /** Cuts `name` off from every other proxied endpoint, both ways. Clients still reach it. */
  isolate(name: string): void {
    for (const other of this.proxies.keys()) if (other !== name) this.partitionPair(name, other);
  }

  /** Cuts clients (the test process) off from `name`. */
  blockClients(name: string): void {
    this.setLink(CLIENT, name, { drop: true });
  }

  /** Clears every fault. */
  heal(): void {
    this.faults.clear();
  }

  /** Live proxied connections (for diagnostics). */
  connections(): Array<{ from: string; to: string }> {
    return [...this.conns].map((c) => ({ from: c.from, to: c.to }));
  }

  /** Closes every proxy and connection. */
  async close(): Promise<void> {
    for (const c of this.conns) this.destroy(c);
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
  }

  private async accept(down: Socket, proxy: FaultProxy): Promise<void> {
    down.on('error', () => down.destroy());
    const remotePort = down.remotePort;
    const from = remotePort === undefined ? UNKNOWN : ((await dialerOf(remotePort, proxy.port, this.pids).catch(() => undefined)) ?? UNKNOWN);
    const to = proxy.name;
    if (this.link(from, to).drop) {
      const key = `${from}>${to}`;
      this.refused.set(key, (this.refused.get(key) ?? 0) + 1);
      down.destroy();
      return;
    }
    const [host, port] = splitHostPort(proxy.target);
    const up = connect({ host, port });
    const conn: Conn = { from, to, down, up };
    this.conns.add(conn);
    up.on('error', () => this.destroy(conn));
    down.on('close', () => this.destroy(conn));
    up.on('close', () => this.destroy(conn));
    this.pipe(conn, down, up);
    this.pipe(conn, up, down);
    down.resume();
  }

  /** Forwards `src` to `dst`, each chunk delayed by the link's delay at the time it arrived, in order. */
  private pipe(conn: Conn, src: Socket, dst: Socket): void {
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.due <= now) dst.write(queue.shift()!.chunk);
      if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
    };
    src.on('data', (chunk: Buffer) => {
      const delay = this.link(conn.from, conn.to).delayMs ?? 0;
      if (delay <= 0 && queue.length === 0) {
        dst.write(chunk);
        return;
      }
      const due = Math.max(Date.now() + delay, queue.length > 0 ? queue[queue.length - 1]!.due : 0);
      queue.push({ due, chunk });
      timer ??= setTimeout(flush, due - Date.now());
    });
    src.on('close', () => {
      if (timer) clearTimeout(timer);
    });
  }

  private destroy(c: Conn): void {
    if (!this.conns.delete(c)) return;
    c.down.destroy();
    c.up.destroy();
  }
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}

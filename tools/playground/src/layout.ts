/**
 * Where everything of a playground lives: ports (PD on the base port P, store i on P+i, status
 * ports from P+100: PD's at P+100, store i's at P+100+i) and directories under the playground
 * directory D (`D/pd`, `D/store-<i>`, logs in `D/logs/<name>.log`, the layout itself in
 * `D/playground.json`).
 */
import { join } from 'node:path';
import { freePorts } from './ports.js';

/** Offset of the status ports from the base port. */
export const STATUS_PORT_OFFSET = 100;

/** One store's place. */
export interface StoreSlot {
  /** 1-based index: the store's name is `store-<index>`. */
  readonly index: number;
  readonly name: string;
  /** gRPC address `host:port`. */
  readonly addr: string;
  /** HTTP status address `host:port`. */
  readonly statusAddr: string;
  readonly dataDir: string;
  readonly logFile: string;
}

/** The whole playground's places. */
export interface Layout {
  readonly dir: string;
  readonly host: string;
  readonly pd: { readonly addr: string; readonly statusPort: number; readonly dataDir: string; readonly logFile: string };
  readonly stores: readonly StoreSlot[];
}

/** Every port of `layout` (for checking they are free). */
export function layoutPorts(layout: Layout): number[] {
  const port = (a: string) => Number(a.slice(a.lastIndexOf(':') + 1));
  return [port(layout.pd.addr), layout.pd.statusPort, ...layout.stores.flatMap((s) => [port(s.addr), port(s.statusAddr)])];
}

/** The layout of `stores` stores under `dir`; `basePort` 0 picks free ports instead of P, P+i, P+100+i. */
export async function planLayout(dir: string, stores: number, basePort: number, host: string): Promise<Layout> {
  let ports: number[];
  if (basePort === 0) {
    ports = await freePorts(2 * (stores + 1), host);
  } else {
    ports = [basePort, basePort + STATUS_PORT_OFFSET];
    for (let i = 1; i <= stores; i++) ports.push(basePort + i, basePort + STATUS_PORT_OFFSET + i);
  }
  const logs = join(dir, 'logs');
  return {
    dir,
    host,
    pd: { addr: `${host}:${ports[0]!}`, statusPort: ports[1]!, dataDir: join(dir, 'pd'), logFile: join(logs, 'pd.log') },
    stores: Array.from({ length: stores }, (_, k) => {
      const index = k + 1;
      const name = `store-${index}`;
      return {
        index,
        name,
        addr: `${host}:${ports[2 + 2 * k]!}`,
        statusAddr: `${host}:${ports[3 + 2 * k]!}`,
        dataDir: join(dir, name),
        logFile: join(logs, `${name}.log`),
      };
    }),
  };
}

/**
 * Split keys that cut the key space into `regions` parts of equal share of `mrkv-bench` keys:
 * `k` + hex8(j·2^32/regions), j = 1…regions−1 (bench keys are `k` + 8 hex digits of a 32-bit hash
 * + 7 digits, tools/bench/src/keys.ts). Other keys all land in the first or last region.
 */
export function evenSplitKeys(regions: number): Buffer[] {
  const out: Buffer[] = [];
  for (let j = 1; j < regions; j++) {
    const prefix = Math.floor((j * 2 ** 32) / regions);
    out.push(Buffer.from('k' + prefix.toString(16).padStart(8, '0'), 'latin1'));
  }
  return out;
}

/**
 * `host:port` addresses as the services write them in flags, logs and /status: IPv6 hosts in
 * brackets (`[::1]:20160`), port 0 meaning "pick a free one" until the listener is bound.
 */

/** Splits `host:port` (`[v6]:port` too). The port is `NaN` when the text after the last `:` is not a number. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(addr.slice(i + 1)) };
}

/** `host:port`, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

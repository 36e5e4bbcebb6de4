/**
 * The fault network on its own: dialers are named by pid (the test process as `client`, a child
 * process by its registered name), a dropped link resets live connections and refuses new ones
 * while other links keep working, a delay holds bytes back in order, and heal restores traffic.
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT, FaultNet } from './fault-net.js';

let echo: Server;
let echoPort: number;
let net: FaultNet;

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
  net = new FaultNet();
  await net.addProxy('s0', `127.0.0.1:${echoPort}`);
});
afterAll(async () => {
  await net?.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

/** Connects to the proxy and resolves with the socket once the echo of `probe` came back (or rejects). */
function roundTrip(port: number, probe: string, timeoutMs = 3_000): Promise<{ socket: Socket; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = connect({ host: '127.0.0.1', port }, () => s.write(probe));
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no echo in time'));
    }, timeoutMs);
    s.on('data', (d) => {
      got += d.toString();
      if (got === probe) {
        clearTimeout(timer);
        resolve({ socket: s, ms: Date.now() - started });
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before the echo'));
    });
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('FaultNet', () => {
  it('forwards and names the test process as the client', async () => {
    const { socket } = await roundTrip(net.proxy('s0').port, 'hello');
    await waitUntil(() => net.connections().length > 0);
    expect(net.connections()).toContainEqual({ from: CLIENT, to: 's0' });
    socket.destroy();
  });

  it('names a registered child process by its pid', async () => {
    const port = net.proxy('s0').port;
    const child = spawn(process.execPath, ['-e', `const s=require('net').connect(${port},'127.0.0.1');s.on('data',()=>{});setTimeout(()=>process.exit(0),1500)`], { stdio: 'ignore' });
    net.setPid('s9', child.pid!);
    try {
      await waitUntil(() => net.connections().some((c) => c.from === 's9'));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('drop resets live connections on the link, refuses new ones, and heal restores it', async () => {
    const { socket } = await roundTrip(net.proxy('s0').port, 'before');
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    net.setLink(CLIENT, 's0', { drop: true });
    await closed;
    await expect(roundTrip(net.proxy('s0').port, 'during')).rejects.toThrow();
    expect(net.refused.get(`${CLIENT}>s0`)).toBeGreaterThan(0);
    net.heal();
    const again = await roundTrip(net.proxy('s0').port, 'after');
    again.socket.destroy();
  });

  it('a dropped link between two other endpoints leaves this one alone', async () => {
    net.partitionPair('s1', 's2');
    const { socket } = await roundTrip(net.proxy('s0').port, 'unaffected');
    socket.destroy();
    net.heal();
  });

  it('delay holds the bytes back', async () => {
    net.setLink(CLIENT, 's0', { delayMs: 150 });
    const { socket, ms } = await roundTrip(net.proxy('s0').port, 'slow');
    socket.destroy();
    net.heal();
    // The request and the echo both cross the delayed link (it is the connection's, both ways).
    expect(ms).toBeGreaterThanOrEqual(290);
  });
});

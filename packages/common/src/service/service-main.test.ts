import { describe, expect, it } from 'vitest';
import { InvariantViolation, MrkvError } from '../errors.js';
import type { Logger } from '../logger.js';
import { runServiceMain, type ProcessHost, type RootLogger, type ServiceMainSpec } from './service-main.js';

interface Line {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** A fake process: records writes and exit codes, and lets the test raise signals and errors. */
class FakeHost implements ProcessHost {
  out = '';
  err = '';
  readonly codes: number[] = [];
  private readonly listeners = new Map<string, Array<(arg: unknown) => void>>();
  private resolveExit!: (code: number) => void;
  /** The first exit code. */
  readonly exited = new Promise<number>((r) => (this.resolveExit = r));
  readonly stdout = { write: (s: string) => (this.out += s) };
  readonly stderr = { write: (s: string) => (this.err += s) };

  on(event: string, listener: (arg: unknown) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  exit(code: number): void {
    this.codes.push(code);
    this.resolveExit(code);
  }
  emit(event: string, arg?: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l(arg);
  }
}

function recordingRoot(): RootLogger & { lines: Line[]; flushes: number } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown> | string, msg?: string): void =>
      void lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, msg });
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
    isLevelEnabled: () => true,
  };
  const root = {
    logger,
    lines,
    flushes: 0,
    flush: async () => {
      root.flushes++;
    },
  };
  return root;
}

/** A commander-shaped error (the flow knows them by their `commander.*` code). */
class FakeCommanderError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface Args {
  printConfig: boolean;
  config: { port: number };
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function spec(
  root: RootLogger,
  over: Partial<ServiceMainSpec<Args, { stop(): Promise<{ drained: boolean }> }>> = {},
): ServiceMainSpec<Args, { stop(): Promise<{ drained: boolean }> }> {
  return {
    command: 'mrkv-test',
    parse: (argv) => ({ printConfig: argv.includes('--print-config'), config: { port: 7 } }),
    printedConfig: (a) => ({ 'file-form': a.config.port }),
    rootLogger: () => root,
    startingFields: (a) => ({ port: a.config.port }),
    start: async () => ({ stop: async () => ({ drained: true }) }),
    stopped: ({ drained }, logger) => logger.info({ drained }, 'exiting'),
    ...over,
  };
}

const msgs = (r: { lines: Line[] }) => r.lines.map((l) => `${l.level} ${l.msg}`);

describe('runServiceMain', () => {
  it('exits 0 for --help and --version and 2 for a usage error, writing nothing itself', async () => {
    for (const [code, exit] of [
      ['commander.helpDisplayed', 0],
      ['commander.version', 0],
      ['commander.unknownOption', 2],
      ['commander.invalidArgument', 2],
    ] as const) {
      const host = new FakeHost();
      void runServiceMain([], spec(recordingRoot(), { parse: () => { throw new FakeCommanderError(code); } }), host);
      expect(await host.exited).toBe(exit);
      expect(host.err + host.out).toBe('');
    }
  });

  it('exits 2 for a bad config, naming the command and the typed message', async () => {
    const host = new FakeHost();
    const bad = new MrkvError('KV:Common:InvalidConfig', 'server.addr: expected host:port');
    void runServiceMain([], spec(recordingRoot(), { parse: () => { throw bad; } }), host);
    expect(await host.exited).toBe(2);
    expect(host.err).toBe('mrkv-test: server.addr: expected host:port\n');
  });

  it('prints the config in file form for --print-config and exits 0 without a logger', async () => {
    const host = new FakeHost();
    let loggers = 0;
    void runServiceMain(['--print-config'], spec(recordingRoot(), { rootLogger: () => (loggers++, recordingRoot()) }), host);
    expect(await host.exited).toBe(0);
    expect(JSON.parse(host.out)).toEqual({ 'file-form': 7 });
    expect(loggers).toBe(0);
  });

  it('starts, stops gracefully on SIGTERM, reports what stop said and exits 0 after a flush', async () => {
    const host = new FakeHost();
    const root = recordingRoot();
    const started = deferred<void>();
    let stops = 0;
    void runServiceMain(
      [],
      spec(root, {
        start: async () => {
          started.resolve();
          return { stop: async () => (stops++, { drained: false }) };
        },
      }),
      host,
    );
    await started.promise;
    await Promise.resolve();
    host.emit('SIGTERM');
    expect(await host.exited).toBe(0);
    expect(stops).toBe(1);
    expect(root.flushes).toBe(1);
    expect(msgs(root)).toEqual(['info mrkv-test starting', 'info signal received: shutting down gracefully', 'info exiting']);
    expect(root.lines[0]!.obj).toEqual({ port: 7 });
    expect(root.lines[1]!.obj).toEqual({ signal: 'SIGTERM' });
    expect(root.lines[2]!.obj).toEqual({ drained: false });
  });

  it('exits 128 + n on a second signal while stopping', async () => {
    const host = new FakeHost();
    const root = recordingRoot();
    const started = deferred<void>();
    const stopping = deferred<{ drained: boolean }>();
    void runServiceMain([], spec(root, { start: async () => (started.resolve(), { stop: () => stopping.promise }) }), host);
    await started.promise;
    await Promise.resolve();
    host.emit('SIGINT');
    host.emit('SIGTERM');
    expect(await host.exited).toBe(128 + 15);
    expect(msgs(root).slice(-1)).toEqual(['warn second signal: exiting now']);
    host.emit('SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(host.codes).toEqual([143, 130]);
  });

  it('exits 1 when start-up fails, logging it fatal', async () => {
    const host = new FakeHost();
    const root = recordingRoot();
    const cause = new MrkvError('PD:server:ErrDataDir', 'data dir locked');
    void runServiceMain([], spec(root, { start: () => Promise.reject(cause) }), host);
    expect(await host.exited).toBe(1);
    expect(root.lines.at(-1)).toEqual({ level: 'fatal', obj: { err: cause }, msg: 'mrkv-test failed to start' });
  });

  it('exits 1 when stopping fails', async () => {
    const host = new FakeHost();
    const root = recordingRoot();
    const started = deferred<void>();
    void runServiceMain([], spec(root, { start: async () => (started.resolve(), { stop: () => Promise.reject(new Error('stuck')) }) }), host);
    await started.promise;
    await Promise.resolve();
    host.emit('SIGTERM');
    expect(await host.exited).toBe(1);
    expect(msgs(root).at(-1)).toBe('error error while stopping');
  });

  it('stops right after start-up when a signal arrived during it', async () => {
    const host = new FakeHost();
    const root = recordingRoot();
    const gate = deferred<void>();
    let stops = 0;
    void runServiceMain([], spec(root, { start: async () => (await gate.promise, { stop: async () => (stops++, { drained: true }) }) }), host);
    await Promise.resolve();
    host.emit('SIGINT');
    expect(host.codes).toEqual([]);
    gate.resolve();
    expect(await host.exited).toBe(0);
    expect(stops).toBe(1);
  });

  it('fails fast on an uncaught exception or unhandled rejection (exit 1, fatal, invariant flag)', async () => {
    for (const [event, err, invariant] of [
      ['uncaughtException', new InvariantViolation('match < next'), true],
      ['unhandledRejection', new Error('oops'), false],
    ] as const) {
      const host = new FakeHost();
      const root = recordingRoot();
      const started = deferred<void>();
      void runServiceMain([], spec(root, { start: async () => (started.resolve(), { stop: async () => ({ drained: true }) }) }), host);
      await started.promise;
      host.emit(event, err);
      expect(await host.exited).toBe(1);
      expect(root.lines.at(-1)).toEqual({ level: 'fatal', obj: { err, invariant }, msg: event === 'uncaughtException' ? 'uncaught exception' : 'unhandled rejection' });
    }
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCodes, runCli } from './cli-program.js';
import { HistoryRecorder } from './recorder.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../testdata/porcupine/', import.meta.url));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

let dir: string;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mrkv-check-history-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stale read: put "a" completes, then a get returns absent. */
function staleHistory(): string {
  const r = new HistoryRecorder();
  r.ok(r.invoke(1, { op: 'put', key: 'k', value: 'a' }, 1), {}, 2);
  r.ok(r.invoke(2, { op: 'get', key: 'k' }, 3), { value: null }, 4);
  return r.toJsonl();
}

describe('check-history CLI', () => {
  it('prints linearizable and exits 0', async () => {
    const { code, out } = await cli(`${GOLDEN}jepsen/etcd_002.log`, '--format', 'jepsen-register');
    expect(code).toBe(ExitCodes.LINEARIZABLE);
    expect(out.split('\n')[0]).toBe('linearizable');
  });

  it('prints not linearizable with the offending window and exits 1', async () => {
    const { code, out } = await cli(`${GOLDEN}kv/c01-bad.txt`, '--format', 'jepsen-kv');
    expect(code).toBe(ExitCodes.NOT_LINEARIZABLE);
    expect(out.split('\n')[0]).toBe('not linearizable');
    expect(out).toContain('key: "7"');
    expect(out).toMatch(/stops being linearizable when this operation returns:\n\s+#29\s+client 0\s+get\("7"\) → "x 0 0 y"\s+lines 59–60/);
    expect(out).toContain('Pending at that point');
  });

  it('reads its own JSON lines, guessing the format, with clock times', async () => {
    const { code, out } = await cli(file('stale.jsonl', staleHistory()));
    expect(code).toBe(ExitCodes.NOT_LINEARIZABLE);
    expect(out).toMatch(/#1\s+client 2\s+get\("k"\) → null\s+call 3 ret 4/);
  });

  it('checks several files, prefixing each verdict, and exits with the worst', async () => {
    const { code, out } = await cli('-q', `${GOLDEN}kv/c01-ok.txt`, file('stale2.jsonl', staleHistory()));
    expect(code).toBe(ExitCodes.NOT_LINEARIZABLE);
    expect(out).toBe(`${GOLDEN}kv/c01-ok.txt: linearizable\n${join(dir, 'stale2.jsonl')}: not linearizable\n`);
  });

  it('prints one JSON object per file with --json', async () => {
    const { code, out } = await cli('--json', `${GOLDEN}jepsen/etcd_000.log`);
    expect(code).toBe(ExitCodes.NOT_LINEARIZABLE);
    const result = JSON.parse(out) as { file: string; format: string; verdict: string; violation: { core: unknown[] } };
    expect(result).toMatchObject({ format: 'jepsen-register', verdict: 'not-linearizable' });
    expect(result.violation.core.length).toBeGreaterThan(0);
  });

  it('exits 2 naming the line of a parse error', async () => {
    const bad = file('bad.jsonl', '{"type":"invoke","client":1,"op":"get","key":"k","time":1}\n{"type":"ok","client":1,"time":2,"value":7}\n');
    const { code, err, out } = await cli(bad);
    expect(code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    expect(err).toContain(`${bad}:2: "value" must be a string or null`);
    expect(out).toBe('');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli()).code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    const badFormat = await cli('--format', 'edn', 'x');
    expect(badFormat.code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    expect(badFormat.err).toMatch(/Allowed choices are auto, jepsen-register, jepsen-kv, mrkv-jsonl/);
    const badTimeout = await cli('--timeout', '-1', 'x');
    expect(badTimeout.code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    expect(badTimeout.err).toMatch(/positive number of seconds/);
    const missing = await cli(join(dir, 'nope.log'));
    expect(missing.code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    expect(missing.err).toMatch(/cannot read .*nope\.log/);
    const unknown = await cli(file('prose.txt', 'hello\n'));
    expect(unknown.code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    expect(unknown.err).toMatch(/cannot tell the history format .*pass --format/);
    const empty = await cli('--format', 'jepsen-register', file('empty.log', 'INFO  jepsen.core - nothing here\n'));
    expect(empty.code).toBe(ExitCodes.USAGE_OR_PARSE_ERROR);
    expect(empty.err).toMatch(/no operations found in jepsen-register format/);
  });

  it('prints help and exits 0', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: check-history \[options\] <files\.\.\.>/);
  });

  it('exits 3 when the search budget runs out', async () => {
    // 20 concurrent writes and a read of a value none wrote: about 2^20 configurations to exhaust.
    const r = new HistoryRecorder();
    const handles = Array.from({ length: 20 }, (_, i) => r.invoke(i, { op: 'put', key: 'k', value: `v${i}` }, 0));
    const read = r.invoke(99, { op: 'get', key: 'k' }, 0);
    handles.forEach((h) => r.ok(h, {}, 100));
    r.ok(read, { value: 'none' }, 100);
    const { code, out } = await cli('--timeout', '0.001', file('hard.jsonl', r.toJsonl()));
    expect(code).toBe(ExitCodes.UNKNOWN);
    expect(out.split('\n')[0]).toBe('unknown');
    expect(out).toMatch(/budget ran out on key "k"/);
  });

  it('runs as a command from the repository root (pnpm check-history)', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['tools/run-ts.mjs', 'packages/checker/src/cli.ts', ...args], { cwd: REPO, encoding: 'utf8' });
    const ok = run(`${GOLDEN}kv/c01-ok.txt`);
    expect(ok.stdout.split('\n')[0]).toBe('linearizable');
    expect(ok.status).toBe(0);
    const bad = run('-q', `${GOLDEN}jepsen/etcd_000.log`);
    expect(bad.stdout).toBe('not linearizable\n');
    expect(bad.status).toBe(1);
    const usage = run();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument 'files'/);
  });
});

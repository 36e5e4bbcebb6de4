/**
 * tools/gen-proto.mjs, run in a throw-away copy of the repo layout: generation, the up-to-date
 * no-op, regeneration on change, loud failure that keeps the previous output, and byte-identical
 * output across checkouts.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

/** A minimal copy of the repo layout that gen-proto needs, at a fresh absolute path. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrkv-gen-proto-'));
  temps.push(dir);
  cpSync(join(repo, 'proto'), join(dir, 'proto'), { recursive: true });
  mkdirSync(join(dir, 'tools'));
  cpSync(join(repo, 'tools', 'gen-proto.mjs'), join(dir, 'tools', 'gen-proto.mjs'));
  mkdirSync(join(dir, 'packages', 'proto'), { recursive: true });
  cpSync(join(repo, 'packages', 'proto', 'package.json'), join(dir, 'packages', 'proto', 'package.json'));
  symlinkSync(join(repo, 'packages', 'proto', 'node_modules'), join(dir, 'packages', 'proto', 'node_modules'), 'dir');
  return dir;
}

function runIn(dir: string) {
  const r = spawnSync(process.execPath, ['tools/gen-proto.mjs'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under `dir` (relative path -> content). */
function tree(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [join(e.parentPath, e.name).slice(dir.length + 1), readFileSync(join(e.parentPath, e.name), 'utf8')]));
}

const work = workspace();
const gen = join(work, 'packages', 'proto', 'src', 'generated');
const run = () => runIn(work);

describe('tools/gen-proto.mjs', () => {
  it('generates message types, service types and one barrel per proto package', () => {
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^gen-proto: 10 proto files -> \d+ files/);
    for (const f of ['tikvpb/Tikv.ts', 'pdpb/PD.ts', 'kvrpcpb/Context.ts', 'mrkv/raftcmd/RaftCmdRequest.ts', 'ns/kvrpcpb.ts', 'ns/mrkv.raftcmd.ts', '.fingerprint']) {
      expect(existsSync(join(gen, f)), f).toBe(true);
    }
    const barrel = readFileSync(join(gen, 'ns', 'tikvpb.ts'), 'utf8');
    expect(barrel).toContain("export type * from '../tikvpb/Tikv.js';");
    expect(barrel).toContain('_tikvpb_BatchCommandsRequest_Request as BatchCommandsRequest_Request');
    // Generated files name their source with a repo-relative path only.
    expect(readFileSync(join(gen, 'kvrpcpb', 'Context.ts'), 'utf8')).toMatch(/^\/\/ Original file: proto\/kvrpcpb\.proto/);
  });

  it('produces byte-identical output in another checkout (no machine-specific paths)', () => {
    const other = workspace();
    expect(runIn(other).status).toBe(0);
    const a = tree(gen);
    const b = tree(join(other, 'packages', 'proto', 'src', 'generated'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [f, text] of a) expect(b.get(f), f).toBe(text);
    expect([...a.values()].some((t) => t.includes(work))).toBe(false);
  });

  it('is a silent no-op when nothing changed', () => {
    const before = statSync(join(gen, 'kvrpcpb', 'Context.ts')).mtimeMs;
    const r = run();
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(statSync(join(gen, 'kvrpcpb', 'Context.ts')).mtimeMs).toBe(before);
  });

  it('regenerates when a proto file is added or removed', () => {
    writeFileSync(join(work, 'proto', 'extra.proto'), 'syntax = "proto3";\npackage extra;\nmessage Ping { uint64 n = 1; }\n');
    expect(run().stdout).toMatch(/^gen-proto: 11 proto files/);
    expect(existsSync(join(gen, 'extra', 'Ping.ts'))).toBe(true);
    expect(existsSync(join(gen, 'ns', 'extra.ts'))).toBe(true);

    unlinkSync(join(work, 'proto', 'extra.proto'));
    expect(run().stdout).toMatch(/^gen-proto: 10 proto files/);
    expect(existsSync(join(gen, 'extra'))).toBe(false);
  });

  it('fails loudly on a broken proto and keeps the previous output', () => {
    const fingerprint = readFileSync(join(gen, '.fingerprint'), 'utf8');
    const file = join(work, 'proto', 'metapb.proto');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('uint64 conf_ver = 1;', 'uint64 conf_ver = ;'));
    try {
      const r = run();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('gen-proto: proto-loader-gen-types failed');
      expect(readFileSync(join(gen, '.fingerprint'), 'utf8')).toBe(fingerprint);
      expect(existsSync(join(gen, 'metapb', 'RegionEpoch.ts'))).toBe(true);
      expect(readdirSync(join(gen, '..')).filter((n) => n.startsWith('generated.tmp-'))).toEqual([]);
    } finally {
      writeFileSync(file, good);
    }
    expect(run()).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

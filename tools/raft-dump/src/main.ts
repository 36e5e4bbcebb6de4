#!/usr/bin/env node
/**
 * mrkv-raft-dump: prints the raft logs, raft states, apply states and region states of a store's
 * data directory (or of one engine directory), like etcd-dump-logs.
 *
 *   mrkv-raft-dump <data-dir> [--region N] [--from I] [--json] [--data]
 *
 * Exit status: 0 when every record decoded, 3 when some record failed its checksum (they are
 * printed, marked BAD), 1 on any other error (bad directory, directory in use, …).
 */
import { Command, InvalidArgumentError } from 'commander';
import { isMrkvError } from '@mrkv/common';
import { dumpDataDir, type DumpRecord } from './dump.js';
import { formatSummary, formatText, toJson } from './format.js';

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
    return n;
  };
}

interface CliOptions {
  region?: number;
  from?: number;
  json?: boolean;
  data?: boolean;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('mrkv-raft-dump')
    .description('Dump raft entries, hard states, apply and region states of an mrkv data directory')
    .argument('<data-dir>', 'a store data directory (kv/, raft/<n>/) or one engine directory')
    .option('--region <id>', 'only this region', positiveInt('--region'))
    .option('--from <index>', 'only entries at or above this index', positiveInt('--from'))
    .option('--json', 'one JSON object per line (the last one is the summary)')
    .option('--data', 'include entry data (hex)')
    .showHelpAfterError();
  program.parse(argv);
  const dir = program.args[0]!;
  const o = program.opts<CliOptions>();
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  };
  const emit = (r: DumpRecord) => {
    out.push(o.json ? toJson(r) : formatText(r));
    if (out.length >= 1000) flush();
  };
  try {
    const summary = await dumpDataDir(dir, { region: o.region, from: o.from, data: o.data }, emit);
    out.push(o.json ? toJson({ kind: 'summary', ...summary }) : formatSummary(summary));
    flush();
    return summary.badRecords > 0 ? 3 : 0;
  } catch (e) {
    flush();
    const code = isMrkvError(e) || e instanceof Error ? ` [${String((e as { code?: unknown }).code ?? 'error')}]` : '';
    process.stderr.write(`mrkv-raft-dump: ${(e as Error).message ?? String(e)}${code}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);

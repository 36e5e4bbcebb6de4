/**
 * Micro-benchmark of the contract codecs on the store's hottest message: a raft_serverpb.RaftMessage
 * carrying one MsgAppend with one entry (256-byte data by default), as sent between stores.
 *
 *   node tools/run-ts.mjs packages/proto/bench/codec-bench.ts [--entry-bytes 256] [--iterations 200000]
 *
 * Measures, per operation:
 * - `encode` / `decode`: the package codecs (encodeRaftMessage / decodeRaftMessage), i.e. what gRPC
 *   does per message: fromObject + encode, decode + toObject (64-bit ints as strings, enums as
 *   names, defaults filled in);
 * - `encode-raw` / `decode-raw`: protobufjs on its own (encode from a pre-built message with
 *   numeric enums; decode to a message instance without conversion), the floor a hand-tuned path
 *   through protobufjs could reach;
 * - `decode-num` / `decode-nodef`: decode + toObject with 64-bit ints as numbers, and with strings
 *   but without filling defaults, to show where the conversion time goes;
 * - `cmd-encode` / `cmd-decode`: a mrkv.raftcmd.RaftCmdRequest with one Put (the entry payload).
 *
 * Throughput comes from an untimed tight loop; p50/p99 from timing each call separately (which
 * adds ~50 ns of clock reads per call). Prints a table, then one JSON line last.
 */
import { parseArgs } from 'node:util';
import {
  decodeRaftCmdRequest,
  decodeRaftMessage,
  encodeRaftCmdRequest,
  encodeRaftMessage,
  protobufRoot,
  type raft_serverpb,
  type raftcmd,
} from '@mrkv/proto';

const { values } = parseArgs({
  options: {
    'entry-bytes': { type: 'string', default: '256' },
    iterations: { type: 'string', default: '200000' },
  },
});
const entryBytes = Number(values['entry-bytes']);
const iterations = Number(values.iterations);
if (!Number.isInteger(entryBytes) || entryBytes < 0 || !Number.isInteger(iterations) || iterations < 1000) {
  console.error('usage: codec-bench.ts [--entry-bytes N>=0] [--iterations N>=1000]');
  process.exit(2);
}

const data = Buffer.alloc(entryBytes, 0xab);
const message: raft_serverpb.RaftMessage = {
  regionId: 1042,
  fromPeer: { id: 1043, storeId: 1 },
  toPeer: { id: 1044, storeId: 2 },
  regionEpoch: { confVer: 5, version: 17 },
  message: {
    msgType: 'MsgAppend',
    to: 1044,
    from: 1043,
    term: 8,
    logTerm: 8,
    index: 123_455,
    commit: 123_450,
    entries: [{ entryType: 'EntryNormal', term: 8, index: 123_456, data }],
  },
};
const cmd: raftcmd.RaftCmdRequest = {
  header: { regionId: 1042, peer: { id: 1043, storeId: 1 }, regionEpoch: { confVer: 5, version: 17 }, term: 8, uuid: Buffer.alloc(16, 7) },
  requests: [{ cmdType: 'Put', put: { cf: 'default', key: Buffer.from('user0000001234'), value: data } }],
};

// protobufjs alone: a pre-built message (numeric enums) and conversion-free decode.
const RaftMessageType = protobufRoot().lookupType('raft_serverpb.RaftMessage');
const rawMessage = RaftMessageType.fromObject(message);

const encoded = encodeRaftMessage(message);
const encodedCmd = encodeRaftCmdRequest(cmd);

interface Result {
  op: string;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

let sink = 0; // keeps results observable so the JIT cannot drop the work

function measure(op: string, fn: () => number): Result {
  for (let i = 0; i < Math.min(20_000, iterations); i++) sink += fn(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn();
  const totalNs = Number(process.hrtime.bigint() - start);

  const samples = new Float64Array(Math.min(iterations, 100_000));
  for (let i = 0; i < samples.length; i++) {
    const t0 = process.hrtime.bigint();
    sink += fn();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  samples.sort();
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! / 1e6;
  return { op, opsPerSec: Math.round(iterations / (totalNs / 1e9)), p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

const results: Result[] = [
  measure('encode', () => encodeRaftMessage(message).length),
  measure('decode', () => decodeRaftMessage(encoded).message!.entries.length),
  measure('encode-raw', () => RaftMessageType.encode(rawMessage).finish().length),
  measure('decode-raw', () => ((RaftMessageType.decode(encoded) as unknown as { regionId: unknown }).regionId === undefined ? 0 : 1)),
  measure('decode-num', () => {
    const o = RaftMessageType.toObject(RaftMessageType.decode(encoded), { longs: Number, enums: String, defaults: true });
    return o['regionId'] as number;
  }),
  measure('decode-nodef', () => {
    const o = RaftMessageType.toObject(RaftMessageType.decode(encoded), { longs: String, enums: String });
    return (o['regionId'] as string).length;
  }),
  measure('cmd-encode', () => encodeRaftCmdRequest(cmd).length),
  measure('cmd-decode', () => decodeRaftCmdRequest(encodedCmd).requests.length),
];

const fmtUs = (ms: number) => `${(ms * 1000).toFixed(2)} µs`;
console.log(`proto codec bench: RaftMessage (MsgAppend, 1 entry of ${entryBytes} B) = ${encoded.length} B encoded; ` +
  `RaftCmdRequest (1 Put) = ${encodedCmd.length} B; ${iterations} iterations, Node ${process.version}`);
console.log('op           ops/s        p50         p99');
for (const r of results) {
  console.log(`${r.op.padEnd(12)} ${String(r.opsPerSec).padStart(9)}   ${fmtUs(r.p50Ms).padStart(9)}   ${fmtUs(r.p99Ms).padStart(9)}`);
}
if (sink === -1) console.log('unreachable');
console.log(
  JSON.stringify({
    name: 'proto-codec',
    parameters: { entryBytes, iterations, raftMessageBytes: encoded.length, raftCmdBytes: encodedCmd.length },
    results,
  }),
);

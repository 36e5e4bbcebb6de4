/**
 * `pnpm bench raft`: the cost of the Raft core alone. Three in-process nodes with in-memory
 * storage and no I/O replicate batches of proposals; every Ready is handled synchronously
 * (append to storage, deliver messages directly, apply). Reports committed entries per second
 * for 16- and 256-byte payloads with the per-batch latency (propose → applied on the leader),
 * and the heap an idle group costs (10,000 RawNodes, each a follower of a 3-voter group).
 *
 * Options: --batch <n> entries per proposal batch (default 64), --seconds <s> per payload size
 * (default 3), --groups <n> for the memory figure (default 10000).
 *
 * Last line: one JSON object with the results.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { Command } from 'commander';
import type { Message, Ready } from '@mrkv/raft';
import { MessageType, RawNode, StateRole, emptyConfState, newMessage } from '@mrkv/raft';
import { MemoryLogStorage, SeededRng } from '@mrkv/raft/testing';

const program = new Command()
  .option('--batch <n>', 'entries per proposal batch', '64')
  .option('--seconds <s>', 'seconds per payload size', '3')
  .option('--groups <n>', 'groups for the idle-memory figure', '10000')
  .parse();
const opts = program.opts<{ batch: string; seconds: string; groups: string }>();
const BATCH = Number(opts.batch);
const SECONDS = Number(opts.seconds);
const GROUPS = Number(opts.groups);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface BenchNode {
  rn: RawNode;
  storage: MemoryLogStorage;
  inbox: Message[];
  applied: number;
}

function makeGroup(): BenchNode[] {
  const voters = [1, 2, 3];
  return voters.map((id) => {
    const storage = MemoryLogStorage.bootstrap({ ...emptyConfState(), voters }, 1, 1);
    const rn = new RawNode({ id, electionTick: 10, heartbeatTick: 1, applied: 1, rng: new SeededRng(id), maxInflightMsgs: 256, maxSizePerMsg: 1 << 20 }, storage);
    return { rn, storage, inbox: [], applied: 0 };
  });
}

function route(nodes: BenchNode[], msgs: readonly Message[]): void {
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    nodes[m.to - 1]!.inbox.push(m);
  }
}

function countApplied(n: BenchNode, rd: { committedEntries: readonly { data: Uint8Array }[] }): void {
  const ents = rd.committedEntries;
  for (let i = 0; i < ents.length; i++) if (ents[i]!.data.length > 0) n.applied++;
}

/** Handles everything until the group is quiet. */
function pump(nodes: BenchNode[]): void {
  for (;;) {
    let progress = false;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (!n.rn.hasReady()) continue;
      progress = true;
      const rd: Ready = n.rn.ready();
      if (rd.entries.length > 0) n.storage.append(rd.entries);
      if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
      route(nodes, rd.messages);
      route(nodes, rd.persistedMessages);
      countApplied(n, rd);
      const light = n.rn.advance(rd);
      route(nodes, light.messages);
      countApplied(n, light);
      n.rn.advanceApply();
    }
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (n.inbox.length === 0) continue;
      progress = true;
      const box = n.inbox;
      n.inbox = [];
      for (let k = 0; k < box.length; k++) n.rn.step(box[k]!);
    }
    if (!progress) return;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function throughput(payload: number, batch = BATCH): { entriesPerSec: number; p50: number; p99: number; batches: number } {
  const BATCH = batch;
  const nodes = makeGroup();
  nodes[0]!.rn.campaign();
  pump(nodes);
  if (nodes[0]!.rn.raftState !== StateRole.Leader) throw new Error('node 1 did not become leader');
  const leader = nodes[0]!;
  const datas: Uint8Array[] = [];
  for (let i = 0; i < BATCH; i++) datas.push(new Uint8Array(payload).fill(i & 0xff));
  // Compact behind the applied index now and then, as a store would, so memory stays flat.
  const compactEvery = Math.max(BATCH, 4096 - (4096 % BATCH));
  const lat: number[] = [];
  const run = (deadlineMs: number): number => {
    const start = performance.now();
    const base = leader.applied;
    let batches = 0;
    while (performance.now() - start < deadlineMs) {
      const t0 = performance.now();
      const target = leader.applied + BATCH;
      leader.rn.proposeBatch(datas);
      pump(nodes);
      if (leader.applied < target) throw new Error(`batch not applied: ${leader.applied} < ${target}`);
      lat.push(performance.now() - t0);
      if (++batches % (compactEvery / BATCH) === 0) {
        for (const n of nodes) {
          const applied = n.rn.appliedIndex;
          if (applied > n.storage.firstIndex()) n.storage.compact(applied - 1);
        }
      }
    }
    return ((leader.applied - base) / (performance.now() - start)) * 1000;
  };
  run(Math.min(1000, SECONDS * 300)); // warm up
  lat.length = 0;
  const entriesPerSec = run(SECONDS * 1000);
  const sorted = Float64Array.from(lat).sort();
  return { entriesPerSec, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), batches: lat.length };
}

function idleGroupBytes(): { withStorage: number; raftOnly: number } {
  const voters = [1, 2, 3];
  const hb = (to: number): Message => {
    const m = newMessage(MessageType.MsgHeartbeat, to, 1, 1);
    m.commit = 1;
    return m;
  };
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const storages: MemoryLogStorage[] = [];
  for (let i = 0; i < GROUPS; i++) storages.push(MemoryLogStorage.bootstrap({ ...emptyConfState(), voters }, 1, 1));
  gc();
  const h1 = process.memoryUsage().heapUsed;
  const rng = new SeededRng(1);
  const nodes: RawNode[] = [];
  for (let i = 0; i < GROUPS; i++) {
    // A follower that heard from its leader and handled its Readies: the steady idle state.
    const rn = new RawNode({ id: 2, electionTick: 10, heartbeatTick: 1, applied: 1, rng }, storages[i]!);
    rn.step(hb(2));
    while (rn.hasReady()) rn.advance(rn.ready());
    nodes.push(rn);
  }
  gc();
  const h2 = process.memoryUsage().heapUsed;
  if (nodes.length !== GROUPS || storages.length !== GROUPS) throw new Error('unreachable');
  return { withStorage: (h2 - h0) / GROUPS, raftOnly: (h2 - h1) / GROUPS };
}

const r16 = throughput(16);
const r256 = throughput(256);
const r1 = throughput(16, 1);
const mem = idleGroupBytes();

const f = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`raft core, 3 in-process nodes, batches of ${BATCH}, ${SECONDS}s per size (no I/O)`);
console.log(`  16-byte payloads:  ${f(r16.entriesPerSec)} committed entries/s   batch p50 ${r16.p50.toFixed(3)} ms  p99 ${r16.p99.toFixed(3)} ms  (${r16.batches} batches)`);
console.log(`  256-byte payloads: ${f(r256.entriesPerSec)} committed entries/s   batch p50 ${r256.p50.toFixed(3)} ms  p99 ${r256.p99.toFixed(3)} ms  (${r256.batches} batches)`);
console.log(`  16-byte, one entry per proposal: ${f(r1.entriesPerSec)} committed entries/s   p50 ${r1.p50.toFixed(3)} ms  p99 ${r1.p99.toFixed(3)} ms`);
console.log(`  idle group (follower of a 3-voter group, ${f(GROUPS)} of them): ${f(mem.raftOnly)} B raft state, ${f(mem.withStorage)} B with its MemoryLogStorage`);
console.log(
  JSON.stringify({
    bench: 'raft',
    nodes: 3,
    batch: BATCH,
    seconds_per_size: SECONDS,
    entries_per_sec: Math.round(r16.entriesPerSec),
    entries_per_sec_256b: Math.round(r256.entriesPerSec),
    p50_ms: Number(r16.p50.toFixed(4)),
    p99_ms: Number(r16.p99.toFixed(4)),
    p50_ms_256b: Number(r256.p50.toFixed(4)),
    p99_ms_256b: Number(r256.p99.toFixed(4)),
    entries_per_sec_batch1: Math.round(r1.entriesPerSec),
    p50_ms_batch1: Number(r1.p50.toFixed(4)),
    p99_ms_batch1: Number(r1.p99.toFixed(4)),
    bytes_per_idle_group: Math.round(mem.raftOnly),
    bytes_per_idle_group_with_storage: Math.round(mem.withStorage),
    groups: GROUPS,
  }),
);

/**
 * Reading a V8 CPU profile (the `.cpuprofile` JSON that `node --cpu-prof` and the inspector's
 * `Profiler.stop` produce): self time per function, summed over every call-tree node of that
 * function, from the sample stream (`samples` + `timeDeltas`), not from `hitCount`, so the
 * times are real milliseconds.
 */

/** The parts of a V8 CPU profile this reads. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }>;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** One function's share of the samples. */
export interface SelfTime {
  /** Function name (`(anonymous)`, `(garbage collector)`, `(program)`, `(idle)` as V8 names them). */
  readonly name: string;
  /** `file:line` relative to the repo where possible (1-based line; the file alone when V8 reports none, as for tsx-compiled modules). */
  readonly where: string;
  readonly selfMs: number;
  /** Percent of all sampled time, idle included. */
  readonly selfPct: number;
}

/** The `limit` functions with the most self time. */
export function topSelfTime(profile: CpuProfile, limit: number, root = process.cwd()): SelfTime[] {
  const byNode = new Map<number, { name: string; where: string }>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const url = f.url.replace(/^file:\/\//, '').replace(root + '/', '');
    byNode.set(n.id, { name: f.functionName || '(anonymous)', where: url === '' ? '' : f.lineNumber > 0 ? `${url}:${f.lineNumber + 1}` : url });
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const acc = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the gap to the next sample (V8 records the gap before each).
    const us = Math.max(0, deltas[i + 1] ?? 0);
    total += us;
    const fn = byNode.get(samples[i]!);
    if (fn === undefined) continue;
    const key = `${fn.name}@${fn.where}`;
    const e = acc.get(key);
    if (e === undefined) acc.set(key, { ...fn, us });
    else e.us += us;
  }
  return [...acc.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, selfPct: total > 0 ? (100 * e.us) / total : 0 }));
}

/** The parts of a V8 sampling heap profile (`HeapProfiler.stopSampling`) this reads. */
export interface HeapProfile {
  readonly head: HeapProfileNode;
}

/** One call-tree node of a sampling heap profile: bytes sampled as allocated by that frame itself. */
export interface HeapProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapProfileNode[];
}

/** One function's share of the sampled allocations. */
export interface AllocationSite {
  readonly name: string;
  readonly where: string;
  /** Bytes the samples attribute to the function (an estimate: V8 scales samples to bytes). */
  readonly bytes: number;
  /** Percent of all sampled bytes. */
  readonly pct: number;
}

/** The `limit` functions that allocated the most, summed over every call-tree node of each. */
export function topAllocations(profile: HeapProfile, limit: number, root = process.cwd()): AllocationSite[] {
  const acc = new Map<string, { name: string; where: string; bytes: number }>();
  let total = 0;
  const stack: HeapProfileNode[] = [profile.head];
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (const c of n.children) stack.push(c);
    if (n.selfSize === 0) continue;
    total += n.selfSize;
    const f = n.callFrame;
    const url = f.url.replace(/^file:\/\//, '').replace(root + '/', '');
    const name = f.functionName || '(anonymous)';
    const where = url === '' ? '' : f.lineNumber > 0 ? `${url}:${f.lineNumber + 1}` : url;
    const key = `${name}@${where}`;
    const e = acc.get(key);
    if (e === undefined) acc.set(key, { name, where, bytes: n.selfSize });
    else e.bytes += n.selfSize;
  }
  return [...acc.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit)
    .map((e) => ({ ...e, pct: total > 0 ? (100 * e.bytes) / total : 0 }));
}

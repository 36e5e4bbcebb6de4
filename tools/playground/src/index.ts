/**
 * @mrkv/playground: a local mrkv cluster (PD + N stores as child processes on loopback) for
 * trying mrkv, for the benchmark harness (`mrkv-bench --target mrkv` without `--pd`) and for
 * cross-process tests. The command is `mrkv-playground` (`pnpm playground`, main.ts).
 */
export { startPlayground, REPO_ROOT, ENTRIES } from './playground.js';
export type { Playground, PlaygroundOptions, PlaygroundStatus, StoreState } from './playground.js';
export { planLayout, layoutPorts, evenSplitKeys, STATUS_PORT_OFFSET } from './layout.js';
export type { Layout, StoreSlot } from './layout.js';
export { Child, summarizeLines, TAIL_LINES } from './child.js';
export type { ChildSpec, ChildExit } from './child.js';
export { ClusterView, regionErrorText } from './cluster-view.js';
export type { RegionView } from './cluster-view.js';
export { freePorts, assertPortsFree } from './ports.js';
export { parsePlaygroundArgs } from './args.js';
export type { PlaygroundArgs } from './args.js';
export { formatStatus } from './status-line.js';
export { scatterPresplit, formatScatterReport, PLAYGROUND_SCATTER_GROUP, RETRYABLE_SKIPS } from './scatter.js';
export type { ScatterReport, ScatterOptions } from './scatter.js';
export { PlaygroundCodes, PlaygroundError } from './errors.js';
export type { PlaygroundCode } from './errors.js';

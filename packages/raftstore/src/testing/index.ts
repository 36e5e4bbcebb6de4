/** @mrkv/raftstore/testing: the in-process cluster harness, simulated network and PD. */
export { TestCluster, waitFor, sleep } from './cluster.js';
export type { ClusterOptions } from './cluster.js';
export { SimNetwork } from './sim-network.js';
export type { MessageFilter, NetworkEndpoint } from './sim-network.js';
export { InProcessPd } from './fake-pd.js';
export type { LinkShaper } from './sim-network.js';
export { SkewedClock } from './sim-clock.js';
export type { VirtualTime } from './sim-clock.js';
export { withSlowSync } from './slow-disk.js';
export type { SyncDelay } from './slow-disk.js';
export { FakeDiskSpace } from './fake-disk-space.js';

/** @mrkv/raftstore/testing: the in-process cluster harness, simulated network and PD. */
export { TestCluster, waitFor, sleep } from './cluster.js';
export type { ClusterOptions } from './cluster.js';
export { SimNetwork } from './sim-network.js';
export type { MessageFilter, NetworkEndpoint } from './sim-network.js';
export { InProcessPd } from './fake-pd.js';

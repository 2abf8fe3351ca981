/**
 * A `node:cluster` worker joins its host's cluster (docs/api.md, "Cluster";
 * docs/protocol.md, "Cluster").
 *
 * 1. It claims a slot: the first of `ownPort + 0 … ownPort + slots − 1`
 *    it can bind exclusively on the first address. Only one process can
 *    hold a port exclusively, so two live workers never share a slot, and
 *    a crashed worker's port (and slot) is free for its replacement as
 *    soon as the kernel has closed the dead process's sockets.
 * 2. Its own port on every other address (the same number) is the only
 *    one its connections are served on, advertised to every client.
 * 3. Its CIDs carry the slot (and the host's QUIC-LB server ID).
 * 4. The shared (public) port, the primary's handle, takes first contact;
 *    the router forwards what belongs to another worker.
 */
import type { CidFormat } from '../core/cid/format.js';
import type { SocketAddress } from '../core/types.js';
import { ClusterRouter } from './cluster-router.js';
import type { UdpEndpoint } from './udp-endpoint.js';

export interface ClusterJoin {
  /** The shared port; 0: the primary picks one (the same for every worker). */
  sharedPort: number;
  /** Port of slot 0; slot s serves on ownPort + s. 0: sharedPort + 1. */
  ownPort: number;
  /** Number of slots (the most workers at once). */
  slots: number;
  /** The CIDs of a given slot (the host's QUIC-LB configuration, if any). */
  formatFor: (slot: number) => CidFormat;
}

export interface ClusterJoined {
  slot: number;
  /** The shared port's addresses (what clients are given). */
  shared: SocketAddress[];
  /** This worker's own addresses (where its connections live). */
  own: SocketAddress[];
  router: ClusterRouter;
}

/** Binds the shared and own ports of `addresses`, claims a slot and starts routing. */
export async function joinCluster(endpoint: UdpEndpoint, addresses: readonly string[], join: ClusterJoin): Promise<ClusterJoined> {
  const shared = await endpoint.bindShared(addresses, join.sharedPort);
  const sharedPort = shared[0]!.port;
  const ownPort = join.ownPort === 0 ? sharedPort + 1 : join.ownPort;
  const served = shared.map((a) => a.address);
  let own: SocketAddress[] | null = null;
  let slot = 0;
  for (; slot < join.slots; slot++) {
    try {
      // Fix the CID format before the core can hold a connection.
      endpoint.core.setCidFormat(join.formatFor(slot));
      own = await endpoint.bind(served, ownPort + slot, true);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  if (own === null) {
    const err = new Error(`every worker port ${ownPort}..${ownPort + join.slots - 1} is taken: more workers than cluster.workers?`) as NodeJS.ErrnoException;
    err.code = 'EADDRINUSE';
    throw err;
  }
  const router = new ClusterRouter({
    sharedPort,
    slot,
    slots: join.slots,
    firstPort: ownPort,
    format: endpoint.core.cids,
    clock: endpoint.clock,
  });
  endpoint.attachRouter(router);
  return { slot, shared, own, router };
}

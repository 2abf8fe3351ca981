/**
 * The scale-out options of `createServer()` (docs/api.md, "Cluster"):
 * `cluster` (node:cluster workers share the public port) and `quicLb`
 * (the server ID an ID-routing balancer finds in every CID we issue).
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { CidFormat, MAX_SLOTS, SLOT_LENGTH, quicLbProblem, type QuicLbConfig } from '../core/cid/format.js';
import { CID_LENGTH } from '../wire/types.js';
import { invalidArgType, invalidArgValue } from './errors.js';
import { validateBoolean, validateInteger, validateObject, validatePort } from './validate.js';

/** `options.cluster` as given. */
export interface ClusterOptionsInput {
  /** Most workers at once (slots): their ports are ownPort … ownPort + workers − 1. Default os.availableParallelism(). */
  workers?: number;
  /** Port of the first worker; 0: the public port + 1. Default 0. */
  ownPort?: number;
}

/** `options.quicLb` as given: this host's QUIC-LB configuration, as its balancer has it. */
export interface QuicLbOptionsInput {
  /** Config rotation codepoint, 0..6. Default 0. */
  configId?: number;
  /** This host's server ID (1 byte or more; with the worker slot and nonce, 7 bytes in all). */
  serverId: Uint8Array;
  /** 16-byte AES key (encrypted server ID), or null/absent (plaintext). */
  key?: Uint8Array | null;
}

/** What the server keeps of them. */
export interface ValidScaleOptions {
  /** null: not a cluster worker (or `cluster: false`). */
  cluster: { workers: number; ownPort: number } | null;
  quicLb: QuicLbConfig | null;
}

/**
 * Checks `options.cluster` and `options.quicLb`. In a node:cluster worker
 * the cluster mode is on unless `cluster: false`; in any other process a
 * `cluster` option is ignored (a primary, or a single process, serves alone).
 */
export function validateScaleOptions(o: Record<string, unknown>, isWorker = cluster.isWorker): ValidScaleOptions {
  let clusterOut: ValidScaleOptions['cluster'] = null;
  const c = o.cluster;
  if (c !== undefined && typeof c !== 'boolean') validateObject(c, 'options.cluster');
  if (typeof c === 'boolean') validateBoolean(c, 'options.cluster');
  if (isWorker && c !== false) {
    const given = typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : {};
    let workers = Math.min(availableParallelism(), MAX_SLOTS);
    if (given.workers !== undefined) {
      validateInteger(given.workers, 'options.cluster.workers', 1, MAX_SLOTS);
      workers = given.workers;
    }
    let ownPort = 0;
    if (given.ownPort !== undefined) {
      validatePort(given.ownPort, 'options.cluster.ownPort', true);
      ownPort = given.ownPort;
    }
    clusterOut = { workers, ownPort };
  }
  let quicLb: QuicLbConfig | null = null;
  if (o.quicLb !== undefined && o.quicLb !== null) {
    validateObject(o.quicLb, 'options.quicLb');
    const q = o.quicLb;
    let configId = 0;
    if (q.configId !== undefined) {
      validateInteger(q.configId, 'options.quicLb.configId', 0, 6);
      configId = q.configId;
    }
    if (!(q.serverId instanceof Uint8Array)) throw invalidArgType('options.quicLb.serverId', 'an instance of Uint8Array', q.serverId);
    const key = q.key ?? null;
    if (key !== null && !(key instanceof Uint8Array)) throw invalidArgType('options.quicLb.key', 'an instance of Uint8Array', key);
    // Our short header's CID is CID_LENGTH bytes: the nonce takes what the server ID and slot leave.
    const nonceLength = CID_LENGTH - 1 - q.serverId.length - (clusterOut !== null ? SLOT_LENGTH : 0);
    quicLb = { configId, serverId: q.serverId.slice(), nonceLength, key: key?.slice() ?? null };
    const problem = quicLbProblem(quicLb, clusterOut !== null);
    if (problem !== null) {
      throw invalidArgValue('options.quicLb.serverId', q.serverId, `cannot encode ${CID_LENGTH}-byte CIDs (${problem}); serverId may be at most ${CID_LENGTH - 1 - 4 - (clusterOut !== null ? SLOT_LENGTH : 0)} bytes`);
    }
  }
  return { cluster: clusterOut, quicLb };
}

/** The CIDs of a worker slot (null: not a cluster worker). */
export function cidFormatFor(scale: ValidScaleOptions, slot: number | null): CidFormat {
  return new CidFormat({ quicLb: scale.quicLb, slot });
}

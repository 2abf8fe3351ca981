/** The seeded network simulator: drive sans-IO nodes over simulated links. */
export { EventHeap } from '../heap.js';
export { DEFAULT_LINK_PARAMS, DeliveryLog, Link } from '../link/index.js';
export type { DeliverHook, LinkCounters, LinkDropReason, LinkParams } from '../link/index.js';
export { Network, SimEvent } from './network.js';
export { deriveSeed, hashString } from '../random.js';
export type { NetworkDropReason, SimNode, TraceHook, TraceKind } from './network.js';
export { World } from './world.js';
export type { WorldOptions } from './world.js';

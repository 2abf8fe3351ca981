/** The one link model (see ./params.ts for what every parameter means). */
export { DeliveryLog } from './delivery-log.js';
export { Link, type DeliverHook, type LinkCounters, type LinkDropReason, type LinkSnapshot } from './link.js';
export { DEFAULT_LINK_PARAMS, LINK_PARAM_NAMES, queueLimit, validateLinkParams, type LinkParams } from './params.js';

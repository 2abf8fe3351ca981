/**
 * The connection flags that `listen`, `connect` and `tunnel` share: the
 * scheduler, congestion control, datagram size and timers of docs/api.md,
 * as command-line flags, with the help lines that describe them.
 */
import { CONGESTION_CONTROLLERS } from '../api/validate.js';
import type { ConnectionOptionsInput } from '../api/validate.js';
import { DEFAULT_OPTIONS, type CongestionControlName } from '../core/options.js';
import { SCHEDULER_NAMES, type SchedulerName } from '../core/sched/index.js';
import { UsageError, int, seconds } from './args.js';

/** parseArgs specs of the shared flags. */
export const CONNECTION_FLAGS = {
  scheduler: { type: 'string' },
  cc: { type: 'string' },
  'max-datagram': { type: 'string' },
  keepalive: { type: 'string' },
  'idle-timeout': { type: 'string' },
  'connect-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Their help lines. */
export const CONNECTION_HELP = `Connection options:
  --scheduler S         ${SCHEDULER_NAMES.join(', ')} (default ${String(DEFAULT_OPTIONS.scheduler)})
  --cc C                ${CONGESTION_CONTROLLERS.join(', ')} (default ${DEFAULT_OPTIONS.congestionControl})
  --max-datagram N      largest UDP payload sent, 1200..65507: the ceiling of
                        path MTU discovery (default 1472; 1200 = no discovery)
  --keepalive S         probe idle paths every S seconds (default 1)
  --idle-timeout S      close after S seconds without a word from the peer (default 30; 0 = never)
  --connect-timeout S   give up connecting after S seconds (default 10)
  -h, --help            this text`;

/** The values parseArgs gives for CONNECTION_FLAGS. */
export interface ConnectionFlagValues {
  scheduler?: string | undefined;
  cc?: string | undefined;
  'max-datagram'?: string | undefined;
  keepalive?: string | undefined;
  'idle-timeout'?: string | undefined;
  'connect-timeout'?: string | undefined;
}

/** The connection options the flags ask for (only those given). */
export function connectionOptions(v: ConnectionFlagValues): ConnectionOptionsInput {
  const out: ConnectionOptionsInput = {};
  if (v.scheduler !== undefined) {
    if (!(SCHEDULER_NAMES as readonly string[]).includes(v.scheduler)) throw new UsageError(`--scheduler must be one of ${SCHEDULER_NAMES.join(', ')}, got '${v.scheduler}'`);
    out.scheduler = v.scheduler as SchedulerName;
  }
  if (v.cc !== undefined) {
    if (!(CONGESTION_CONTROLLERS as readonly string[]).includes(v.cc)) throw new UsageError(`--cc must be one of ${CONGESTION_CONTROLLERS.join(', ')}, got '${v.cc}'`);
    out.congestionControl = v.cc as CongestionControlName;
  }
  if (v['max-datagram'] !== undefined) out.maxDatagramSize = int(v['max-datagram'], 'max-datagram', 1200, 1200, 65507);
  if (v.keepalive !== undefined) {
    const ms = seconds(v.keepalive, 'keepalive', 1000);
    if (ms < 10 || ms > 3_600_000) throw new UsageError(`--keepalive must be from 0.01 to 3600 seconds, got '${v.keepalive}'`);
    out.keepAliveInterval = ms;
  }
  if (v['idle-timeout'] !== undefined) out.idleTimeout = bounded(v['idle-timeout'], 'idle-timeout', 0);
  if (v['connect-timeout'] !== undefined) out.connectTimeout = bounded(v['connect-timeout'], 'connect-timeout', 1);
  return out;
}

/** Seconds → ms within a timer's range. */
function bounded(text: string, name: string, minMs: number): number {
  const ms = seconds(text, name, 0);
  if (ms < minMs || ms > 2 ** 31 - 1) throw new UsageError(`--${name} must be from ${minMs / 1000} to ${Math.floor((2 ** 31 - 1) / 1000)} seconds, got '${text}'`);
  return Math.round(ms);
}

/**
 * Runs part of the lab-delay section (bench/scenarios/lab-delay.ts) and
 * prints its figures and tables: a quicker loop than `npm run bench --
 * --only lab-delay` when working on one measurement. Needs root (the
 * namespace lab); writes nothing under bench/results.
 *
 *   npx tsx bench/lab-delay-only.ts hetero|lossy|shared[,...] [rounds] [shared seconds] [kernel]
 *
 * `kernel` runs kernel MP-TCP beside mpudp. Environment: PATHS=1 gives
 * mpudp one path through the shared bottleneck (one flow of the controller
 * against the Cubic flow), CC a controller other than bbr, SHARED_AT=sender the shared
 * bottleneck's queue in the server's own qdisc (the old placement), OUT the file the
 * sections go to as JSON (default /tmp/lab-delay-only.json).
 */
import { writeFileSync } from 'node:fs';
import type { CongestionControlName } from '../src/core/options.js';
import { labDelayScenarios } from './scenarios/lab-delay.js';

const only = (process.argv[2] ?? 'shared').split(',') as Array<'hetero' | 'lossy' | 'shared'>;
const rounds = Number(process.argv[3] ?? 1);
const sharedSeconds = Number(process.argv[4] ?? 20);
const kernel = process.argv[5] === 'kernel';
const sections = await labDelayScenarios({
  rounds,
  seconds: 8,
  sharedSeconds,
  only,
  kernel,
  sharedPaths: process.env.PATHS === '1' ? 1 : 2,
  ...(process.env.SHARED_AT === 'sender' ? { sharedQueueAt: 'sender' as const } : {}),
  ...(process.env.CC ? { cc: process.env.CC as CongestionControlName } : {}),
});
writeFileSync(process.env.OUT ?? '/tmp/lab-delay-only.json', JSON.stringify(sections, null, 1));
for (const s of sections) {
  if (s.figures.every((f) => !Number.isFinite(f.value))) continue;
  console.log(`## ${s.title}`);
  for (const f of s.figures) console.log(`${f.name}: ${f.value} (${f.baseline?.name ?? ''} ${f.baseline?.value ?? ''}) ${f.note ?? ''}`);
  for (const e of s.extra ?? []) console.log(e);
  for (const r of (s.raw as { runs?: Array<{ sharePerSecond?: number[] }> }).runs ?? []) if (r.sharePerSecond) console.log(`share per second: ${r.sharePerSecond.join(' ')}`);
}

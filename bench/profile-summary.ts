/**
 * Top functions by self time of every .cpuprofile under DIR/<role>/ (as
 * bench/profile-built.sh writes them): npx tsx bench/profile-summary.ts DIR [TOP]
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeProfile } from './scenarios/profile.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: npx tsx bench/profile-summary.ts DIR [TOP]');
const top = Number(process.argv[3] ?? 15);
for (const role of readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory())) {
  const file = readdirSync(join(dir, role)).find((x) => x.endsWith('.cpuprofile'));
  if (file === undefined) continue;
  const s = summarizeProfile(role, join(dir, role, file), top);
  console.log(`## ${role}: ${(s.busyMs / 1000).toFixed(2)} s busy of ${(s.totalMs / 1000).toFixed(2)} s`);
  for (const f of s.functions) console.log(`${f.ms.toFixed(0).padStart(7)} ms ${(100 * f.share).toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`);
}

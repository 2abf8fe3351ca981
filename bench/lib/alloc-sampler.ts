/**
 * Allocation sites of a piece of code: V8's sampling heap profiler, keeping
 * samples of objects the young and old generation collections freed, so
 * short-lived garbage counts. bench/alloc-sites.ts (per datagram of a bulk
 * transfer) and bench/core-handshakes.ts --alloc (per handshake) use it.
 */
import { Session } from 'node:inspector';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Bytes allocated by each site (function < caller) while `run` ran. */
export async function allocationSites(run: () => unknown): Promise<Map<string, number>> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((ok, fail) => session.post(method, params ?? {}, (err, res) => (err ? fail(err) : ok(res as T))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  await run();
  const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
  session.disconnect();
  const sites = new Map<string, number>();
  const walk = (n: ProfileNode, caller: string): void => {
    const here = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(src|dist|node:)/, '$1')}:${n.callFrame.lineNumber + 1}`;
    const key = `${here}  <  ${caller}`;
    if (n.selfSize > 0) sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, here);
  };
  walk(profile.head, '');
  return sites;
}

/** Prints the total and the top sites, each per `unit` (a datagram, a handshake). */
export function printSites(sites: Map<string, number>, per: number, unit: string, top: number): void {
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(`${(total / per).toFixed(0)} bytes allocated per ${unit}, over ${per.toFixed(0)}`);
  for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(v / per).toFixed(1).padStart(8)} B  ${k}`);
}

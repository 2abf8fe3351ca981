/**
 * Output of the `mpudp bench` client: an interval table while a test runs
 * and a summary at the end (like iperf3), or the same as JSON lines with
 * `--json` (one object per line: start, connected/held/stats events,
 * interval, result).
 */
import type { Interval, Reporter } from './client.js';
import { formatBps, formatBytes } from './common.js';

/** JSON lines on `out`. */
export function jsonReporter(out: (line: string) => void): Reporter {
  const line = (o: Record<string, unknown>): void => out(JSON.stringify(o));
  return {
    start: line,
    interval: (i) => line(i as unknown as Record<string, unknown>),
    // The intervals were printed one by one already.
    result: (r) => line({ ...r, intervals: undefined }),
    event: line,
  };
}

const secs = (ms: number): string => (ms / 1000).toFixed(2).padStart(6);

/** Human tables on `out`. */
export function tableReporter(out: (line: string) => void): Reporter {
  let mode = 'bulk';
  let headerDone = false;
  const header = (): void => {
    if (headerDone) return;
    headerDone = true;
    if (mode === 'rr') out('Interval            Round trips       p50         p99');
    else if (mode === 'connect') out('Interval            Handshakes     Rate');
    else out('Interval            Transfer       Bitrate          Paths');
  };
  return {
    start: (s) => {
      mode = String(s.mode);
      const what =
        mode === 'bulk'
          ? `${s.dir === 'down' ? 'download' : 'upload'}${s.bytes !== null ? ` of ${formatBytes(s.bytes as number)}` : ` for ${Number(s.timeMs) / 1000} s`}${Number(s.parallel) > 1 ? `, ${String(s.parallel)} connections` : ''}`
          : mode;
      out(`mpudp bench: ${String(s.transport)} to ${(s.hosts as string[]).join(', ')} port ${String(s.port)}, ${what}`);
    },
    interval: (i: Interval) => {
      header();
      const span = `${secs(i.fromMs)}-${secs(i.toMs)} s`;
      if (i.count !== undefined) {
        out(`${span}   ${String(i.count).padStart(8)}   ${fmtMs(i.p50Ms)}  ${fmtMs(i.p99Ms)}`);
        return;
      }
      if (i.handshakes !== undefined) {
        const rate = i.toMs > i.fromMs ? (i.handshakes * 1000) / (i.toMs - i.fromMs) : 0;
        out(`${span}   ${String(i.handshakes).padStart(8)}   ${rate.toFixed(0).padStart(6)}/s`);
        return;
      }
      const paths = (i.paths ?? [])
        .filter((p) => p.state !== 'closed')
        .map((p) => `p${p.id} ${(p.bps / 1e6).toFixed(1)} (${p.state === 'active' ? '' : `${p.state}, `}srtt ${p.srttMs.toFixed(1)} ms, cwnd ${formatBytes(p.cwnd)})`)
        .join('  ');
      out(`${span}   ${formatBytes(i.bytes).padStart(10)}   ${formatBps(i.bps).padStart(13)}   ${paths}`);
    },
    event: (e) => {
      if (e.type === 'connected') {
        const paths = (e.paths as { id: number; local: string; remote: string }[] | null) ?? [];
        out(`connected in ${Number(e.ms).toFixed(1)} ms${paths.length > 0 ? `; paths: ${paths.map((p) => `${p.id} ${p.local} -> ${p.remote}`).join(', ')}` : ''}`);
      } else if (e.type === 'held') {
        out(`holding ${String(e.connections)} connections (opened in ${(Number(e.ms) / 1000).toFixed(2)} s, ${String(e.perSecond)}/s, ${String(e.errors)} errors)`);
      } else if (e.type === 'stats') {
        const m = e.memory as { heapUsed: number; rss: number };
        out(`alive ${String(e.alive)}; heap ${formatBytes(m.heapUsed)} rss ${formatBytes(m.rss)}`);
      }
    },
    result: (r) => {
      out('- - - - - - - - - - - - - - - - - - - - - - - - -');
      if (r.mode === 'bulk') {
        const span = `${secs(0)}-${secs(Number(r.ms))} s`;
        out(`${span}   ${formatBytes(Number(r.bytes)).padStart(10)}   ${formatBps(Number(r.bps)).padStart(13)}   receiver (first to last byte)`);
        if (r.transport === 'udp') out(`sent ${String(r.datagramsSent)} datagrams, received ${String(r.datagramsReceived)} (${(Number(r.lossRate) * 100).toFixed(1)} % lost)`);
        const cpu = [`client ${Number(r.cpuSeconds).toFixed(2)} s`];
        if (r.receiverCpuSeconds !== null && r.receiverCpuSeconds !== undefined) cpu.push(`server ${Number(r.receiverCpuSeconds).toFixed(2)} s`);
        out(`cpu: ${cpu.join(', ')}`);
        if (r.intact !== null && r.intact !== undefined) out(`verified: ${String(r.intact)} of ${String(r.parallel)} transfers intact (every byte checked against the pattern)`);
        for (const p of (r.paths as Record<string, unknown>[] | null) ?? []) {
          out(`path ${String(p.id)} ${String(p.local)} -> ${String(p.remote)} ${String(p.state)}: sent ${formatBytes(Number(p.bytesSent))}, received ${formatBytes(Number(p.bytesReceived))}, lost ${String(p.packetsLost)} packets (${String(p.packetsSpuriouslyLost ?? 0)} of them spuriously), srtt ${Number(p.srttMs).toFixed(2)} ms`);
        }
      } else if (r.mode === 'rr') {
        out(`${String(r.count)} round trips of ${String(r.size)} bytes: p50 ${fmtMs(r.p50Ms as number)}, p90 ${fmtMs(r.p90Ms as number)}, p99 ${fmtMs(r.p99Ms as number)}, max ${fmtMs(r.maxMs as number)}`);
      } else if (r.mode === 'connect') {
        out(`${String(r.handshakes)} handshakes in ${(Number(r.ms) / 1000).toFixed(2)} s: ${Number(r.perSecond).toFixed(0)}/s (p50 ${fmtMs(r.p50Ms as number)}, p99 ${fmtMs(r.p99Ms as number)}), ${String(r.errors)} errors${r.firstError ? ` (${String(r.firstError)})` : ''}`);
      } else {
        out(`held ${String(r.connections)} connections, ${String(r.aliveAtEnd)} alive at the end, ${String(r.errors)} errors`);
      }
    },
  };
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '     -    ' : `${ms.toFixed(3).padStart(7)} ms`;
}

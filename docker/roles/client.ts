/**
 * The client of the Docker demo. Connects to the server (`mpudp bench
 * server`, the project's one receiver) at its two addresses (one per
 * network), sends MPUDP_SIZE_MIB MiB of the seeded pattern as a verified
 * `mpudp bench` upload (src/cli/bench: the same sender, pattern, receiver
 * report and path summary as the bench, the lab tests and `npm start`),
 * prints each path's throughput once a second, and at the end the same
 * summary as `npm start` plus what happened at a failure, then one JSON
 * line (the summary).
 *
 * A failure is what docker/demo.sh does mid-transfer: `docker network
 * disconnect` takes this container off isp-a (its interface and address
 * vanish), `docker network connect` puts it back. This role notices both by
 * watching its own addresses (`os.networkInterfaces()`, every 20 ms) only to
 * time them; mpudp itself learns of the failure the way it would on a real
 * host.
 *
 *   MPUDP_SERVER     the server's addresses, comma-separated
 *   MPUDP_PORT       its UDP port (default 4433)
 *   MPUDP_SIZE_MIB   MiB to send (default 256)
 *   MPUDP_RATE_MBPS  pace the writes at this rate (Mbit/s; 0 = as fast as possible)
 *   MPUDP_LABELS     network names by address prefix ('isp-a=198.18.1.,...')
 *   MPUDP_TIMEOUT_S  give up after this long (default 600)
 *   MPUDP_LOCAL      local addresses to use instead of the defaults (comma-separated;
 *                    for runs outside Docker)
 */
import { randomInt } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeHeader, epochMs as wallMs } from '../../src/cli/bench/common.js';
import { pathSummary } from '../../src/cli/bench/paths.js';
import { Pattern, PatternSource, type ReceiverResult } from '../../src/cli/bench/pattern.js';
import { pump, readAll } from '../../src/cli/bench/stream.js';
import { connect, hostAddresses, type MultipathSocket, type PathInfo, type SocketStats } from '../../src/index.js';
import { env, envNumber, exitOnSignals, fmt, labelOf, logger, mbps, MiB, parseLabels } from './common.js';

/** Interval of the address watch and of the samples that time the healing (ms). */
const SAMPLE_MS = 20;
/** Give up when nothing is acknowledged for this long (ms). */
const STALL_LIMIT_MS = 30_000;
const CONNECT_ATTEMPTS = 10;

const log = logger('client');
exitOnSignals(log);
const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const servers = list(env('MPUDP_SERVER', ''));
const localOverride = list(env('MPUDP_LOCAL', ''));
if (servers.length === 0) {
  log('MPUDP_SERVER must list the server addresses');
  process.exit(2);
}
const port = envNumber('MPUDP_PORT', 4433, 1);
const size = Math.round(envNumber('MPUDP_SIZE_MIB', 256, 0.001) * MiB);
const rateMbps = envNumber('MPUDP_RATE_MBPS', 0);
const labels = parseLabels(env('MPUDP_LABELS', ''));
const timeoutMs = envNumber('MPUDP_TIMEOUT_S', 600, 1) * 1000;

/** One change of a local address, seen by the watch. */
interface AddressChange {
  address: string;
  gone: boolean;
  at: number;
}

/** What was true at one moment: acknowledged bytes, stream bytes sent from each local address. */
interface Mark {
  at: number;
  acked: number;
  byLocal: Map<string, number>;
}

/** A path event with its wall time. */
interface PathEvent {
  at: number;
  up: boolean;
  path: PathInfo;
  reason: string;
}

/** Stream bytes acknowledged by the server (written minus still buffered). */
function acked(stats: SocketStats): number {
  return stats.bytesWritten - stats.sendBufferBytes;
}

/** Stream bytes sent (first sends and re-sends) from each local address. */
function byLocal(socket: MultipathSocket, stats: SocketStats): Map<string, number> {
  const out = new Map<string, number>();
  const infos = socket.paths;
  for (const p of stats.paths) {
    const local = infos.find((i) => i.id === p.id)?.localAddress ?? '?';
    out.set(local, (out.get(local) ?? 0) + p.dataBytesSent + p.dataBytesRetransmitted);
  }
  return out;
}

function mark(socket: MultipathSocket, at: number): Mark {
  const stats = socket.stats();
  return stats === null ? { at, acked: 0, byLocal: new Map() } : { at, acked: acked(stats), byLocal: byLocal(socket, stats) };
}

/** Connects, retrying while the server is not up yet. */
async function open(): Promise<MultipathSocket> {
  for (let attempt = 1; ; attempt++) {
    const socket = connect({ addresses: servers, port, ...(localOverride.length > 0 ? { localAddresses: localOverride } : {}) });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      return socket;
    } catch (err) {
      socket.destroy();
      if (attempt >= CONNECT_ATTEMPTS) throw err;
      log(`connect attempt ${attempt} failed (${(err as Error).message}); retrying`);
      await sleep(1000);
    }
  }
}

async function main(): Promise<number> {
  const locals = localOverride.length > 0 ? localOverride : hostAddresses({ includeInternal: false }).map((a) => a.address);
  log(`local addresses: ${locals.map((a) => `${labelOf(labels, a)} ${a}`).join(', ')}`);
  log(`connecting to ${servers.map((a) => `${labelOf(labels, a)} ${a}:${port}`).join(', ')}`);
  const socket = await open();
  let failure: Error | null = null;
  socket.on('error', (err: Error) => {
    failure ??= err;
    log(`connection error: ${err.message}`);
  });
  const startAt = wallMs();
  const rel = (at: number): string => `${((at - startAt) / 1000).toFixed(2)} s`;
  const name = (p: PathInfo): string => `${labelOf(labels, p.localAddress)} ${p.localAddress} -> ${labelOf(labels, p.remoteAddress)} ${p.remoteAddress}`;
  log(`transfer started: ${size / MiB} MiB${rateMbps > 0 ? ` paced at ${rateMbps} Mbit/s` : ''}`);

  // Path events, timed.
  const pathEvents: PathEvent[] = [];
  socket.on('path-up', (path: PathInfo) => {
    pathEvents.push({ at: wallMs(), up: true, path, reason: '' });
    log(`${rel(wallMs())}  path ${path.id} up: ${name(path)}`);
  });
  socket.on('path-down', (path: PathInfo, reason: string) => {
    pathEvents.push({ at: wallMs(), up: false, path, reason });
    log(`${rel(wallMs())}  path ${path.id} down (${reason}): ${name(path)}`);
  });

  // The address watch: the first cut of a local address and its return.
  const interfaceAddresses = (): Set<string> => {
    const seen = new Set<string>();
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) seen.add(i.address);
    return seen;
  };
  const initial = interfaceAddresses();
  const present = new Map(locals.filter((a) => initial.has(a)).map((a) => [a, true]));
  const changes: AddressChange[] = [];
  let cut: (Mark & { address: string }) | null = null;
  let heal: (Mark & { address: string }) | null = null;
  let healedDataAt: number | null = null;
  const sampler = setInterval(() => {
    const now = wallMs();
    const seen = interfaceAddresses();
    for (const [address, was] of present) {
      const is = seen.has(address);
      if (is === was) continue;
      present.set(address, is);
      changes.push({ address, gone: !is, at: now });
      log(`${rel(now)}  local address ${labelOf(labels, address)} ${address} ${is ? 'is back' : 'vanished'}`);
      if (!is && cut === null) cut = { ...mark(socket, now), address };
      else if (is && cut !== null && heal === null && address === cut.address) heal = { ...mark(socket, now), address };
    }
    if (heal !== null && healedDataAt === null) {
      const before = heal.byLocal.get(heal.address) ?? 0;
      const stats = socket.stats();
      if (stats !== null && (byLocal(socket, stats).get(heal.address) ?? 0) > before) {
        healedDataAt = now;
        log(`${rel(now)}  ${labelOf(labels, heal.address)} carries data again, ${((now - heal.at) / 1000).toFixed(2)} s after its address came back`);
      }
    }
  }, SAMPLE_MS);

  // Once a second: each path's throughput.
  let lastAt = startAt;
  let lastAcked = 0;
  let lastProgressAt = startAt;
  const lastPathBytes = new Map<number, number>();
  let stalled = false;
  const ticker = setInterval(() => {
    const now = wallMs();
    const stats = socket.stats();
    if (stats === null) return;
    const infos = socket.paths;
    const parts: string[] = [];
    let idle = 0;
    for (const p of stats.paths) {
      const bytes = p.dataBytesSent + p.dataBytesRetransmitted;
      const rate = mbps(bytes - (lastPathBytes.get(p.id) ?? 0), now - lastAt);
      lastPathBytes.set(p.id, bytes);
      // Paths that never carried data and are not usable (e.g. no route between the two networks) are only counted.
      if (bytes === 0 && p.state !== 'active' && p.state !== 'suspect') {
        idle++;
        continue;
      }
      const info = infos.find((i) => i.id === p.id);
      parts.push(`${labelOf(labels, info?.localAddress)}>${labelOf(labels, info?.remoteAddress)} ${p.state.padEnd(7)}${fmt(rate)}`);
    }
    const a = acked(stats);
    log(
      `${rel(now).padStart(8)}  ${parts.join(' | ')} Mbit/s  total ${fmt(mbps(a - lastAcked, now - lastAt))}` +
        `  acked ${fmt(a / MiB, 5, 0)}/${size / MiB} MiB${idle > 0 ? `  (${idle} unused paths)` : ''}`,
    );
    if (a > lastAcked) lastProgressAt = now;
    else if (now - lastProgressAt > STALL_LIMIT_MS && !stalled) {
      stalled = true;
      socket.destroy(new Error(`nothing acknowledged for ${STALL_LIMIT_MS / 1000} s`));
    }
    lastAt = now;
    lastAcked = a;
  }, 1000);
  const deadline = setTimeout(() => socket.destroy(new Error(`not done after ${timeoutMs / 1000} s`)), timeoutMs);

  // The bench protocol: a header line, the pattern, our FIN; the server's
  // receiver report comes back on the stream after it.
  const replyText = readAll(socket).then(
    (b) => b.toString('utf8'),
    () => '',
  );
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const seed = randomInt(2 ** 32);
  const source = new PatternSource(new Pattern(seed), size, true);
  socket.write(encodeHeader({ mode: 'bulk', dir: 'up', bytes: size, timeMs: null, verify: true, seed, size: 0 }));
  await pump(socket, source, { paceBps: rateMbps * 1e6 }).catch(() => {});
  const sent = source.sent;
  const sha256Sent = source.digest()!;
  const reportText = await replyText;
  await closed;
  clearInterval(sampler);
  clearInterval(ticker);
  clearTimeout(deadline);

  let report: ReceiverResult | null = null;
  try {
    report = JSON.parse(reportText.trim()) as ReceiverResult;
  } catch {
    log(`no report from the server (got ${reportText.length} characters)`);
  }

  // ---- the summary ----
  const stats = socket.stats();
  const summaries = pathSummary(socket);
  const firstSent = summaries.reduce((s, p) => s + p.dataBytesSent, 0);
  const paths = summaries.map((p) => ({
    ...p,
    network: `${labelOf(labels, p.local)}>${labelOf(labels, p.remote)}`,
    share: firstSent > 0 ? Number((p.dataBytesSent / firstSent).toFixed(4)) : 0,
  }));
  const bytesReceived = report?.bytes ?? 0;
  const endAt = report !== null && report.lastMs > 0 ? report.lastMs : wallMs();
  const durationMs = endAt - startAt;
  const ms = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(1)));

  const cutMark = cut as (Mark & { address: string }) | null;
  const healMark = heal as (Mark & { address: string }) | null;
  let failureSummary = null;
  let failover = false;
  let healed = false;
  if (cutMark !== null) {
    const windowEnd = healMark?.at ?? endAt;
    const down = pathEvents.find((e) => !e.up && e.at >= cutMark.at - SAMPLE_MS && e.path.localAddress === cutMark.address);
    // The longest pause of in-order delivery at the server during the outage.
    const gap = (report?.gaps ?? [])
      .filter((g) => g.at + g.ms >= cutMark.at - SAMPLE_MS && g.at <= windowEnd)
      .sort((a, b) => b.ms - a.ms)[0];
    const outageAcked = (healMark?.acked ?? acked(stats!)) - cutMark.acked;
    const otherBytes = [...(healMark?.byLocal ?? byLocal(socket, stats!))]
      .filter(([local]) => local !== cutMark.address)
      .reduce((s, [local, b]) => s + b - (cutMark.byLocal.get(local) ?? 0), 0);
    failover = down !== undefined && outageAcked > 0;
    healed = healMark !== null && healedDataAt !== null;
    failureSummary = {
      network: labelOf(labels, cutMark.address),
      address: cutMark.address,
      cutAtMs: ms(cutMark.at - startAt),
      healAtMs: healMark === null ? null : ms(healMark.at - startAt),
      outageMs: healMark === null ? null : ms(healMark.at - cutMark.at),
      pathDownAfterMs: down === undefined ? null : ms(down.at - cutMark.at),
      deliveryStallMs: gap === undefined ? 0 : ms(gap.ms),
      deliveryResumedAfterMs: gap === undefined ? 0 : ms(Math.max(0, gap.at + gap.ms - cutMark.at)),
      bytesAckedDuringOutage: outageAcked,
      bytesSentOnOtherPathsDuringOutage: otherBytes,
      healedPathDataAfterMs: healMark === null || healedDataAt === null ? null : ms(healedDataAt - healMark.at),
    };
  }
  const complete = bytesReceived === size && sent === size;
  const match = report !== null && report.intact === true && report.sha256 === sha256Sent && complete;
  const summary = {
    type: 'mpudp-docker-summary',
    bytesSent: sent,
    bytesReceived,
    sha256Sent,
    sha256Received: report?.sha256 ?? null,
    complete,
    match,
    durationMs: Math.round(durationMs),
    goodputMbps: Number(mbps(bytesReceived, durationMs).toFixed(1)),
    paths,
    failure: failureSummary,
    failover,
    healed,
    addressChanges: changes.map((c) => ({ address: c.address, gone: c.gone, atMs: ms(c.at - startAt) })),
    error: (failure as Error | null)?.message ?? null,
  };

  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out('');
  out(`bytes        sent ${summary.bytesSent}, received ${summary.bytesReceived}`);
  out(`sha256 sent     ${summary.sha256Sent}`);
  out(`sha256 received ${summary.sha256Received ?? '(no report)'}`);
  out(`match        ${match ? 'yes' : 'NO'}`);
  for (const p of paths) {
    out(
      `path ${p.id}       ${p.network.padEnd(11)} ${p.local}:${p.localPort} -> ${p.remote}:${p.remotePort}  ${(p.share * 100).toFixed(1)}% of bytes` +
        `  (${p.retransmitted} re-sent, ${p.packetsLost} packets lost, srtt ${p.srttMs.toFixed(2)} ms, ${p.state})`,
    );
  }
  out(`duration     ${(durationMs / 1000).toFixed(2)} s`);
  out(`goodput      ${summary.goodputMbps} Mbit/s`);
  const f = failureSummary;
  if (f === null) {
    out('failure      none seen (no local address vanished during the transfer)');
  } else {
    const s = (x: number | null): string => (x === null ? 'never' : `${(x / 1000).toFixed(2)} s`);
    out(`failure      ${f.network} (${f.address}) cut at ${s(f.cutAtMs)}, back at ${s(f.healAtMs)} (outage ${s(f.outageMs)})`);
    out(`failover     ${failover ? 'yes' : 'NO'}: path down ${s(f.pathDownAfterMs)} after the cut; delivery lost ${s(f.deliveryStallMs)} ` +
      `(resumed ${s(f.deliveryResumedAfterMs)} after the cut); ${(f.bytesAckedDuringOutage / MiB).toFixed(1)} MiB delivered during the outage`);
    out(`healed       ${healed ? 'yes' : 'NO'}: ${f.network} carried data again ${s(f.healedPathDataAfterMs)} after it came back`);
  }
  if (summary.error !== null) out(`error        ${summary.error}`);
  out(JSON.stringify(summary));
  return match ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(2);
  },
);

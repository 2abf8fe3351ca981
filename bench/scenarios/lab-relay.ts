/**
 * The lab's delay stage: ISP emulator relays (src/emulator, through its
 * public module API) run inside one lab namespace, each delaying one
 * direction of one ISP's VXLAN tunnel (lab/harness/lab.sh `delay up`). The
 * tunnel carries every packet of that ISP (mpudp's UDP and the kernel's
 * TCP and MP-TCP alike), so both transports meet the same propagation
 * delay; the kernel has no netem here.
 *
 *   ip netns exec NS node --import tsx bench/scenarios/lab-relay.ts '<json>'
 *
 * where <json> is an array of { name, listen: "IP:PORT", target: "IP:PORT",
 * delayMs }. Prints one JSON line {"type":"ready"} once every relay
 * listens; on a line "stats" on stdin prints {"type":"stats", cpuSeconds,
 * relays: [...]}; on "quit" (or the end of stdin) closes them and exits.
 */
import { createInterface } from 'node:readline';
import { IspEmulator, parseHostPort } from '../../lab/emulator/index.js';

interface RelaySpec {
  name: string;
  listen: string;
  target: string;
  delayMs: number;
}

function say(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  const specs = JSON.parse(process.argv[2] ?? '[]') as RelaySpec[];
  const relays: IspEmulator[] = [];
  for (const s of specs) {
    const listen = parseHostPort(s.listen);
    relays.push(
      await IspEmulator.start({
        name: s.name,
        listen,
        target: parseHostPort(s.target),
        upstreamAddress: listen.address,
        // Only the forward direction carries traffic: VXLAN never answers its source port.
        forward: { delayMs: s.delayMs },
        mappingTimeoutMs: 600_000,
      }),
    );
  }
  const cpu0 = cpuSeconds();
  say({ type: 'ready', relays: specs.map((s) => s.name) });
  const rl = createInterface({ input: process.stdin });
  const close = async (): Promise<void> => {
    for (const r of relays) await r.close();
    process.exit(0);
  };
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stats') {
      say({
        type: 'stats',
        cpuSeconds: Math.round((cpuSeconds() - cpu0) * 1000) / 1000,
        relays: relays.map((r) => {
          const st = r.stats();
          return { name: st.name, forwarded: st.forward.delivered, bytes: st.forward.bytesDelivered, dropped: st.forward.dropped };
        }),
      });
    } else if (cmd === 'quit') {
      void close();
    }
  });
  rl.on('close', () => void close());
}

main().catch((err) => {
  process.stderr.write(`lab-relay: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

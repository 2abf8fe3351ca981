/**
 * Command line of the ISP emulator: one relay per process.
 *
 *   npx tsx lab/emulator/cli.ts --listen 127.0.0.11:7000 --target 127.0.0.1:4433 \
 *     --delay 10 --rate 100mbit --loss 0.01 --cut-at 5s --heal-at 8s
 *
 * Link options apply to both directions; `--fwd-X` / `--rev-X` set X for one
 * direction only (fwd = client → target, rev = target → client). Commands are
 * read from stdin, one per line (see HELP); the process keeps running when
 * stdin ends and stops on SIGINT/SIGTERM or `quit`.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isProgram } from '../../src/cli/command.js';
import { IspEmulator, type DirectionSelector, type IspOptions, type IspParams, type ScheduledAction } from './isp.js';
import type { RelayLinkParams } from './isp.js';
import { formatRate, parseDuration, parseHostPort, parseProbability, parseRate, parseSize } from './units.js';

export const USAGE = `usage: mpudp-isp --listen IP:PORT --target IP:PORT [options]

Relays UDP from --listen to --target (and replies back), like one ISP.
Link options (both directions; prefix with fwd- or rev- for one direction,
e.g. --fwd-delay 20 --rev-delay 5); the model is lab/link/params.ts's:
  --delay MS        one-way delay, the floor (10, 10ms, 0.5s)
  --jitter MS       extra delay, uniform in [0, MS) (no reordering)
  --reorder         let jitter reorder datagrams
  --loss P          random loss probability, after the queue (0.01 or 1%)
  --rate R          rate limit (100mbit, 1gbit, 800kbit; 0 = unlimited)
  --queue B         FIFO size for the rate limit (64kb, 1mb; default 100 ms
                    of rate, at least 3000 bytes)
  --overhead B      bytes added per datagram for the rate (default 28)
  --duplicate P     probability a datagram is delivered twice
  --reorder-rate P  probability a datagram is held back and overtaken
  --reorder-delay MS  how long such a datagram is held back (default 5)
Other options:
  --upstream IP     local address of the upstream sockets (what the target sees)
  --allow IP,IP     ingress filter: relay only datagrams from these client addresses
  --name NAME       name in messages
  --seed N          seed of the links' random generators
  --cut-at T        cut the link at T after start (5s); repeatable
  --heal-at T       heal at T; repeatable
  --blackhole-at T  blackhole at T (the same as a cut); repeatable
  --stats-every T   print stats (JSON) every T
  --json            print events as JSON lines
  -h, --help        this text
`;

export const HELP = `commands (one per line; DIR = fwd | rev | both, default both):
  cut [DIR]          link down: drop what is offered and what is in flight
  heal [DIR]         back up
  blackhole [DIR]    the same as cut (the endpoints are never told)
  loss P [DIR]       random loss (0.05 or 5%)
  delay MS [DIR]     one-way delay
  jitter MS [DIR]    jitter (extra delay in [0, MS))
  duplicate P [DIR]  duplication probability
  rate R [DIR]       rate limit (50mbit; 0 = unlimited)
  queue B [DIR]      queue size (128kb)
  stats              counters as one JSON line
  help               this text
  quit               close and exit
`;

/** Link options and how to parse them. */
const LINK_OPTIONS: Record<string, { key: keyof RelayLinkParams; parse: (s: string) => number }> = {
  delay: { key: 'delayMs', parse: parseDuration },
  jitter: { key: 'jitterMs', parse: parseDuration },
  loss: { key: 'lossRate', parse: parseProbability },
  rate: { key: 'rateBps', parse: parseRate },
  queue: { key: 'queueBytes', parse: parseSize },
  overhead: { key: 'overheadBytes', parse: parseSize },
  duplicate: { key: 'duplicateRate', parse: parseProbability },
  'reorder-rate': { key: 'reorderRate', parse: parseProbability },
  'reorder-delay': { key: 'reorderDelayMs', parse: parseDuration },
};

/** What the command line asks for. */
export interface CliConfig {
  /** Relay options. */
  options: IspOptions;
  /** Actions to schedule at start. */
  schedule: ScheduledAction[];
  /** Print stats this often (ms), or 0. */
  statsEveryMs: number;
  /** Events as JSON lines. */
  json: boolean;
}

/** Parses the command line (without `node` and the script); throws a RangeError with a message. */
export function parseCli(argv: string[]): CliConfig | 'help' {
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    listen: { type: 'string' },
    target: { type: 'string' },
    upstream: { type: 'string' },
    allow: { type: 'string' },
    name: { type: 'string' },
    seed: { type: 'string' },
    'cut-at': { type: 'string', multiple: true },
    'heal-at': { type: 'string', multiple: true },
    'blackhole-at': { type: 'string', multiple: true },
    'stats-every': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const prefix of ['', 'fwd-', 'rev-']) {
    for (const name of Object.keys(LINK_OPTIONS)) spec[prefix + name] = { type: 'string' };
    spec[`${prefix}reorder`] = { type: 'boolean' };
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new RangeError((err as Error).message);
  }
  if (values.help) return 'help';
  if (typeof values.listen !== 'string') throw new RangeError('--listen IP:PORT is required');
  if (typeof values.target !== 'string') throw new RangeError('--target IP:PORT is required');
  const link = (prefix: string): Partial<RelayLinkParams> => {
    const out: Partial<RelayLinkParams> = {};
    for (const [name, { key, parse }] of Object.entries(LINK_OPTIONS)) {
      const v = values[prefix + name];
      if (typeof v === 'string') (out as Record<string, number>)[key] = parse(v);
    }
    if (values[`${prefix}reorder`] === true) out.reorder = true;
    return out;
  };
  const options: IspOptions = {
    listen: parseHostPort(values.listen),
    target: parseHostPort(values.target),
    ...link(''),
    forward: link('fwd-'),
    reverse: link('rev-'),
  };
  if (typeof values.upstream === 'string') options.upstreamAddress = values.upstream;
  if (typeof values.allow === 'string') options.allowSources = values.allow.split(',').filter((a) => a !== '');
  if (typeof values.name === 'string') options.name = values.name;
  if (typeof values.seed === 'string') {
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got '${values.seed}'`);
    options.seed = seed;
  }
  const schedule: ScheduledAction[] = [];
  for (const action of ['cut', 'heal', 'blackhole'] as const) {
    for (const t of (values[`${action}-at`] as string[] | undefined) ?? []) schedule.push({ atMs: parseDuration(t), action });
  }
  schedule.sort((a, b) => a.atMs - b.atMs);
  const statsEveryMs = typeof values['stats-every'] === 'string' ? parseDuration(values['stats-every']) : 0;
  return { options, schedule, statsEveryMs, json: values.json === true };
}

/** Parses a direction word. */
function parseDirection(word: string | undefined): DirectionSelector {
  if (word === undefined || word === 'both') return 'both';
  if (word === 'fwd' || word === 'forward') return 'forward';
  if (word === 'rev' || word === 'reverse') return 'reverse';
  throw new RangeError(`direction must be fwd, rev or both, got '${word}'`);
}

/** Params for one direction selector. */
function paramsFor(direction: DirectionSelector, p: Partial<RelayLinkParams>): IspParams {
  if (direction === 'forward') return { forward: p };
  if (direction === 'reverse') return { reverse: p };
  return p;
}

/** Runs one stdin command; returns the text to print ('' for none) or 'quit'. */
export function runCommand(isp: IspEmulator, line: string): string {
  const words = line.trim().split(/\s+/).filter((w) => w.length > 0);
  const cmd = words[0];
  if (cmd === undefined) return '';
  switch (cmd) {
    case 'cut':
    case 'heal':
    case 'blackhole': {
      const dir = parseDirection(words[1]);
      isp[cmd](dir);
      return `ok ${cmd} ${dir}`;
    }
    case 'stats':
      return JSON.stringify(isp.stats());
    case 'help':
      return HELP.trimEnd();
    case 'quit':
    case 'exit':
      return 'quit';
  }
  const opt = LINK_OPTIONS[cmd];
  if (opt === undefined) throw new RangeError(`unknown command '${cmd}' (try 'help')`);
  if (words[1] === undefined) throw new RangeError(`${cmd} needs a value`);
  const value = opt.parse(words[1]);
  const dir = parseDirection(words[2]);
  isp.set(paramsFor(dir, { [opt.key]: value }));
  return `ok ${cmd} ${cmd === 'rate' ? formatRate(value) : value} ${dir}`;
}

/** Runs the relay until SIGINT/SIGTERM or `quit`. Returns the exit code. */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  let config: CliConfig | 'help';
  try {
    config = parseCli(argv);
  } catch (err) {
    process.stderr.write(`mpudp-isp: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (config === 'help') {
    out(USAGE.trimEnd());
    return 0;
  }
  const { options, json } = config;
  const isp = new IspEmulator(options);
  const tell = (event: string, data: Record<string, unknown>, text: string): void => {
    out(json ? JSON.stringify({ event, ...data }) : `[${isp.name}] ${text}`);
  };
  isp.on('state', (s: { direction: string; state: string }) => tell('state', s, `${s.direction} ${s.state}`));
  isp.on('mapping', (m: { address: string; port: number }) => tell('mapping', m, `new client ${m.address}:${m.port}`));
  isp.on('error', (err: Error) => tell('error', { message: err.message }, `error: ${err.message}`));
  let bound;
  try {
    bound = await isp.listen();
  } catch (err) {
    process.stderr.write(`mpudp-isp: cannot listen on ${options.listen.address}:${options.listen.port}: ${(err as Error).message}\n`);
    await isp.close();
    return 1;
  }
  tell('listening', { listen: bound, target: options.target }, `relaying ${bound.address}:${bound.port} -> ${options.target.address}:${options.target.port}`);
  if (config.schedule.length > 0) isp.schedule(config.schedule);
  let statsTimer: NodeJS.Timeout | undefined;
  if (config.statsEveryMs > 0) {
    statsTimer = setInterval(() => out(JSON.stringify(isp.stats())), config.statsEveryMs);
  }
  return new Promise<number>((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let done = false;
    const stop = (): void => {
      if (done) return;
      done = true;
      if (statsTimer) clearInterval(statsTimer);
      rl.close();
      process.stdin.pause();
      void isp.close().then(() => resolve(0));
    };
    rl.on('line', (line) => {
      try {
        const reply = runCommand(isp, line);
        if (reply === 'quit') stop();
        else if (reply !== '') out(reply);
      } catch (err) {
        out(`error: ${(err as Error).message}`);
      }
    });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (isProgram(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}

/**
 * Lab role for the tunnel test: Node's own http server or client, knowing
 * nothing of mpudp (they talk TCP to the tunnel's ends).
 *
 *   node --import tsx test/lab/roles/http.ts server --port 8080
 *   node --import tsx test/lab/roles/http.ts get --url http://127.0.0.1:8081/N --progress-every BYTES
 *
 * The server answers GET /N with N bytes of the seeded pattern every role
 * sends (src/cli/bench/pattern.ts). The client downloads, checks every byte
 * against it, and reports JSON lines: listening, progress {bytes}, result
 * {ok, bytes, mismatchAt, sha256}, error.
 */
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { Pattern, PatternSink, PatternSource } from '../../../src/cli/bench/pattern.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8080' },
    url: { type: 'string' },
    'progress-every': { type: 'string', default: String(1 << 20) },
  },
});

const report = (r: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
/** The body of GET /N: N bytes of the seeded pattern every role sends (src/cli/bench/pattern.ts). */
const SEED = 1;

if (positionals[0] === 'server') {
  const server = http.createServer((req, res) => {
    const size = Number((req.url ?? '/').slice(1));
    if (!Number.isSafeInteger(size) || size < 0) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-length': size });
    const source = new PatternSource(new Pattern(SEED), size, false);
    const pump = (): void => {
      for (let piece = source.next(); piece !== null; piece = source.next()) {
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  server.listen(Number(values.port), '127.0.0.1', () => report({ type: 'listening', port: Number(values.port) }));
} else if (positionals[0] === 'get' && values.url !== undefined) {
  const every = Number(values['progress-every']);
  const req = http.get(values.url, (res) => {
    const sink = new PatternSink(new Pattern(SEED));
    let next = every;
    res.on('data', (d: Buffer) => {
      sink.add(d);
      if (sink.bytes >= next) {
        report({ type: 'progress', bytes: sink.bytes });
        next += every;
      }
    });
    res.on('end', () => {
      const r = sink.result();
      report({ type: 'result', ok: r.intact === true && r.bytes === Number(res.headers['content-length']), bytes: r.bytes, mismatchAt: r.mismatchAt, sha256: r.sha256 });
      process.exit(0);
    });
    res.on('error', (err) => {
      report({ type: 'error', message: err.message, code: (err as NodeJS.ErrnoException).code });
      process.exit(1);
    });
  });
  req.on('error', (err) => {
    report({ type: 'error', message: err.message, code: (err as NodeJS.ErrnoException).code });
    process.exit(1);
  });
} else {
  report({ type: 'error', message: 'usage: http.ts server --port N | get --url URL' });
  process.exit(2);
}

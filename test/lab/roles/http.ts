/**
 * Lab role for the tunnel test: Node's own http server or client, knowing
 * nothing of mpudp (they talk TCP to the tunnel's ends).
 *
 *   node --import tsx test/lab/roles/http.ts server --port 8080
 *   node --import tsx test/lab/roles/http.ts get --url http://127.0.0.1:8081/N --progress-every BYTES
 *
 * The server answers GET /N with N seeded bytes and their SHA-256 in the
 * `x-sha256` header. The client downloads, hashes, and reports JSON lines:
 * listening, progress {bytes}, result {ok, bytes, expected, sha256}, error.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8080' },
    url: { type: 'string' },
    'progress-every': { type: 'string', default: String(1 << 20) },
  },
});

const report = (r: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
const CHUNK = 64 * 1024;

/** Chunk `i` of the seeded body (the same on every run). */
function chunkAt(i: number): Buffer {
  const out = Buffer.alloc(CHUNK);
  let x = (i + 1) * 2654435761 >>> 0 || 1;
  for (let j = 0; j < CHUNK; j += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, j);
  }
  return out;
}

function bodyHash(size: number): string {
  const h = createHash('sha256');
  for (let off = 0, i = 0; off < size; off += CHUNK, i++) h.update(chunkAt(i).subarray(0, Math.min(CHUNK, size - off)));
  return h.digest('hex');
}

if (positionals[0] === 'server') {
  const server = http.createServer((req, res) => {
    const size = Number((req.url ?? '/').slice(1));
    if (!Number.isSafeInteger(size) || size < 0) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'x-sha256': bodyHash(size) });
    let off = 0;
    let i = 0;
    const pump = (): void => {
      while (off < size) {
        const piece = chunkAt(i++).subarray(0, Math.min(CHUNK, size - off));
        off += piece.length;
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
    const expected = res.headers['x-sha256'];
    const hash = createHash('sha256');
    let bytes = 0;
    let next = every;
    res.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
      if (bytes >= next) {
        report({ type: 'progress', bytes });
        next += every;
      }
    });
    res.on('end', () => {
      const sha256 = hash.digest('hex');
      report({ type: 'result', ok: sha256 === expected && bytes === Number(res.headers['content-length']), bytes, sha256, expected });
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

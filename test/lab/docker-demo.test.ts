/**
 * The Docker Compose failover demo, end to end (issue #5): builds the local
 * base image, runs a transfer between a client and a server on two internal
 * networks, takes the client off isp-a mid-transfer and puts it back. The
 * demo checks its own summary (every byte, SHA-256, failover, heal) and exits
 * non-zero otherwise. Needs root (Docker's engine); without it the test fails
 * saying so.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../.ci/docker-demo.sh', import.meta.url));

describe('docker compose failover demo', () => {
  it('delivers every byte through a cut of isp-a and heals', async () => {
    if (process.getuid?.() !== 0) {
      throw new Error(`missing: root (running as uid ${process.getuid?.()}); the Docker demo starts Docker's engine`);
    }
    const output: string[] = [];
    const status = await new Promise<number | null>((resolve) => {
      const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      child.on('close', resolve);
    });
    const text = output.join('');
    const summary = text.split('\n').filter((l) => /^(bytes|match|failover|healed|goodput|== )/.test(l.trim()));
    console.log(summary.join('\n'));
    expect(status, text.slice(-4000)).toBe(0);
    expect(text).toMatch(/match\s+yes/);
    expect(text).toMatch(/failover\s+yes/);
    expect(text).toMatch(/CHECKS PASSED/);
  }, 15 * 60_000);
});

/**
 * The Docker Compose failover demo, end to end: builds the local base image
 * if it is missing, runs a transfer between a client and a server on two
 * internal networks, takes the client off isp-a mid-transfer and puts it
 * back. The demo checks its own summary (every byte, SHA-256, failover,
 * heal) and exits non-zero otherwise.
 *
 * Needs a running Docker engine with Compose, and the base image or root
 * and debootstrap to build it. The test installs nothing and starts no
 * daemon (.ci/run does, and stops it): where they are missing it is skipped
 * with the reason, or fails naming it under MPUDP_LAB=required.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { DOCKER_BASE_IMAGE, missingForDocker, toolPath } from '../../lab/harness/requirements.js';
import { describeNeeding } from './requirements.js';

const BUILD_BASE = fileURLToPath(new URL('../../docker/build-base.sh', import.meta.url));
const DEMO = fileURLToPath(new URL('../../docker/demo.sh', import.meta.url));

describeNeeding('a running Docker engine, Compose, and the base image (or root and debootstrap)', missingForDocker(), 'docker compose failover demo', () => {
  it('delivers every byte through a cut of isp-a and heals', async () => {
    const output: string[] = [];
    const status = await new Promise<number | null>((resolve) => {
      // build-base.sh does nothing when the image exists.
      const script = `bash ${JSON.stringify(BUILD_BASE)} ${DOCKER_BASE_IMAGE} && MPUDP_BASE=${DOCKER_BASE_IMAGE} bash ${JSON.stringify(DEMO)}`;
      const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: toolPath() } });
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

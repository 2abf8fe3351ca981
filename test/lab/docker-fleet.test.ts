/**
 * The Docker Compose fleet demo, end to end (docker/fleet.sh): three
 * servers behind one DNS name, fifty connections from five client
 * containers, each racing first contact over every A record of the name;
 * the server holding the most connections is killed mid-run. The script
 * checks every connection itself (intact on the survivors, a stable error
 * code within the idle timeout on the killed one) and exits non-zero
 * otherwise; this test also reads its report.
 *
 * Needs what the failover demo needs (docker-demo.test.ts); skipped with
 * the reason where it is missing, failing under MPUDP_LAB=required.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { DOCKER_BASE_IMAGE, missingForDocker, toolPath } from '../../lab/harness/requirements.js';
import { describeNeeding } from './requirements.js';

const BUILD_BASE = fileURLToPath(new URL('../../docker/build-base.sh', import.meta.url));
const FLEET = fileURLToPath(new URL('../../docker/fleet.sh', import.meta.url));

describeNeeding('a running Docker engine, Compose, and the base image (or root and debootstrap)', missingForDocker(), 'docker compose fleet demo', () => {
  it('spreads 50 connections over three servers behind one name; killing one cuts only its own, with a stable code', async () => {
    const output: string[] = [];
    const status = await new Promise<number | null>((resolve) => {
      const script = `bash ${JSON.stringify(BUILD_BASE)} ${DOCKER_BASE_IMAGE} && MPUDP_BASE=${DOCKER_BASE_IMAGE} bash ${JSON.stringify(FLEET)}`;
      const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: toolPath() } });
      child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      child.on('close', resolve);
    });
    const text = output.join('');
    console.log(text.split('\n').filter((l) => l.startsWith('== ')).join('\n'));
    expect(status, text.slice(-4000)).toBe(0);
    const survivors = /on the surviving servers: (\d+)\/(\d+) intact with no error/.exec(text);
    expect(survivors, 'no survivor report').not.toBeNull();
    expect(Number(survivors![2])).toBeGreaterThan(0);
    expect(survivors![1]).toBe(survivors![2]);
    const killed = /on the killed fleet-\d: (\d+) ended with (ETIMEDOUT|ERR_MPUDP_[A-Z_]+)/.exec(text);
    expect(killed, 'no report of the killed server').not.toBeNull();
    expect(Number(survivors![2]) + Number(killed![1])).toBe(50);
    expect(text).toMatch(/FLEET CHECKS PASSED/);
  }, 10 * 60_000);
});

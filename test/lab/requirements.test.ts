/**
 * The requirement checks of the tests that need the machine (./requirements.ts):
 * they name everything missing, find tools in sbin directories too, and
 * turn into a skip with the reason, or a failure under MPUDP_LAB=required.
 * These run anywhere (no root needed): the environment they inspect is
 * injected (a uid, a PATH of our own making).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_SH, requireLab } from '../../lab/harness/netns.js';
import { decide, labRequired, missingForDocker, missingForLab, toolPath } from '../../lab/harness/requirements.js';

/** A directory with no tools, and one with fake `ip` and `tc` only. */
const empty = mkdtempSync(join(tmpdir(), 'mpudp-lab-empty-'));
const partial = mkdtempSync(join(tmpdir(), 'mpudp-lab-partial-'));
for (const tool of ['ip', 'tc']) {
  writeFileSync(join(partial, tool), '#!/bin/sh\nexit 0\n');
  chmodSync(join(partial, tool), 0o755);
}
afterAll(() => {
  rmSync(empty, { recursive: true, force: true });
  rmSync(partial, { recursive: true, force: true });
});

describe('lab requirements', () => {
  it('missingForLab() names every missing thing: root, ip, tc, nft', () => {
    expect(() => requireLab({ uid: 1000, path: empty })).toThrow(/missing: root \(running as uid 1000.*ip \(Debian package iproute2.*tc \(Debian package iproute2.*nft \(Debian package nftables/);
    expect(missingForLab({ uid: 1000, path: empty })).toHaveLength(4);
  });

  it('missingForLab() names only what is missing', () => {
    const missing = missingForLab({ uid: 0, path: partial });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^nft /);
  });

  it('tools in sbin directories count although PATH lacks them', () => {
    expect(toolPath('/usr/bin:/bin').split(':')).toEqual(['/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin']);
    expect(toolPath('/usr/sbin:/usr/bin').split(':')).toEqual(['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/sbin']);
    // Every directory of the path is searched.
    expect(missingForLab({ uid: 0, path: `${empty}:${partial}` }).map((m) => m.split(' ')[0])).toEqual(['nft']);
  });

  it('missing requirements skip with the reason, or fail under MPUDP_LAB=required', () => {
    expect(decide('root, nft', [], false)).toEqual({ run: true });
    expect(decide('root, nft', ['root (running as uid 1000)'], false)).toEqual({ run: false, skip: 'needs root, nft; missing: root (running as uid 1000)' });
    expect(decide('root, nft', ['nft (…)'], true)).toEqual({ run: false, fail: 'MPUDP_LAB=required, but this needs root, nft; missing: nft (…)' });
    expect(labRequired({ MPUDP_LAB: 'required' })).toBe(true);
    expect(labRequired({})).toBe(false);
  });

  it('without a docker command the Docker demo names it', () => {
    expect(missingForDocker({ uid: 0, path: empty })).toEqual([expect.stringMatching(/^docker \(Debian package docker\.io/)]);
  });

  it('lab.sh check and lab.sh up print what is missing and fail', () => {
    const env = { PATH: empty, LAB_EXACT_PATH: '1', LAB_PREFIX: `mpudp-req${process.pid}` };
    const check = spawnSync('/bin/bash', [LAB_SH, 'check'], { env, encoding: 'utf8' });
    expect(check.status).toBe(1);
    for (const tool of ['ip', 'tc', 'nft']) expect(check.stdout).toMatch(new RegExp(`^missing: ${tool} `, 'm'));
    const up = spawnSync('/bin/bash', [LAB_SH, 'up'], { env, encoding: 'utf8' });
    expect(up.status).toBe(1);
    expect(up.stderr).toMatch(/cannot run the lab/);
    expect(up.stderr).toMatch(/missing: nft \(Debian package nftables\)/);
  });

  it('lab.sh rejects a bad LAB_PREFIX', () => {
    const badPrefix = spawnSync('/bin/bash', [LAB_SH, 'status'], { env: { ...process.env, LAB_PREFIX: 'a b' }, encoding: 'utf8' });
    expect(badPrefix.status).toBe(1);
    expect(badPrefix.stderr).toMatch(/LAB_PREFIX/);
  });
});

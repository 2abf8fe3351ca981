/**
 * The lab's requirement checks: on a machine without root, ip, tc or nft, the
 * lab tests must FAIL with a message naming what is missing, never pass or
 * skip. These checks run anywhere (no root needed): the environment they
 * inspect is injected (a uid, a PATH of our own making).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_SH, missingForLab, requireLab } from './harness.js';

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
  it('requireLab() names every missing thing: root, ip, tc, nft', () => {
    expect(() => requireLab({ uid: 1000, path: empty })).toThrow(/missing: root \(running as uid 1000.*ip \(Debian package iproute2.*tc \(Debian package iproute2.*nft \(Debian package nftables/);
    expect(missingForLab({ uid: 1000, path: empty })).toHaveLength(4);
  });

  it('requireLab() names only what is missing', () => {
    const missing = missingForLab({ uid: 0, path: partial });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^nft /);
    expect(() => requireLab({ uid: 0, path: partial })).toThrow(/missing: nft \(Debian package nftables/);
  });

  it('lab.sh check and lab.sh up print what is missing and fail', () => {
    const env = { PATH: empty, LAB_PREFIX: `mpudp-req${process.pid}` };
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

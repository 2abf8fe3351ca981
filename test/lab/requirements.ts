/**
 * `describeNeeding`: how a suite that needs the machine itself (namespaces,
 * nftables, Docker) runs, skips with the reason, or fails under
 * MPUDP_LAB=required. The checks are lab/harness/requirements.ts.
 */
import { beforeAll, describe } from 'vitest';
import { decide, labRequired } from '../../lab/harness/requirements.js';

/**
 * `describe` for a suite that needs the machine: runs it, skips it with
 * the reason in its title and on stderr, or (MPUDP_LAB=required) runs it
 * with every test failing on the reason.
 */
export function describeNeeding(needs: string, missing: string[], title: string, body: () => void): void {
  const decision = decide(needs, missing, labRequired());
  if (decision.run) {
    describe(title, body);
  } else if ('skip' in decision) {
    process.stderr.write(`skipped: ${title}: ${decision.skip}\n`);
    describe.skip(`${title} [skipped: ${decision.skip}]`, body);
  } else {
    describe(title, () => {
      beforeAll(() => {
        throw new Error(decision.fail);
      });
      body();
    });
  }
}

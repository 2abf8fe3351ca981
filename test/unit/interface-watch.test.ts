/**
 * The address watch: a look that fails (os.networkInterfaces() throws
 * EMFILE once a process holding 10,000 connections is out of file
 * descriptors: it crashed the bench's hold client from a timer) changes
 * nothing and throws nothing; the next look that works reports as before.
 */
import { describe, expect, it } from 'vitest';
import { InterfaceWatch } from '../../src/io/interface-watch.js';

describe('InterfaceWatch', () => {
  it('a failed look is not a change and does not throw; the next look reports what changed', () => {
    let addresses: string[] | null = ['10.0.0.1', '10.0.0.2'];
    const changes: [string[], string[]][] = [];
    const w = new InterfaceWatch({
      interval: 0,
      source: () => {
        if (addresses === null) throw Object.assign(new Error('uv_interface_addresses'), { code: 'ERR_SYSTEM_ERROR', errno: 24 });
        return addresses;
      },
      onChange: (added, removed) => changes.push([added, removed]),
    });
    addresses = null;
    expect(w.poll()).toBe(false);
    expect(w.failedLooks).toBe(1);
    expect(changes).toEqual([]);
    addresses = ['10.0.0.1', '10.0.0.3'];
    expect(w.poll()).toBe(true);
    expect(changes).toEqual([[['10.0.0.3'], ['10.0.0.2']]]);
  });
});

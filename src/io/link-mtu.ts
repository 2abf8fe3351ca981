/**
 * The MTU of the local interface that holds an address, read from
 * /sys/class/net/<interface>/mtu (Linux; elsewhere unknown). The core caps
 * path MTU discovery by it (pmtud.ts, pmtuCeiling): node:dgram cannot set
 * Don't Fragment, so the kernel fragments what is larger than the local
 * link, and discovery would otherwise find the option's ceiling on a link
 * that carries less.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** Reads the MTU of a local address's interface; undefined where it cannot be read. */
export type LinkMtuSource = (address: string) => number | undefined;

/** The interface's name that holds `address`, or undefined. */
function interfaceOf(address: string): string | undefined {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) if (info.address === address) return name;
  }
  return undefined;
}

export const linkMtu: LinkMtuSource = (address) => {
  let name: string | undefined;
  try {
    name = interfaceOf(address);
  } catch {
    // os.networkInterfaces() throws EMFILE when the process is out of descriptors.
    return undefined;
  }
  if (name === undefined || name.includes('/') || name === '.' || name === '..') return undefined;
  try {
    const mtu = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'), 10);
    return Number.isSafeInteger(mtu) && mtu >= 68 ? mtu : undefined;
  } catch {
    return undefined;
  }
};

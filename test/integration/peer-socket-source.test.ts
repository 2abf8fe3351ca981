/**
 * A client's connected socket (src/io/peer-sockets.ts) is bound to the
 * shared local address and port before it is connected to its peer. A
 * datagram from anyone else that reaches that port in between (Linux puts
 * it in the newest socket's queue) is read after the connect, on the
 * connected socket. It must reach the core with the address it came from,
 * not the peer's: the core took it for the peer's move to a new address
 * and probed that address with another server's connection ID, and a
 * cluster worker that did not own the ID answered with a stateless reset
 * (issue #13, the flaky test/integration/cluster.test.ts).
 *
 * The interleaving is built, not waited for: open() binds on one tick and
 * connects on a later one (node:dgram resolves each address on
 * process.nextTick); a send queued between the two lands in between.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/io/bind-socket.js';
import { PeerSockets } from '../../src/io/peer-sockets.js';
import type { SocketAddress } from '../../src/core/types.js';

const HOST = '127.0.0.1';

describe('a connected socket hands each datagram with its real source', () => {
  const open: Socket[] = [];
  let peers: PeerSockets | null = null;
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    await peers?.close();
  });

  async function bound(): Promise<Socket> {
    const s = createSocket('udp4');
    open.push(s);
    s.bind(0, HOST);
    await once(s, 'listening');
    return s;
  }

  it('a datagram that reached the port before connect() is not taken for the peer', async () => {
    const peer = await bound();
    const other = await bound();
    const local: SocketAddress = { address: HOST, port: await freePort(HOST) };
    const got: { remote: SocketAddress; text: string }[] = [];
    peers = new PeerSockets(local, {
      message: (msg, _local, remote) => got.push({ remote: { ...remote }, text: msg.toString() }),
      pathError: () => undefined,
      sendFailed: () => undefined,
      refed: () => true,
      configure: () => undefined,
    });
    const opened = peers.open({ address: HOST, port: peer.address().port });
    // Queued after open()'s bind and before its connect: it lands in the bound, unconnected socket.
    other.send('stray', local.port, HOST);
    await opened;
    peer.send('from the peer', local.port, HOST);
    const deadline = Date.now() + 2000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const byText = new Map(got.map((g) => [g.text, g.remote]));
    // The stray was read on the connected socket (the interleaving happened) ...
    expect(byText.get('stray')).toBeDefined();
    // ... and reaches the core from where it came, not from the peer.
    expect(byText.get('stray')).toEqual({ address: HOST, port: other.address().port });
    expect(byText.get('from the peer')).toEqual({ address: HOST, port: peer.address().port });
  });
});

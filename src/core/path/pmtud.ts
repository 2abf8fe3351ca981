/**
 * Path MTU discovery for one path (DPLPMTUD, RFC 8899): the largest
 * datagram the path carries, found by sending padded probe packets and
 * watching which are acknowledged. No ICMP is needed (Node does not hand
 * Packet Too Big messages to a UDP socket), so a black hole is detected
 * from losses alone.
 *
 * The machine: a path starts at BASE_PLPMTU (1200, the size every path must
 * carry) in the search phase. The first probe tries the ceiling (1472 on a
 * 1500-byte IPv4 link, the common case, found in one round trip); a size
 * that fails MAX_PROBES times in a row lowers the ceiling below it, and the
 * next probe goes halfway between the largest size confirmed and the
 * ceiling, until they are within SEARCH_GRANULARITY. Then the path keeps its
 * size until PMTU_RAISE_TIMER, when it searches again. Losses of full-size
 * packets with no full-size packet acknowledged (a black hole: the path's
 * MTU dropped) put it back at BASE_PLPMTU and search again below the size
 * that failed; a path that heals after failing, or moves to another address
 * pair, searches again from the start.
 *
 * Sans-IO: every method takes the time; the module keeps no timer of its
 * own (probes go out when the connection next polls for a packet).
 */

/**
 * RFC 8899 §5.1.2: "a default BASE_PLPMTU of 1200 bytes is RECOMMENDED."
 * It is also QUIC's smallest allowed maximum datagram size, and what
 * mpudp sent before discovery existed.
 */
export const BASE_PLPMTU = 1200;
/** RFC 8899 §5.1.2: "The default value of MAX_PROBES is 3." */
export const MAX_PROBES = 3;
/**
 * RFC 8899 §5.1.1: "PMTU_RAISE_TIMER: The PMTU_RAISE_TIMER is configured to
 * the period a sender will continue to use the current PLPMTU, after which
 * it reenters the Search Phase. This timer has a period of 600 seconds".
 */
export const PMTU_RAISE_TIMER = 600_000;
/**
 * A probe neither acknowledged nor declared lost by loss detection for this
 * long counts as lost (its path stopped carrying anything, or the packet
 * was dropped from tracking). RFC 8899 §5.1.1 says PROBE_TIMER "MUST NOT be
 * smaller than 1 second and SHOULD be larger than 15 seconds"; loss
 * detection (RFC 9002) normally decides much sooner, as RFC 9000 §14.4
 * allows for QUIC.
 */
export const PROBE_TIMER = 15_000;
/**
 * A new path's first search waits this long, unless its sender fills a
 * packet with data first (then a larger size would carry more, and the
 * search starts at once). A connection that lives for one request, or a
 * handshake and a close, never pays a probe and its acknowledgement on
 * each side (two of the dozen datagrams of such a connection, each probe
 * sealed and opened at full size).
 */
export const FIRST_SEARCH_DELAY = 1000;
/** The search stops when the largest confirmed size is this close to the ceiling. */
export const SEARCH_GRANULARITY = 16;
/** Full-size packets lost, with none acknowledged since, that make a black hole. */
export const BLACK_HOLE_LOSSES = 3;
/** The IPv6 header is 20 bytes longer than the IPv4 one: a link carrying an IPv4 UDP payload of N carries an IPv6 one of N - 20. */
export const IPV6_EXTRA_HEADER = 20;

export type PmtuPhase = 'disabled' | 'searching' | 'complete';

/** IPv4 and UDP headers: a link of MTU M carries IPv4 UDP payloads of M - 28 (IPv6: M - 48). */
export const IPV4_UDP_HEADERS = 28;

/**
 * The search ceiling for a path to `remoteAddress`, given the option's
 * (IPv4) ceiling and, when the io layer knows it, the MTU of the local
 * interface the path leaves from. node:dgram cannot set Don't Fragment,
 * so the kernel fragments a datagram larger than the local link and
 * discovery would see it arrive: the link's own MTU is the one limit we
 * can read, and nothing larger than it is ever probed. RFC 8899 §5.1.2:
 * "The MAX_PLPMTU is the largest size of PLPMTU. This has to be less
 * than or equal to the maximum size of the PL packet that can be sent on
 * the outgoing interface (constrained by the local interface MTU)."
 */
export function pmtuCeiling(remoteAddress: string, maxDatagramSize: number, linkMtu?: number): number {
  const v6 = remoteAddress.includes(':');
  let ceiling = v6 ? maxDatagramSize - IPV6_EXTRA_HEADER : maxDatagramSize;
  if (linkMtu !== undefined && linkMtu > 0) ceiling = Math.min(ceiling, linkMtu - IPV4_UDP_HEADERS - (v6 ? IPV6_EXTRA_HEADER : 0));
  return Math.max(BASE_PLPMTU, ceiling);
}

export interface PmtuCounters {
  /** Probe packets sent. */
  mtuProbesSent: number;
  /** Probes acknowledged (each raised the path's size). */
  mtuProbesAcked: number;
  /** Probes declared lost. */
  mtuProbesLost: number;
  /** Black holes detected: the size fell back to BASE_PLPMTU. */
  mtuBlackHoles: number;
}

export class PathMtu {
  /**
   * The size every non-probe packet on the path is limited to. RFC 8899 §3:
   * "A PL MUST NOT send a datagram (other than a probe packet) with a size
   * at the PL that is larger than the current PLPMTU."
   */
  plpmtu = BASE_PLPMTU;
  phase: PmtuPhase;
  /** Largest size that may still work (sizes above it failed, or the ceiling). */
  private high: number;
  /** Size of the outstanding probe, and its packet number (-1: none). */
  private probeSize = 0;
  private probePn = -1;
  private probeSentAt = 0;
  /** Consecutive losses of probes of probeSize. */
  private probeCount = 0;
  /** When the next probe may go (the raise timer, or a short wait after a loss). */
  private nextProbeAt = -Infinity;
  /** Full-size (> BASE_PLPMTU) packets lost that were sent after the last full-size one acknowledged. */
  private largeLosses = 0;
  /** Number of the latest full-size packet acknowledged. */
  private largestLargeAcked = -1;
  /** After a PTO: the size the path had, tried first (an outage rarely changes the MTU). 0 = none. */
  private resume = 0;
  readonly counters: PmtuCounters = { mtuProbesSent: 0, mtuProbesAcked: 0, mtuProbesLost: 0, mtuBlackHoles: 0 };

  /** Largest size ever probed (pmtuCeiling); a move to another local interface may change it. */
  ceiling: number;

  /**
   * `createdAt`: when the path was made; its first search waits until
   * FIRST_SEARCH_DELAY after it or the first packet that data filled
   * (onSizeLimited), whichever comes first. Without it the search may
   * start at once.
   */
  constructor(ceiling: number, createdAt = -Infinity) {
    this.ceiling = ceiling;
    this.high = ceiling;
    this.phase = ceiling > BASE_PLPMTU ? 'searching' : 'disabled';
    this.nextProbeAt = createdAt + FIRST_SEARCH_DELAY;
  }

  /**
   * A data packet was cut at the path's current size with more data
   * waiting: a larger size would carry more, so a search still waiting to
   * start (FIRST_SEARCH_DELAY) starts now.
   */
  onSizeLimited(): void {
    if (this.phase === 'searching' && this.counters.mtuProbesSent === 0) this.nextProbeAt = -Infinity;
  }

  /** The size of the probe to send now, or 0 if none is due. */
  probeDue(now: number): number {
    if (this.phase === 'disabled') return 0;
    if (this.probePn >= 0) {
      if (now - this.probeSentAt < PROBE_TIMER) return 0;
      this.onProbeLost(now);
    }
    if (this.phase === 'complete') {
      if (now < this.nextProbeAt) return 0;
      // RFC 8899 §5.2: after PMTU_RAISE_TIMER the sender "reenters the Search Phase".
      this.phase = 'searching';
      this.high = this.ceiling;
      this.probeCount = 0;
    }
    if (now < this.nextProbeAt) return 0;
    return this.candidate();
  }

  /** The next size to try: the ceiling first (most paths carry it), then halfway. */
  private candidate(): number {
    if (this.probeCount > 0) return this.probeSize;
    if (this.resume > this.plpmtu) return this.resume;
    if (this.high === this.ceiling && this.probeSize !== this.ceiling) return this.ceiling;
    return Math.max(this.plpmtu + 1, (this.plpmtu + this.high + 1) >> 1);
  }

  onProbeSent(packetNumber: number, size: number, now: number): void {
    this.probeSize = size;
    this.probePn = packetNumber;
    this.probeSentAt = now;
    this.counters.mtuProbesSent++;
  }

  /** A packet of `size` bytes, number `packetNumber`, was acknowledged. */
  onAcked(packetNumber: number, size: number, now: number): void {
    if (size > BASE_PLPMTU && packetNumber > this.largestLargeAcked) {
      this.largestLargeAcked = packetNumber;
      this.largeLosses = 0;
    }
    if (packetNumber !== this.probePn) return;
    // RFC 8899 §4.2: "DPLPMTUD requires that a sender can confirm that a
    // probe packet has been received by the corresponding PL receiver." The
    // ACK of the probe does: the path carries that size.
    this.counters.mtuProbesAcked++;
    this.probePn = -1;
    this.probeCount = 0;
    this.resume = 0;
    if (size > this.plpmtu) this.plpmtu = size;
    if (this.high < this.plpmtu) this.high = this.plpmtu;
    this.checkDone(now);
  }

  /** A packet was declared lost. Returns true if it was the probe (then it is no congestion signal). */
  onLost(packetNumber: number, size: number, now: number): boolean {
    if (packetNumber === this.probePn) {
      this.onProbeLost(now);
      return true;
    }
    // RFC 8899 §4.3: "The DPLPMTUD search algorithm needs to robustly detect
    // that a current PLPMTU is unsupported by the network path." Full-size
    // packets keep vanishing while none sent after them is acknowledged.
    // (Congestion losses are found because later packets, full-size too,
    // were acknowledged: those do not count.)
    if (size > BASE_PLPMTU && size >= this.plpmtu && this.plpmtu > BASE_PLPMTU && packetNumber > this.largestLargeAcked) {
      this.largeLosses++;
      if (this.largeLosses >= BLACK_HOLE_LOSSES) this.blackHole(size - 1, now);
    }
    return false;
  }

  /**
   * The path's probe timeout fired with full-size packets outstanding: the
   * path may have lost its larger MTU rather than all connectivity. Its PTO
   * probe goes out at BASE_PLPMTU; the first probe after it tries the size
   * the path had (after an outage it likely carries it again: one probe
   * restores it), and the search resumes below the old bound if that fails.
   */
  onPto(now: number): void {
    if (this.plpmtu <= BASE_PLPMTU) return;
    const was = this.plpmtu;
    this.blackHole(Math.max(this.high, was), now);
    this.resume = was;
  }

  /**
   * The path healed after failing, or moved to another address pair
   * (whose ceiling may differ): search again from the start.
   */
  restart(ceiling = this.ceiling): void {
    if (this.phase === 'disabled') return;
    // Discovery stays on (the option's ceiling is above the base) even where a link allows only the base.
    this.ceiling = ceiling;
    this.plpmtu = BASE_PLPMTU;
    this.high = this.ceiling;
    this.phase = 'searching';
    this.probePn = -1;
    this.probeSize = 0;
    this.probeCount = 0;
    this.largeLosses = 0;
    this.resume = 0;
    this.nextProbeAt = -Infinity;
  }

  private onProbeLost(now: number): void {
    this.counters.mtuProbesLost++;
    this.probePn = -1;
    this.probeCount++;
    if (this.probeCount >= MAX_PROBES) this.resume = 0;
    // RFC 8899 §5.1.2: MAX_PROBES "is the maximum value of the PROBE_COUNT
    // counter"; a size that failed that many times is above the path's MTU.
    if (this.probeCount >= MAX_PROBES) {
      this.high = Math.max(this.plpmtu, this.probeSize - 1);
      this.probeCount = 0;
      this.probeSize = 0;
      this.checkDone(now);
    }
  }

  /**
   * Black hole: back to BASE_PLPMTU (RFC 8899 §5.2's Base Phase "confirms
   * connectivity to the remote peer using packets of the BASE_PLPMTU"),
   * and the search resumes below `high`.
   */
  private blackHole(high: number, now: number): void {
    this.counters.mtuBlackHoles++;
    this.plpmtu = BASE_PLPMTU;
    this.high = Math.max(BASE_PLPMTU, Math.min(high, this.ceiling));
    this.phase = 'searching';
    this.probePn = -1;
    this.probeSize = 0;
    this.probeCount = 0;
    this.largeLosses = 0;
    this.nextProbeAt = now;
    this.checkDone(now);
  }

  private checkDone(now: number): void {
    if (this.high - this.plpmtu < SEARCH_GRANULARITY) {
      this.phase = 'complete';
      this.nextProbeAt = now + PMTU_RAISE_TIMER;
    }
  }
}

// Fuzz target: what a stranger sends to the client port. Each hostile frame
// (any JSON value, deep nesting, huge numbers, random bytes as text or
// binary, a valid request with one field changed: parse-client-frame's
// arbitrary, plus hostile-values' JSON texts and requests mutated the
// harness's way) goes through the parser and then over a real WebSocket to
// a real ClientServer on a single-node FloeNode, after a hello. Whatever it
// holds, the server answers with a reply that is a success or an UPPER_CASE
// code (or a push), logs no INTERNAL failure, and keeps the socket open:
// only a frame over FRAME_BYTES_MAX closes it, with 1009.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import WebSocket from 'ws';
import { ClientServer } from '../../../daemon/client-server/index.ts';
import { parseConfig } from '../../../daemon/config.ts';
import { FloeNode } from '../../../daemon/node/index.ts';
import { checkClientFrame, clientFrameArbitrary, type ClientFrameInput } from '../../../protocol/parse-client-frame.test-support.ts';
import { FRAME_BYTES_MAX, formatVendorPublicKey } from '../../../protocol/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { hostileJsonText, isErrorCode, withOneFieldMutated } from '../hostile-values.ts';

/** `ms` the server has to answer a frame and the probe behind it. */
const ANSWER_MS_MAX = 10_000;
/** Ids of the probes: above any id the arbitraries make but MAX_SAFE_INTEGER, so a probe's reply is never taken for another. */
const PROBE_ID_BASE = 2 ** 52 + 7;

const VALID_CHECKOUT = { id: 7, type: 'checkout', requestId: 'req-fuzz-00000001', feature: 'demo', count: 1, wait: true, waitMs: 1000 };
const VALID_HELLO = { id: 8, type: 'hello', protocol: 1, clientId: 'client-fuzz-2', user: 'u', host: 'h', app: 'a', sessionId: 's', sessionSecret: 'x'.repeat(43) };

const asText = (text: string): ClientFrameInput => ({ data: text, isBinary: false });

/** Every frame a hostile client may send. */
const frame: fc.Arbitrary<ClientFrameInput> = fc.oneof(
  { weight: 4, arbitrary: clientFrameArbitrary },
  { weight: 2, arbitrary: hostileJsonText.map(asText) },
  { weight: 1, arbitrary: withOneFieldMutated(VALID_CHECKOUT).map(asText) },
  { weight: 1, arbitrary: withOneFieldMutated(VALID_HELLO).map(asText) },
);

/** A client socket that says hello and records every frame the server sends. */
class Probe {
  readonly frames: unknown[] = [];
  closeCode: number | undefined;
  /** Resolves when what the latest exchange waits for has arrived (or the socket closed). */
  private waiting: (() => void) | undefined;
  private nextProbeId = PROBE_ID_BASE;
  /** The id of the latest probe (or of the hello). */
  private probeId = 0;
  /** Replies of the latest exchange: to its probe, and to anything else (the frame under test). */
  private probeAnswered = false;
  private otherReplies = 0;
  private expectOther = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let f: unknown;
      try {
        f = JSON.parse(String(data));
      } catch {
        f = { notJson: String(data).slice(0, 200) };
      }
      this.frames.push(f);
      const id = (f as { id?: unknown }).id;
      if (id === this.probeId) this.probeAnswered = true;
      else if (id !== undefined) this.otherReplies++;
      if (this.probeAnswered && (!this.expectOther || this.otherReplies > 0)) this.waiting?.();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiting?.();
    });
    ws.on('error', () => {});
  }

  static async open(url: string, clientId: string): Promise<Probe> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const probe = new Probe(ws);
    const answered = probe.expect(1, false);
    ws.send(JSON.stringify({ id: 1, type: 'hello', protocol: 1, clientId, user: 'fuzz', host: 'fuzz', app: 'fuzz' }));
    await answered;
    const hello = probe.frames.shift() as { ok?: unknown };
    if (hello?.ok !== true) throw new Error(`hello answered ${JSON.stringify(hello)}`);
    return probe;
  }

  /**
   * Sends `input` as it is (text or binary), then a status probe; resolves
   * when the probe and (unless `input` is oversized) a reply to `input` have
   * arrived, in either order (a checkout waits for the log, status does
   * not), or when the socket closed.
   */
  async exchange(input: ClientFrameInput, oversized: boolean): Promise<void> {
    this.frames.length = 0;
    const answered = this.expect(++this.nextProbeId, !oversized);
    this.ws.send(input.data, { binary: input.isBinary });
    this.ws.send(`{"id":${this.probeId},"type":"status"}`);
    await answered;
  }

  /** Replies a frame of input got besides the probe's. */
  get replies(): number {
    return this.otherReplies;
  }

  private expect(probeId: number, other: boolean): Promise<void> {
    this.probeId = probeId;
    this.probeAnswered = false;
    this.otherReplies = 0;
    this.expectOther = other;
    return new Promise<void>((resolve, reject) => {
      if (this.closeCode !== undefined) return resolve();
      const timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_MS_MAX} ms (probe ${this.probeAnswered ? '' : 'not '}answered)`)), ANSWER_MS_MAX);
      this.waiting = () => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve();
      };
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Bytes of `input` on the wire. */
function byteLength(input: ClientFrameInput): number {
  return typeof input.data === 'string' ? Buffer.byteLength(input.data) : input.data.byteLength;
}

/** Throws unless `f` is a reply with a success or an error code, or a push. */
function checkServerFrame(f: unknown): void {
  if (typeof f !== 'object' || f === null) throw new Error(`the server sent ${JSON.stringify(f)}`);
  const r = f as { id?: unknown; ok?: unknown; type?: unknown; error?: { code?: unknown } };
  if (r.id === undefined) {
    if (typeof r.type !== 'string') throw new Error(`a push without a type: ${JSON.stringify(f)}`);
    return;
  }
  if (typeof r.id !== 'number' || !Number.isSafeInteger(r.id) || r.id < 0) throw new Error(`a reply with id ${JSON.stringify(r.id)}`);
  if (r.ok === true) return;
  if (r.ok !== false || !isErrorCode(r.error?.code)) throw new Error(`a reply without ok or an error code: ${JSON.stringify(f).slice(0, 300)}`);
  if (r.error?.code === 'INTERNAL') throw new Error(`answered INTERNAL: ${JSON.stringify(f).slice(0, 300)}`);
}

/** The client port: any frame gets an answer with a code, the socket stays open, nothing fails inside. */
export const clientFramesTarget: FuzzTarget = {
  name: 'client-frames',
  claim: 'a client frame of any bytes is answered with a success or an error code and leaves the socket open (a frame over the size limit closes it with 1009), never failing inside',
  runsInTest: 200,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-fuzz-client-'));
    const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(6));
    const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
    const node = await FloeNode.open({ config, lockCode: 'FUZZ-LOCK' });
    const internal: string[] = [];
    const server = await ClientServer.start({
      node,
      host: '127.0.0.1',
      port: 0,
      leaseTtlMs: 30_000,
      heartbeatMs: 10_000,
      queueWaitMsDefault: 60_000,
      queueWaitMsMax: 600_000,
      queuedPerSessionMax: 16,
      connectionsMax: 100,
      connectionsPerAddressMax: 100,
      helloTimeoutMs: 60_000,
      idleTimeoutMs: 600_000,
      // The fuzz sends as fast as it is answered: no rate limit may be what answers it.
      requestsPerSecondPerConnection: 1_000_000,
      requestBurstPerConnection: 1_000_000,
      requestsPerSecondPerAddress: 1_000_000,
      requestBurstPerAddress: 1_000_000,
      overLimitFramesPerConnectionMax: 1_000_000,
      unreadReplyBytesPerConnectionMax: 64 * 1024 * 1024,
      clientUrls: () => [],
      log: (line) => {
        if (line.includes('INTERNAL')) internal.push(line);
      },
    });
    let sockets = 0;
    let probe = await Probe.open(server.url, `client-fuzz-${++sockets}`);
    return {
      property: fc.asyncProperty(frame, async (input) => {
        checkClientFrame(input);
        if (probe.closeCode !== undefined) probe = await Probe.open(server.url, `client-fuzz-${++sockets}`);
        const oversized = byteLength(input) > FRAME_BYTES_MAX;
        await probe.exchange(input, oversized);
        for (const f of probe.frames) checkServerFrame(f);
        if (internal.length > 0) throw new Error(`the server logged ${internal.splice(0).join(' | ').slice(0, 500)}`);
        if (oversized && probe.closeCode !== 1009) throw new Error(`a frame of ${byteLength(input)} bytes left the socket ${probe.closeCode === undefined ? 'open' : `closed with ${probe.closeCode}`}`);
        if (!oversized && probe.closeCode !== undefined) throw new Error(`the server closed the socket with ${probe.closeCode}`);
        if (!oversized && probe.replies !== 1) throw new Error(`the frame got ${probe.replies} replies`);
      }),
      close: async () => {
        probe.close();
        await server.close();
        await node.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

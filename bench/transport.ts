// Peer transport throughput: one transport streams append messages (100
// entries of 100 bytes each, as a leader replicating a busy log would) to
// another over loopback, with a bounded window of messages in flight so the
// figure is delivered throughput, not queue drops. Also times a heartbeat's
// round trip, and the codec alone.
//
//   npm run bench -- transport [--messages 20000] [--ms 5000] [--batch 32] [--window 512] [--round-trips 2000]
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import type { Message } from '../daemon/raft/types.ts';
import { PeerTransport, decodeFrame, encodeFrame, type TransportLogger } from '../daemon/transport/index.ts';

const ENTRIES_PER_MESSAGE = 100;
const ENTRY_DATA_BYTES = 100;

function option(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

function appendMessage(index: number): Message {
  const data = new Uint8Array(ENTRY_DATA_BYTES).fill(0x5a);
  return {
    type: 'app',
    from: 'n1',
    to: 'n2',
    term: 7,
    index,
    logTerm: 7,
    commit: index,
    entries: Array.from({ length: ENTRIES_PER_MESSAGE }, (_, i) => ({ term: 7, index: index + 1 + i, type: 'normal' as const, data })),
  };
}

const quietLogger: TransportLogger = {
  info: () => {},
  warn: (event, fields) => process.stderr.write(`transport warn: ${event} ${JSON.stringify(fields)}\n`),
};

/** Runs the benchmark; prints figures and returns them. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const messagesMax = option(args, '--messages', 20_000);
  const durationMsMax = option(args, '--ms', 5000);
  const batchMessages = option(args, '--batch', 32);
  const windowMessages = option(args, '--window', 512);
  const message = appendMessage(1000);

  // Codec alone: encode + decode of one-message frames.
  const codecRounds = 2000;
  for (let i = 0; i < 500; i++) decodeFrame(encodeFrame([message])); // warm-up
  const codecStart = performance.now();
  let frameBytes = 0;
  for (let i = 0; i < codecRounds; i++) {
    const frame = encodeFrame([message]);
    frameBytes = frame.length;
    if (!decodeFrame(frame).ok) throw new Error('codec round trip failed');
  }
  const codecMs = performance.now() - codecStart;

  const keys1 = generateKeyPairSync('ed25519');
  const keys2 = generateKeyPairSync('ed25519');
  const n1 = new PeerTransport({ nodeId: 'n1', listen: { host: '127.0.0.1', port: 0 }, identity: keys1, peers: [], logger: quietLogger });
  const n2 = new PeerTransport({ nodeId: 'n2', listen: { host: '127.0.0.1', port: 0 }, identity: keys2, peers: [], logger: quietLogger });
  let received = 0;
  n2.onMessages((messages) => {
    received += messages.length;
  });
  try {
    const port1 = (await n1.start()).port;
    const port2 = (await n2.start()).port;
    const peers = [
      { id: 'n1', url: `ws://127.0.0.1:${port1}/raft`, publicKey: keys1.publicKey },
      { id: 'n2', url: `ws://127.0.0.1:${port2}/raft`, publicKey: keys2.publicKey },
    ];
    await n1.updatePeers(peers);
    await n2.updatePeers(peers);
    while (n1.stats().peers['n2']?.connected !== true) await new Promise((resolve) => setTimeout(resolve, 5));

    const batch = Array.from({ length: batchMessages }, () => message);
    const start = performance.now();
    let sent = 0;
    while (sent < messagesMax && performance.now() - start < durationMsMax) {
      if (sent - received < windowMessages) {
        n1.send(batch);
        sent += batch.length;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const drainDeadline = performance.now() + 5000;
    while (received < sent && performance.now() < drainDeadline) await new Promise((resolve) => setImmediate(resolve));
    const elapsedS = (performance.now() - start) / 1000;
    const link = n1.stats().peers['n2'];
    const delivered = received;

    // Round-trip latency of one heartbeat and its response, one at a time.
    const roundTrips = Math.min(2000, option(args, '--round-trips', 2000));
    const rttsUs: number[] = [];
    n2.onMessages((messages) => {
      for (const m of messages) if (m.type === 'heartbeat') n2.send([{ type: 'heartbeat-resp', from: 'n2', to: 'n1', term: m.term, context: m.context }]);
    });
    let answered: (() => void) | undefined;
    n1.onMessages(() => answered?.());
    for (let i = 0; i < roundTrips; i++) {
      const sentAt = performance.now();
      await new Promise<void>((resolve) => {
        answered = resolve;
        n1.send([{ type: 'heartbeat', from: 'n1', to: 'n2', term: 7, commit: i, commitTerm: 7, context: '' }]);
      });
      rttsUs.push((performance.now() - sentAt) * 1000);
    }
    rttsUs.sort((a, b) => a - b);
    const percentile = (p: number): number => Math.round(rttsUs[Math.min(rttsUs.length - 1, Math.floor(p * rttsUs.length))] ?? 0);
    const result = {
      messages: delivered,
      messagesSent: sent,
      seconds: Number(elapsedS.toFixed(3)),
      messagesPerS: Math.round(delivered / elapsedS),
      entriesPerS: Math.round((delivered * ENTRIES_PER_MESSAGE) / elapsedS),
      payloadMBPerS: Number(((delivered * ENTRIES_PER_MESSAGE * ENTRY_DATA_BYTES) / elapsedS / 1e6).toFixed(1)),
      wireMBPerS: Number(((link?.sentBytes ?? 0) / elapsedS / 1e6).toFixed(1)),
      frames: link?.sentFrames ?? 0,
      messagesPerFrame: Number((sent / Math.max(1, link?.sentFrames ?? 1)).toFixed(1)),
      dropped: link?.droppedMessages ?? 0,
      backpressureStalls: link?.backpressureStalls ?? 0,
      heartbeatRttUsP50: percentile(0.5),
      heartbeatRttUsP99: percentile(0.99),
      codecFrameBytes: frameBytes,
      codecRoundTripsPerS: Math.round(codecRounds / (codecMs / 1000)),
    };
    process.stdout.write(
      `transport: ${result.messagesPerS} append msgs/s (${ENTRIES_PER_MESSAGE}×${ENTRY_DATA_BYTES} B entries), ` +
        `${result.entriesPerS} entries/s, ${result.payloadMBPerS} MB/s payload, ${result.wireMBPerS} MB/s on the wire, ` +
        `${result.messagesPerFrame} msgs/frame, ${result.dropped} dropped; heartbeat round trip p50 ${result.heartbeatRttUsP50} µs, ` +
        `p99 ${result.heartbeatRttUsP99} µs; codec alone ${result.codecRoundTripsPerS} encode+decode/s of ${frameBytes} B frames\n`,
    );
    return result;
  } finally {
    await n1.stop();
    await n2.stop();
  }
}

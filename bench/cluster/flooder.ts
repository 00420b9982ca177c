// The flood bench's attacker, run inside a load worker process: `connections`
// raw WebSockets to one node that together send `framesPerSec` frames for
// `durationMs`, the way issue 11's finding 4 did it to depose a leader. Each
// says hello, then sends a mix that would reach consensus if it were served
// (checkouts of a feature nobody licensed, each a log entry), cheap requests
// (status, heartbeat) and garbage (not JSON, null, deep nesting). Half of the
// connections never read what the server answers (a slow reader). A socket
// the server closes is opened again at once, as a determined attacker would.
// Bounded: every loop ends at the deadline; every socket is destroyed.
import WebSocket from 'ws';
import { sleep } from '../figures.ts';

/** What one flood run did, as the attacker saw it. */
export interface FloodFigures {
  framesSent: number;
  framesPerSec: number;
  connectionsOpened: number;
  /** Connections the server refused or closed, by WebSocket close code ('refused': the upgrade failed). */
  closesByCode: Record<string, number>;
  /** Replies read (by the half that reads), by error code ('ok' for successes). */
  repliesByCode: Record<string, number>;
}

/** Options of one flood run. */
export interface FloodOptions {
  readonly url: string;
  readonly connections: number;
  readonly framesPerSec: number;
  readonly durationMs: number;
  readonly prefix: string;
}

/** `ms` between two sends of a connection: frames go out in small batches. */
const SEND_EVERY_MS = 10;
/** Frames of garbage in the mix: not JSON, null, an array nested 8,000 deep. */
const GARBAGE = ['{not json', 'null', `{"id":1,"type":${'['.repeat(8000)}${']'.repeat(8000)}}`];

/** Floods `options.url` until `options.durationMs` passes; answers what it did. */
export async function flood(options: FloodOptions): Promise<FloodFigures> {
  const figures: FloodFigures = { framesSent: 0, framesPerSec: 0, connectionsOpened: 0, closesByCode: {}, repliesByCode: {} };
  const started = performance.now();
  const deadline = started + options.durationMs;
  /** Frames per ms of one connection. */
  const laneRate = options.framesPerSec / options.connections / 1000;
  const count = (table: Record<string, number>, key: string) => {
    table[key] = (table[key] ?? 0) + 1;
  };
  const lanes = Array.from({ length: options.connections }, async (_, lane) => {
    const reads = lane % 2 === 0;
    const laneStarted = performance.now();
    let laneSent = 0;
    for (let round = 0; performance.now() < deadline; round++) {
      // A zero mask: the attacker spends its CPU on sending, not on masking.
      const ws = new WebSocket(options.url, { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
      let open = true;
      const closed = new Promise<void>((resolve) => {
        ws.on('close', (code) => {
          open = false;
          count(figures.closesByCode, String(code));
          resolve();
        });
        ws.on('error', () => {});
        ws.on('unexpected-response', () => {
          open = false;
          count(figures.closesByCode, 'refused');
          resolve();
        });
      });
      const opened = await Promise.race([new Promise<boolean>((r) => ws.once('open', () => r(true))), closed.then(() => false)]);
      if (!opened) {
        ws.terminate();
        await sleep(SEND_EVERY_MS);
        continue;
      }
      figures.connectionsOpened++;
      const socket = (ws as unknown as { _socket: { pause(): void; cork(): void; uncork(): void } })._socket;
      let id = 0;
      // Hello first, and its answer, so the flood that follows comes from a session.
      const helloed = new Promise<void>((resolve) => {
        ws.once('message', () => resolve());
        setTimeout(resolve, 2_000);
      });
      ws.send(JSON.stringify({ id: ++id, type: 'hello', protocol: 1, clientId: `${options.prefix}-flood-${lane}-${round}`, user: 'mallory', host: 'evil', app: 'flood' }));
      await Promise.race([helloed, closed]);
      if (reads) {
        ws.on('message', (data) => {
          const f = JSON.parse(String(data)) as { ok?: boolean; error?: { code?: string } };
          if ('ok' in f) count(figures.repliesByCode, f.ok === true ? 'ok' : String(f.error?.code));
        });
      } else {
        socket.pause();
      }
      while (open && performance.now() < deadline) {
        // One write per batch: the frames of a send leave in one TCP segment train, as a tight loop would send them.
        // As many frames as the rate owes since the lane started, at most 100 ms worth after a stall.
        const due = Math.min(Math.floor((performance.now() - laneStarted) * laneRate) - laneSent, Math.ceil(laneRate * 100));
        socket.cork();
        for (let i = 0; i < due && open; i++) {
          const n = ++id;
          const kind = n % 10;
          const frame =
            kind < 5
              ? `{"id":${n},"type":"checkout","requestId":"${options.prefix}-f-${lane}-${round}-${n}","feature":"flood-nothing"}`
              : kind < 8
                ? `{"id":${n},"type":"status"}`
                : kind < 9
                  ? `{"id":${n},"type":"heartbeat"}`
                  : (GARBAGE[n % GARBAGE.length] as string);
          ws.send(frame);
          figures.framesSent++;
          laneSent++;
        }
        socket.uncork();
        await sleep(SEND_EVERY_MS);
      }
      ws.terminate();
      await closed;
    }
  });
  await Promise.all(lanes);
  figures.framesPerSec = Math.round((figures.framesSent * 1000) / (performance.now() - started));
  return figures;
}

// Runs the key center's app on a socket, with what a running key center does
// in the background: deliver the mail outbox (soon after each change, and
// every few seconds for retries) and drop expired sessions and stale
// rate-limit counters. Stateless otherwise: several instances over one store
// serve the same portal.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { OUTBOX_DIR_NAME } from '../key-center-config.ts';
import type { KeyCenter } from '../key-center.ts';
import { KeyCenterError } from '../key-center-error.ts';
import { MailSender } from '../mail/mail-sender.ts';
import { RATE_LIMIT_RETENTION_MS } from '../rate-limits.ts';
import { createKeyCenterApp } from './key-center-app.ts';

/** How often queued mail is looked at when nothing changed (retries), ms. */
export const MAIL_POLL_INTERVAL_MS = 5000;
/** How often expired sessions and stale counters are dropped, ms. */
export const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface KeyCenterServerOptions {
  /** "host:port" ("127.0.0.1:7600"; port 0 picks a free one). */
  readonly listen: string;
  readonly trustProxy?: boolean | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

export interface RunningKeyCenter {
  /** "http://host:port". */
  readonly url: string;
  readonly mail: MailSender;
  close(): Promise<void>;
}

/** "host:port" → its parts; BAD_REQUEST when it is not one. */
export function splitListen(listen: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (match === null || match[1] === '' || port > 65_535) throw new KeyCenterError('BAD_REQUEST', `--listen "${listen.slice(0, 80)}" is not host:port`);
  return { host: match[1]!, port };
}

/** Serves `kc` on `options.listen` until close(). */
export async function startKeyCenterServer(kc: KeyCenter, options: KeyCenterServerOptions): Promise<RunningKeyCenter> {
  const { host, port } = splitListen(options.listen);
  const log = options.log ?? (() => undefined);
  const mail = new MailSender(kc.ctx, { outboxDir: join(kc.dir, OUTBOX_DIR_NAME), log });
  const app = createKeyCenterApp(kc, { trustProxy: options.trustProxy, log, onChange: () => mail.notify() });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  mail.start(MAIL_POLL_INTERVAL_MS);
  mail.notify();
  const housekeeping = setInterval(() => {
    const nowMs = kc.ctx.clock();
    kc.ctx.store
      .transaction(async (q) => {
        await q.deleteExpiredSessions(nowMs);
        await q.deleteStaleRateLimits(nowMs - RATE_LIMIT_RETENTION_MS);
      })
      .catch((error: unknown) => log(`housekeeping failed: ${error instanceof Error ? error.message : String(error)}`));
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();
  let closing: Promise<void> | undefined;
  return {
    url,
    mail,
    close: () => {
      closing ??= (async () => {
        clearInterval(housekeeping);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await mail.stop();
      })();
      return closing;
    },
  };
}

// Test support for the key-center server: an app over a fresh key center
// (requests through app.request(), no socket), a staff token, two customer
// accounts with an order each and a signed-in member of each.
import { addOrder, createAccount } from '../accounts.ts';
import { generateCodes } from '../code-generation.ts';
import type { Entitlement } from '../entitlement.ts';
import { mailedToken, testKeyCenter, type TestKeyCenter } from '../key-center.test-support.ts';
import type { KeyCenterOptions } from '../key-center.ts';
import { setPasswordWithToken, signIn } from '../member-auth.ts';
import type { OrderWithLines } from '../accounts.ts';
import { createStaff } from '../staff.ts';
import { createKeyCenterApp, type KeyCenterApp } from './key-center-app.ts';
import { SESSION_COOKIE } from './session-cookie.ts';

export const PASSWORD = 'correct horse battery';

/** A customer account with one order, its admin signed in, and a code generated from its first line. */
export interface TestAccount {
  readonly siteNumber: string;
  readonly email: string;
  readonly order: OrderWithLines;
  readonly code: Entitlement;
  /** The `cookie` header of the admin's session. */
  readonly cookie: string;
}

export interface TestServer extends TestKeyCenter {
  readonly app: KeyCenterApp;
  readonly staffToken: string;
  /** A request to the app; `address` is the client's socket address. */
  request(path: string, init?: RequestInit & { json?: unknown; address?: string }): Promise<Response>;
  /** Creates an account with an order, signs its contact in, generates a code of its first line. */
  account(siteNumber: string, email: string): Promise<TestAccount>;
}

/** A key center app with a staff token. */
export async function testServer(options: Omit<KeyCenterOptions, 'clock'> = {}): Promise<TestServer> {
  const t = await testKeyCenter(options);
  const app = createKeyCenterApp(t.kc);
  const staffToken = await createStaff(t.kc.ctx, 'ann', 'cli');
  const request: TestServer['request'] = async (path, init = {}) => {
    const { json, address, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return app.request(
      path,
      { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) },
      { incoming: { socket: { remoteAddress: address ?? '192.0.2.1' } } },
    );
  };
  const account: TestServer['account'] = async (siteNumber, email) => {
    const ctx = t.kc.ctx;
    await createAccount(ctx, { siteNumber, companyName: `Company ${siteNumber}` }, 'cli');
    const order = await addOrder(
      ctx,
      siteNumber,
      {
        customerOrderNumber: `CO-${siteNumber}`,
        purchaseOrderNumber: `PO-${siteNumber}`,
        contacts: [{ email, name: `Admin of ${siteNumber}`, role: 'primary' }],
        lines: [
          { product: 'stats', version: '29', model: 'concurrent', quantity: 10 },
          { product: 'stats', version: '29', model: 'authorized-user', quantity: 5 },
        ],
      },
      'cli',
    );
    await setPasswordWithToken(ctx, { token: await mailedToken(t.kc, email, '/set-password/'), purpose: 'set-password', password: PASSWORD });
    const { sessionId, session } = await signIn(ctx, { email, password: PASSWORD, address: 'test' });
    const [code] = await generateCodes(ctx, { siteNumber, userId: session.userId, email }, { lineId: order.lines[0]!.lineId, seats: 4 });
    return { siteNumber, email, order, code: code!, cookie: `${SESSION_COOKIE}=${sessionId}` };
  };
  return { ...t, app, staffToken, request, account };
}

/** The error code of a JSON error response. */
export async function errorCodeOf(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string } };
  return body.error?.code ?? `no error (${res.status})`;
}

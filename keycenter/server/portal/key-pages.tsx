// License keys, hosts and orders: a key shown whole (copy, download as a file),
// "View codes by host" (every set of lock codes with its keys and their
// status), and the order history with each order's details and keys.
import { Hono } from 'hono';
import { orderOf, ordersOf } from '../../accounts.ts';
import type { IssuedKey } from '../../issued-key.ts';
import { keyFileName } from '../../mail/mail-templates.ts';
import type { KcEnv } from '../server-env.ts';
import { requireScope } from '../session-cookie.ts';
import { borrowing, day, modelName, productName, seats, term } from './format.ts';
import { Banner, renderPage, StatusBadge } from './page.tsx';

function KeyTable({ keys, showHost }: { keys: readonly IssuedKey[]; showHost: boolean }) {
  return (
    <table>
      <thead>
        <tr>
          <th>License</th>
          <th>Product</th>
          <th class="num">Seats</th>
          {showHost ? <th>Host</th> : <th>Authorization code</th>}
          <th>Issued</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr>
            <td class="nowrap">
              <a href={`/keys/${k.licenseId}`} class="mono">
                {k.licenseId}
              </a>
              {k.supersedes === null ? null : <span class="sub">replaces {k.supersedes}</span>}
            </td>
            <td>
              {productName(k.product, k.version, k.component)}
              <span class="sub">
                {modelName(k.model)} · {term(k.expiresAt)}
              </span>
            </td>
            <td class="num">{k.seats}</td>
            {showHost ? <td>{k.hostDescription ?? <span class="muted">No description</span>}</td> : <td class="mono nowrap">{k.authCode}</td>}
            <td class="nowrap">{day(k.issuedAt)}</td>
            <td>
              <StatusBadge status={k.status} />
              {k.supersededBy === null ? null : <span class="sub">by {k.supersededBy}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The key, host and order pages. */
export function keyPages() {
  const app = new Hono<KcEnv>();

  app.get('/keys/:licenseId', async (c) => {
    const scope = requireScope(c);
    const k = await c.var.kc.key(c.req.param('licenseId'), scope);
    return renderPage(
      c,
      {
        title: `License key ${k.licenseId}`,
        nav: 'hosts',
        breadcrumb: <a href="/hosts">View codes by host</a>,
        actions: (
          <a class="button" href={`/keys/${k.licenseId}/download`} download={keyFileName(k)}>
            Download key file
          </a>
        ),
      },
      <>
        {c.req.query('issued') === '1' ? (
          <Banner kind="ok">
            Your license key is ready. We also e-mailed it to {scope.email}. Install it on the license server with "floe license import --key-file {keyFileName(k)}".
          </Banner>
        ) : null}
        {k.supersedes === null || k.status !== 'active' ? null : (
          <Banner kind="info">
            This key replaces {k.supersedes}: once it is installed, the server stops using the old key, and the seats are not counted twice.
          </Banner>
        )}
        <div class="card">
          <div class="card-body">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={k.status} />
                {k.supersededBy === null ? null : (
                  <>
                    {' '}
                    replaced by <a href={`/keys/${k.supersededBy}`}>{k.supersededBy}</a>
                  </>
                )}
              </dd>
              <dt>Product</dt>
              <dd>{productName(k.product, k.version, k.component)}</dd>
              <dt>License</dt>
              <dd>
                {modelName(k.model)} · {seats(k.seats, k.model)} · {term(k.expiresAt)}
              </dd>
              <dt>Borrowing</dt>
              <dd>{borrowing(k.borrowHoursMax)}</dd>
              <dt>Host</dt>
              <dd>{k.hostDescription ?? <span class="muted">No description</span>}</dd>
              <dt>{k.lockCodes.length === 1 ? 'Lock code' : 'Lock codes (redundant)'}</dt>
              <dd class="lock-code-list">
                {k.lockCodes.map((l) => (
                  <div>{l}</div>
                ))}
              </dd>
              <dt>Authorization code</dt>
              <dd class="mono">{k.authCode}</dd>
              {k.orderId === null ? null : (
                <>
                  <dt>Order</dt>
                  <dd>
                    <a href={`/orders/${k.orderId}`}>{k.orderNumber}</a>
                  </dd>
                </>
              )}
              <dt>Issued</dt>
              <dd>{day(k.issuedAt)}</dd>
              {k.comment === null ? null : (
                <>
                  <dt>Comment</dt>
                  <dd>{k.comment}</dd>
                </>
              )}
            </dl>
          </div>
        </div>
        <div class="card">
          <div class="card-head">
            <h2>The key</h2>
            <button type="button" class="secondary small" data-copy="license-key" hidden>
              Copy
            </button>
          </div>
          <div class="card-body">
            <label for="license-key" class="muted">
              One line, to paste into an e-mail or import on the license server.
            </label>
            <textarea id="license-key" class="key" readonly>
              {k.keyText}
            </textarea>
          </div>
        </div>
      </>,
    );
  });

  app.get('/keys/:licenseId/download', async (c) => {
    const k = await c.var.kc.key(c.req.param('licenseId'), requireScope(c));
    c.header('content-disposition', `attachment; filename="${keyFileName(k)}"`);
    c.header('content-type', 'text/plain; charset=utf-8');
    return c.body(`${k.keyText}\n`);
  });

  app.get('/hosts', async (c) => {
    const scope = requireScope(c);
    const hosts = await c.var.kc.keysByHost({ siteNumber: scope.siteNumber });
    return renderPage(
      c,
      {
        title: 'View codes by host',
        nav: 'hosts',
        lede: 'Every license host — one server, or three redundant ones — with the keys issued to it. A key replaced by a newer one (a rehost, or seats added) shows as superseded.',
      },
      hosts.length === 0 ? (
        <div class="card">
          <div class="empty">
            No keys yet. Activate an authorization code under <a href="/codes">My authorization codes</a>.
          </div>
        </div>
      ) : (
        hosts.map((h) => {
          const active = h.keys.filter((k) => k.status === 'active');
          return (
            <section class="card" aria-label={`Host ${h.hostDescription ?? h.lockCodes.join(', ')}`}>
              <div class="card-head">
                <div>
                  <h2>{h.hostDescription ?? 'No description'}</h2>
                  <div class="sub">
                    {h.lockCodes.length === 1 ? 'Single server' : `Redundant: ${h.lockCodes.length} servers`} · {active.length} active key{active.length === 1 ? '' : 's'}
                  </div>
                </div>
                <div class="lock-code-list">
                  {h.lockCodes.map((l) => (
                    <div>{l}</div>
                  ))}
                </div>
              </div>
              <KeyTable keys={h.keys} showHost={false} />
            </section>
          );
        })
      ),
    );
  });

  app.get('/orders', async (c) => {
    const scope = requireScope(c);
    const orders = await ordersOf(c.var.kc.ctx, scope.siteNumber);
    return renderPage(
      c,
      { title: 'Order history', nav: 'orders', lede: 'The orders of this account. The customer order number is the vendor’s reference; the purchase-order number is your organization’s.' },
      <div class="card">
        {orders.length === 0 ? (
          <div class="empty">No orders yet.</div>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Customer order number</th>
                <th>Purchase-order number</th>
                <th>Date</th>
                <th>Products</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr>
                  <td>
                    <a href={`/orders/${o.orderId}`}>{o.customerOrderNumber}</a>
                  </td>
                  <td>{o.purchaseOrderNumber ?? '—'}</td>
                  <td class="nowrap">{day(o.orderedAt)}</td>
                  <td>{o.lines.map((l) => `${l.product} ${l.version}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>,
    );
  });

  app.get('/orders/:orderId', async (c) => {
    const scope = requireScope(c);
    const o = await orderOf(c.var.kc.ctx, scope.siteNumber, c.req.param('orderId'));
    return renderPage(
      c,
      {
        title: `Order ${o.customerOrderNumber}`,
        nav: 'orders',
        breadcrumb: <a href="/orders">Order history</a>,
        lede: `${o.purchaseOrderNumber === null ? 'No purchase-order number' : `Purchase order ${o.purchaseOrderNumber}`} · ${day(o.orderedAt)} · contacts ${o.contacts.map((x) => x.name).join(', ')}`,
        actions: (
          <a class="button secondary" href={`/orders/${o.orderId}/keys`}>
            License keys for this order
          </a>
        ),
      },
      <div class="card">
        <table>
          <thead>
            <tr>
              <th class="num">Line</th>
              <th>Product</th>
              <th>Model</th>
              <th class="num">Quantity</th>
              <th>Term</th>
              <th>Borrowing</th>
            </tr>
          </thead>
          <tbody>
            {o.lines.map((l) => (
              <tr>
                <td class="num">{l.lineNo}</td>
                <td>
                  {l.product} {l.version}
                  {l.components.length === 0 ? null : <span class="sub">Bundle: {l.components.join(', ')}</span>}
                  {l.renewsLineId === null ? null : <span class="sub">Maintenance renewal</span>}
                </td>
                <td>{modelName(l.model)}</td>
                <td class="num">{l.quantity}</td>
                <td class="nowrap">{term(l.expiresAt)}</td>
                <td>{borrowing(l.borrowHoursMax)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>,
    );
  });

  app.get('/orders/:orderId/keys', async (c) => {
    const scope = requireScope(c);
    const o = await orderOf(c.var.kc.ctx, scope.siteNumber, c.req.param('orderId'));
    const keys = await c.var.kc.listKeys({ siteNumber: scope.siteNumber, orderId: o.orderId });
    return renderPage(
      c,
      { title: `License keys for order ${o.customerOrderNumber}`, nav: 'orders', breadcrumb: <a href={`/orders/${o.orderId}`}>Order {o.customerOrderNumber}</a> },
      <div class="card">{keys.length === 0 ? <div class="empty">No keys issued for this order yet.</div> : <KeyTable keys={keys} showHost />}</div>,
    );
  });

  return app;
}

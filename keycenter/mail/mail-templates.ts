// The mails the key center sends, as plain text with a simple HTML twin:
// welcome (with a one-time link to set a first password), added to an
// account, the order's authorization certificate, a password-reset link, a
// join request for the account's admins and its answer, and an issued key
// (attached as a file). Links start at the config's publicUrl; without one,
// at DEFAULT_PUBLIC_URL, and the mail says the link may not open elsewhere.
import type { IssuedKey } from '../issued-key.ts';
import { DEFAULT_PUBLIC_URL, type KeyCenterConfig } from '../key-center-config.ts';
import type { AccountRecord, JoinRequestRecord, OrderLineRecord, OrderRecord } from '../store/key-center-store.ts';
import type { OutgoingMail } from './mail-outbox.ts';

type Config = Pick<KeyCenterConfig, 'publicUrl' | 'vendorName'>;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "2026-01-15" (UTC). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Where links start: the configured publicUrl, else the default address of `floe keycenter serve`. */
function portalUrl(config: Config): string {
  return config.publicUrl ?? DEFAULT_PUBLIC_URL;
}

/** A mail from paragraphs: each a string, or a [label, url] link. */
function compose(to: string, subject: string, config: Config, body: readonly (string | readonly [string, string])[], extra: Partial<OutgoingMail> = {}): OutgoingMail {
  // Without a configured address the links are a guess: say so rather than send a link that silently fails.
  const unset =
    config.publicUrl === undefined && body.some((p) => typeof p !== 'string')
      ? [`(This key center has no public address configured, so the link points at ${DEFAULT_PUBLIC_URL}, which works only on the key center's own machine. If it does not open, ask ${config.vendorName} for the portal's address.)`]
      : [];
  const parts = [...body, ...unset];
  const text = [...parts.map((p) => (typeof p === 'string' ? p : `${p[0]}:\n${p[1]}`)), `— ${config.vendorName}`].join('\n\n');
  const html = [
    '<div style="font-family:system-ui,sans-serif;font-size:15px;line-height:1.5;color:#1f2933;max-width:560px">',
    ...parts.map((p) =>
      typeof p === 'string'
        ? `<p style="white-space:pre-line">${escapeHtml(p)}</p>`
        : `<p><a href="${escapeHtml(p[1])}" style="display:inline-block;background:#1d4ed8;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none">${escapeHtml(p[0])}</a></p>`,
    ),
    `<p style="color:#52606d">— ${escapeHtml(config.vendorName)}</p>`,
    '</div>',
  ].join('\n');
  return { to, subject, text, html, ...extra };
}

/** Days a welcome link stays usable. */
export const WELCOME_LINK_DAYS = 7;
/** Minutes a password-reset link stays usable. */
export const RESET_LINK_MINUTES = 60;

export function welcomeMail(config: Config, to: string, name: string, account: AccountRecord, token: string): OutgoingMail {
  return compose(to, `Welcome to the ${config.vendorName}`, config, [
    `Hello ${name},`,
    `You are now a member of account ${account.siteNumber} (${account.companyName}) in the ${config.vendorName}, where you generate authorization codes and license keys for your organization's orders.`,
    `Your sign-in name is your e-mail address, ${to}. Set your password with this link; it works once, for ${WELCOME_LINK_DAYS} days.`,
    ['Set your password', `${portalUrl(config)}/set-password/${token}`],
  ]);
}

export function addedToAccountMail(config: Config, to: string, name: string, account: AccountRecord): OutgoingMail {
  return compose(to, `You were added to account ${account.siteNumber}`, config, [
    `Hello ${name},`,
    `You are now also a member of account ${account.siteNumber} (${account.companyName}). Sign in as usual and choose it with "Switch account".`,
    ['Sign in', `${portalUrl(config)}/sign-in`],
  ]);
}

function lineText(line: OrderLineRecord): string {
  const what = `${line.product} ${line.version}${line.components.length === 0 ? '' : ` (bundle: ${line.components.join(', ')})`}`;
  const seats = line.model === 'concurrent' ? `${line.quantity} concurrent seats` : `${line.quantity} authorized users`;
  const term = line.expiresAt === null ? 'perpetual' : `temporary, until ${isoDate(line.expiresAt)}`;
  return `  ${line.lineNo}. ${what}: ${seats}, ${term}${line.renewsLineId === null ? '' : ', maintenance renewal'}`;
}

/** The authorization certificate: what the order entitles, sent to its contacts (and again on request). */
export function certificateMail(config: Config, to: string, account: AccountRecord, order: OrderRecord, lines: readonly OrderLineRecord[]): OutgoingMail {
  return compose(to, `Authorization certificate for order ${order.customerOrderNumber}`, config, [
    `This certificate confirms the products and the usage your organization is entitled to.`,
    [
      `Account (site number): ${account.siteNumber} — ${account.companyName}`,
      `Customer order number: ${order.customerOrderNumber}`,
      `Purchase-order number: ${order.purchaseOrderNumber ?? '—'}`,
      `Order date: ${isoDate(order.orderedAt)}`,
    ].join('\n'),
    `Products:\n${lines.map(lineText).join('\n')}`,
    `Generate the authorization codes of these products, and activate them into license keys, in the key center under "My authorization codes".`,
    ['Open the key center', `${portalUrl(config)}/codes`],
  ]);
}

export function resetPasswordMail(config: Config, to: string, name: string, token: string): OutgoingMail {
  return compose(to, `Reset your ${config.vendorName} password`, config, [
    `Hello ${name},`,
    `Someone (you, we hope) asked to reset the password of ${to}. Choose a new one with this link; it works once, for ${RESET_LINK_MINUTES} minutes. If you did not ask, ignore this mail: your password stays as it is.`,
    ['Choose a new password', `${portalUrl(config)}/reset-password/${token}`],
  ]);
}

export function joinRequestMail(config: Config, to: string, account: AccountRecord, request: JoinRequestRecord): OutgoingMail {
  return compose(to, `${request.name} asks to join account ${account.siteNumber}`, config, [
    `${request.name} <${request.email}> asks to become a member of account ${account.siteNumber} (${account.companyName}), giving order number ${request.orderNumber}.`,
    `As an administrator of the account you can approve or decline the request on the account's members page.`,
    ['Review the request', `${portalUrl(config)}/members`],
  ]);
}

export function joinDeclinedMail(config: Config, to: string, account: AccountRecord): OutgoingMail {
  return compose(to, `Your request to join account ${account.siteNumber}`, config, [
    `An administrator of account ${account.siteNumber} (${account.companyName}) declined your request to join it. Ask them, or your sales contact, if you think this is a mistake.`,
  ]);
}

/** The key file's name: the license id and ".license". */
export function keyFileName(key: Pick<IssuedKey, 'licenseId'>): string {
  return `${key.licenseId}.license`;
}

export function keyIssuedMail(config: Config, to: string, key: IssuedKey): OutgoingMail {
  return compose(to, `License key ${key.licenseId} for ${key.product} ${key.version}`, config, [
    `Here is license key ${key.licenseId}: ${key.product}${key.component === null ? '' : `/${key.component}`} ${key.version}, ${key.seats} ${key.model === 'concurrent' ? 'concurrent seats' : 'authorized users'}, ${key.expiresAt === null ? 'perpetual' : `until ${isoDate(key.expiresAt)}`}.`,
    `Lock codes: ${key.lockCodes.join(', ')}${key.hostDescription === null ? '' : `\nHost: ${key.hostDescription}`}${key.supersedes === null ? '' : `\nIt replaces license ${key.supersedes}: install it, and the server stops using the old key.`}`,
    `Import it on your license server with "floe license import --key-file ${keyFileName(key)}" (the file is attached), or paste it:\n${key.keyText}`,
  ], { attachments: [{ filename: keyFileName(key), content: `${key.keyText}\n` }] });
}

// Overview: the members (role, health, lag, lock-code match, clock skew, TLS
// certificate end), the quorum,
// the licenses with days to expiry, and the alerts that fire now — the same
// conditions as deploy/prometheus/alerts.yml, read from the same API.
import type { Context } from 'hono';
import { matchesLockCodes, parseNodeLockCodes } from '../../../protocol/index.ts';
import { answer } from '../console-read.ts';
import { daysUntil, expiryClass, Page, when } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { pageOf } from '../console-context.ts';

/** Entries a member may be behind the leader's commit before it is lagging (alerts.yml FloeMemberLagging). */
const LAG_ENTRIES_ALERT = 1000;
/** Share of a pool's seats in use from which it is nearly full (alerts.yml FloePoolNearlyFull). */
const NEARLY_FULL_SHARE = 0.95;
/** `ms` of clock skew from which a member's clock deserves a look (docs/config.md [clock]; alerts.yml FloeClockSkew). */
const CLOCK_SKEW_ALERT_MS = 1000;
/** Days before a license ends from which it alerts (alerts.yml FloeLicenseExpiringSoon). */
const EXPIRY_ALERT_DAYS = 14;
/** Days before a member's TLS certificate ends from which it alerts (alerts.yml FloeCertificateExpiringSoon). */
const CERTIFICATE_ALERT_DAYS = 21;

/** A skew as people read it: "+1.2 s", "-3 ms". */
function skewText(skewMs: number): string {
  const sign = skewMs > 0 ? '+' : skewMs < 0 ? '−' : '±';
  const abs = Math.abs(skewMs);
  return abs >= 1000 ? `${sign}${(abs / 1000).toFixed(1)} s` : `${sign}${abs} ms`;
}

/** GET / */
export async function overviewPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const cluster = await answer(api.cluster.$get());
  const licenses = await reads.read((q) => api.licenses.$get({ query: q }));
  const pools = await reads.read((q) => api.pools.$get({ query: q }));
  const nowMs = Date.now();
  const isLeaderView = cluster.reportedBy.role === 'leader';
  const commit = cluster.nodes.find((n) => n.id === cluster.reportedBy.id)?.commitIndex ?? 0;
  const inForce = licenses.filter((l) => l.status !== 'expired');
  /** True when a key in force names the member (the key check's own rule: tolerant codes match 2 of 3 inputs, legacy ones exactly). */
  const inAKey = (lockCode: string, legacyLockCode: string | undefined) =>
    [lockCode, legacyLockCode].some((code) => code !== undefined && inForce.some((l) => matchesLockCodes(l.lockCodes, parseNodeLockCodes(code), l.lockMatch)));
  const voters = cluster.nodes.filter((n) => n.role !== 'learner');
  const up = cluster.nodes.filter((n) => n.id === cluster.reportedBy.id || n.connected === true || n.recentActive === true);
  const quorum = Math.floor(voters.length / 2) + 1;

  const alerts: string[] = [];
  if (cluster.leaderId === '') alerts.push('No leader: checkouts are refused until a majority of the servers is up and connected.');
  for (const n of cluster.nodes) {
    if (n.id === cluster.reportedBy.id) continue;
    if (n.connected === false) alerts.push(`Member ${n.id} is not connected to ${cluster.reportedBy.id}.`);
    if (isLeaderView && n.matchIndex !== undefined && commit - n.matchIndex > LAG_ENTRIES_ALERT) alerts.push(`Member ${n.id} is ${commit - n.matchIndex} entries behind.`);
    if (n.clockSkewMs !== undefined && Math.abs(n.clockSkewMs) > CLOCK_SKEW_ALERT_MS) alerts.push(`Member ${n.id}'s clock differs from ${cluster.reportedBy.id}'s by ${skewText(n.clockSkewMs)}: check its NTP.`);
  }
  for (const n of cluster.nodes) {
    if (n.tlsNotAfter === undefined) continue;
    const days = daysUntil(Date.parse(n.tlsNotAfter), nowMs);
    if (days < 0) alerts.push(`Member ${n.id}'s TLS certificate has ended: its peers and clients refuse it. Issue a new one (floe tls issue) and reload it (systemctl reload floe).`);
    else if (days < CERTIFICATE_ALERT_DAYS) alerts.push(`Member ${n.id}'s TLS certificate ends in ${days} days: issue a new one (floe tls issue) and reload it (systemctl reload floe).`);
  }
  /** A column for certificates once any member is known to have one (a plain loopback site has none). */
  const showCertificates = cluster.nodes.some((n) => n.tlsNotAfter !== undefined);
  for (const p of pools) {
    if (p.seatsTotal > 0 && p.seatsInUse / p.seatsTotal >= NEARLY_FULL_SHARE) alerts.push(`${p.feature} ${p.version}: ${p.seatsInUse} of ${p.seatsTotal} seats in use.`);
  }
  for (const l of licenses) {
    if (l.expiresAt !== null && l.status !== 'expired' && daysUntil(l.expiresAt, nowMs) < EXPIRY_ALERT_DAYS) alerts.push(`License ${l.licenseId} (${l.product} ${l.version}) ends in ${daysUntil(l.expiresAt, nowMs)} days.`);
  }

  return c.html(
    <Page title="Overview" nav="overview" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      <section aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts</h2>
        {alerts.length === 0 ? (
          <p class="banner ok">Nothing firing.</p>
        ) : (
          <ul class="alerts">
            {alerts.map((a) => (
              <li>{a}</li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="members-h">
        <h2 id="members-h">
          Members{' '}
          <span class={`badge ${up.length >= quorum && cluster.leaderId !== '' ? 'good' : 'bad'}`}>
            quorum {up.length >= quorum && cluster.leaderId !== '' ? 'held' : 'lost'}: {up.length} of {voters.length} up, {quorum} needed
          </span>
        </h2>
        {!isLeaderView && <p class="muted">This node is a {cluster.reportedBy.role}: its lag is the entries it has not applied yet; the leader ({cluster.leaderId || 'none'}) knows every member's lag (open its console for them).</p>}
        <table>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Health</th>
              <th scope="col">Lag (entries)</th>
              <th scope="col">Lock code</th>
              <th scope="col">In the keys</th>
              <th scope="col">Clock skew</th>
              {showCertificates && <th scope="col">TLS certificate ends</th>}
            </tr>
          </thead>
          <tbody>
            {cluster.nodes.map((n) => {
              const self = n.id === cluster.reportedBy.id;
              const healthy = self || n.connected === true || n.recentActive === true;
              const lag = self ? (isLeaderView ? 0 : n.commitIndex !== null && n.appliedIndex !== null ? Math.max(0, n.commitIndex - n.appliedIndex) : null) : n.matchIndex !== undefined ? Math.max(0, commit - n.matchIndex) : null;
              const match = n.lockCode === undefined || n.lockCode === null ? null : inAKey(n.lockCode, n.legacyLockCode);
              const certificateDays = n.tlsNotAfter === undefined ? null : daysUntil(Date.parse(n.tlsNotAfter), nowMs);
              return (
                <tr>
                  <td>
                    {n.id}
                    {self ? ' (this node)' : ''}
                  </td>
                  <td>{n.role}</td>
                  <td>
                    <span class={`badge ${healthy ? 'good' : 'bad'}`}>{healthy ? 'up' : 'unreachable'}</span>
                  </td>
                  <td>{lag === null ? '—' : lag}</td>
                  <td class="mono">{n.lockCode ?? '—'}</td>
                  <td>{match === null ? '—' : <span class={`badge ${match ? 'good' : 'bad'}`}>{match ? 'matches' : 'in no key'}</span>}</td>
                  <td>
                    {n.clockSkewMs === undefined ? (
                      <span class="muted" title="not measured yet (measured on the peer connection's pings)">—</span>
                    ) : (
                      <span class={Math.abs(n.clockSkewMs) > CLOCK_SKEW_ALERT_MS ? 'badge bad' : ''}>{skewText(n.clockSkewMs)}</span>
                    )}
                  </td>
                  {showCertificates &&
                    (n.tlsNotAfter === undefined || certificateDays === null ? (
                      <td class="muted" title="not seen yet (read from the member's certificate on the peer link)">—</td>
                    ) : (
                      <td class={expiryClass(certificateDays)} data-days-left={certificateDays}>
                        {when(Date.parse(n.tlsNotAfter))} ({certificateDays < 0 ? `ended ${-certificateDays} days ago` : `${certificateDays} days left`})
                      </td>
                    ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="licenses-h">
        <h2 id="licenses-h">Licenses</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">License</th>
              <th scope="col">Product</th>
              <th scope="col">Seats</th>
              <th scope="col">Status</th>
              <th scope="col">Ends</th>
              <th scope="col">Days left</th>
            </tr>
          </thead>
          <tbody>
            {licenses.map((l) => {
              const days = l.expiresAt === null ? null : daysUntil(l.expiresAt, nowMs);
              return (
                <tr>
                  <td class="mono">{l.licenseId}</td>
                  <td>
                    {l.product} {l.version}
                  </td>
                  <td>{l.seats}</td>
                  <td>{l.status}</td>
                  <td>{l.expiresAt === null ? 'permanent' : when(l.expiresAt)}</td>
                  <td class={expiryClass(days)}>{days === null ? '—' : days}</td>
                </tr>
              );
            })}
            {licenses.length === 0 && (
              <tr>
                <td colspan={6} class="muted">
                  No license installed: import one on the Licenses page.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </Page>,
  );
}

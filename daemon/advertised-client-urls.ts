// The `servers` list a hello reply tells clients (for their failover): the
// config's client URLs, following the membership the log taught this node.
// A member added at run time (`floe cluster add --client-url …`) is listed
// although no config file names it, and a member removed at run time is no
// longer listed although a stale config still does; otherwise a client would
// never learn of a replacement server and would keep trying a dead one.

/** Client URLs told to clients, at most (docs/protocol.md: `servers` holds ≤ 16). */
export const ADVERTISED_CLIENT_URLS_MAX = 16;

/** What advertisedClientUrls works from. */
export interface AdvertisedClientUrlsInput {
  /** The config's `clientUrls` (explicit, else its peers' `clientUrl`s). */
  readonly configured: readonly string[];
  /** The config's `[cluster].peers`: each member the file names and its client URL. */
  readonly peers: readonly { readonly id: string; readonly clientUrl: string }[];
  /** Members added by applied conf changes (MemberDirectory), with the client URL the change carried. */
  readonly added: readonly { readonly id: string; readonly clientUrl?: string }[];
  /** The current members (voters and learners) as this node's log says, this node included. */
  readonly memberIds: readonly string[];
  /** This node's id. */
  readonly selfId: string;
}

/**
 * The client URLs of the current members: the configured list without the
 * URLs of config peers that are no longer members (or whose member was added
 * back with another client URL), then the client URL of each member added at
 * run time that the list lacks. While the log names no member but this node
 * (a node waiting to join, or no cluster), the configured list as is.
 */
export function advertisedClientUrls(input: AdvertisedClientUrlsInput): string[] {
  const members = new Set(input.memberIds);
  if (![...members].some((id) => id !== input.selfId)) return input.configured.slice(0, ADVERTISED_CLIENT_URLS_MAX);
  const addedUrls = new Map<string, string>();
  for (const m of input.added) if (m.clientUrl !== undefined && members.has(m.id)) addedUrls.set(m.id, m.clientUrl);
  const memberUrls = new Set<string>();
  for (const p of input.peers) if (members.has(p.id) && !addedUrls.has(p.id)) memberUrls.add(p.clientUrl);
  for (const url of addedUrls.values()) memberUrls.add(url);
  const stale = new Set<string>();
  for (const p of input.peers) {
    const gone = !members.has(p.id) || (addedUrls.get(p.id) ?? p.clientUrl) !== p.clientUrl;
    if (gone && !memberUrls.has(p.clientUrl)) stale.add(p.clientUrl);
  }
  const urls = input.configured.filter((url) => !stale.has(url));
  for (const url of addedUrls.values()) if (!urls.includes(url)) urls.push(url);
  return urls.slice(0, ADVERTISED_CLIENT_URLS_MAX);
}

/**
 * The client URL of member `leaderId` as hello tells it in `leader`: the
 * client URL its conf change carried (a member added at run time), else its
 * config peer's; undefined when there is no leader, its URL is unknown, or
 * it is not one of `advertised` (an explicit `clientUrls` list under other
 * names: a client can only be sent to a URL it may use anyway).
 */
export function leaderClientUrl(input: AdvertisedClientUrlsInput, leaderId: string, advertised: readonly string[]): string | undefined {
  if (leaderId === '') return undefined;
  const url = input.added.find((m) => m.id === leaderId)?.clientUrl ?? input.peers.find((p) => p.id === leaderId)?.clientUrl;
  return url !== undefined && advertised.includes(url) ? url : undefined;
}

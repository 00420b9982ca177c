// The servers a client may use and which one it tries next: the configured
// list, then the cluster's members as the latest hello reply named them,
// walked round-robin on failover. A checkout refused with "another server
// may serve it" walks the same list, skipping the servers it already tried.
//
// The learnt part follows the membership (docs/client.md, "Which servers it uses"):
// each hello reply that names servers replaces it, so a server removed from
// the cluster stops being dialed and an added one is tried, without a
// restart. The configured URLs always stay (the application's own choice,
// possibly names the cluster does not know), and so does the server the
// client is connected to until it leaves it; so the list is never empty.

/** The server URLs, in the order they are tried, and the current position. */
export class ServerList {
  /** The URLs the application configured, in its order. Invariant: 1 <= length <= #serversMax. */
  readonly #configured: readonly string[];
  /** The configured URLs, then the learnt ones. Invariant: starts with #configured; length <= #serversMax. */
  #urls: string[];
  /** Learnt URLs beyond this many are ignored. */
  readonly #serversMax: number;
  /** Index of the server to try next, or the one connected to. Invariant: < #urls.length. */
  #index = 0;

  /** `urls`: 1 to `serversMax` distinct URLs, already checked; `serversMax`: most URLs ever remembered. */
  constructor(urls: readonly string[], serversMax: number) {
    if (urls.length < 1 || urls.length > serversMax) throw new Error('assertion: 1 to serversMax configured servers');
    this.#configured = [...urls];
    this.#urls = [...urls];
    this.#serversMax = serversMax;
  }

  /** A copy of every URL, configured then learnt. */
  get urls(): readonly string[] {
    return [...this.#urls];
  }

  /** The URL to try now. */
  current(): string {
    const url = this.#urls[this.#index % this.#urls.length];
    if (url === undefined) throw new Error('assertion: the server list is never empty');
    return url;
  }

  /** The current server failed: the next one is tried. */
  advance(): void {
    this.#index = (this.#index + 1) % this.#urls.length;
  }

  /** A connection was lost: try `nextServer` when it is listed, else the one after the current. */
  moveAfterLoss(nextServer: string | undefined): void {
    const nextIndex = nextServer !== undefined ? this.#urls.indexOf(nextServer) : -1;
    this.#index = nextIndex >= 0 ? nextIndex : (this.#index + 1) % this.#urls.length;
  }

  /**
   * A session opened on `url` (a URL of this list), whose hello named the
   * servers `named`: the learnt URLs become the ws(s) ones of `named` that
   * are not configured (in their order, up to serversMax in all), plus `url`
   * itself when it is neither configured nor named; then stand on `url`.
   * When `named` holds no ws(s) URL (the server told nothing), the learnt
   * URLs stay as they are.
   */
  settleOn(url: string, named: readonly string[]): void {
    const reported = named.filter((other) => /^wss?:\/\/./.test(other));
    if (reported.length > 0) {
      const urls = [...this.#configured];
      for (const other of reported) if (urls.length < this.#serversMax && !urls.includes(other)) urls.push(other);
      if (!urls.includes(url)) {
        // Never leave the server we are on; it takes the last learnt place when the list is full.
        if (urls.length >= this.#serversMax) urls.pop();
        if (urls.length < this.#configured.length) throw new Error('assertion: a connected URL is configured or learnt');
        urls.push(url);
      }
      this.#urls = urls;
    }
    this.#index = Math.max(this.#urls.indexOf(url), 0);
  }

  /**
   * The first server after `here` (or from the current position when not
   * connected), in list order and wrapping, that is not in `tried`;
   * undefined when every one was tried.
   */
  nextUntried(here: string | undefined, tried: ReadonlySet<string>): string | undefined {
    const start = here !== undefined ? this.#urls.indexOf(here) + 1 : this.#index;
    let next: string | undefined;
    for (let i = 0; i < this.#urls.length && next === undefined; i++) {
      const url = this.#urls[(start + i) % this.#urls.length];
      if (url !== undefined && !tried.has(url)) next = url;
    }
    return next;
  }
}

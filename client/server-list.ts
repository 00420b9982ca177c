// The servers a client may use and which one it tries next: the given list,
// grown by the URLs hello replies name, walked round-robin on failover. A
// checkout refused with "another server may serve it" walks the same list,
// skipping the servers it already tried.

/** The server URLs, in the order they are tried, and the current position. */
export class ServerList {
  readonly #urls: string[];
  /** Learnt URLs beyond this many are ignored. */
  readonly #serversMax: number;
  /** Index of the server to try next, or the one connected to. Invariant: < #urls.length. */
  #index = 0;

  /** `urls`: at least one, already checked; `serversMax`: most URLs ever remembered. */
  constructor(urls: readonly string[], serversMax: number) {
    this.#urls = [...urls];
    this.#serversMax = serversMax;
  }

  /** A copy of every URL, given then learnt. */
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

  /** A session opened on `url`: remember the ws(s) URLs its hello named (up to serversMax), and stand on `url`. */
  settleOn(url: string, named: readonly string[]): void {
    for (const other of named) {
      if (this.#urls.length >= this.#serversMax) break;
      if (/^wss?:\/\/./.test(other) && !this.#urls.includes(other)) this.#urls.push(other);
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

// Test support for the portal's pages through app.request(): a minimal browser
// that keeps cookies, reads the CSRF token from the page it got, and submits
// forms as a person would.
import type { KeyCenterApp } from '../key-center-app.ts';

/** A page as the browser got it. */
export interface Page {
  readonly status: number;
  readonly html: string;
  /** Where a redirect points. */
  readonly location: string | null;
}

/** The value of the first `_csrf` field of a page. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error('no CSRF field on the page');
  return token;
}

/** The page's text: tags dropped, entities of quotes and ampersands undone, spaces collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&quot;|&#34;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}

export class PortalBrowser {
  private readonly cookies = new Map<string, string>();
  /** The last page's CSRF token, sent with the next form. */
  private csrf = '';

  constructor(
    private readonly app: KeyCenterApp,
    private readonly address = '192.0.2.10',
  ) {}

  private async send(path: string, init: RequestInit): Promise<Page> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await this.app.request(path, { ...init, headers }, { incoming: { socket: { remoteAddress: this.address } } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token !== undefined) this.csrf = token;
    return { status: res.status, html, location: res.headers.get('location') };
  }

  get(path: string): Promise<Page> {
    return this.send(path, { method: 'GET' });
  }

  /** Submits a form with the CSRF token of the last page (or `csrf`, or none when false). */
  post(path: string, fields: Record<string, string>, csrf?: string | false): Promise<Page> {
    const body = new URLSearchParams(fields);
    if (csrf !== false) body.set('_csrf', csrf ?? this.csrf);
    return this.send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  }

  /** Follows a redirect (303) to its page. */
  async follow(page: Page): Promise<Page> {
    if (page.location === null) throw new Error(`not a redirect: ${page.status}`);
    return this.get(page.location);
  }

  /** Signs in through the sign-in page; answers where it led. */
  async signIn(email: string, password: string): Promise<Page> {
    await this.get('/sign-in');
    return this.post('/sign-in', { email, password });
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

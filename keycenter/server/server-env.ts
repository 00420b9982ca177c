// The Hono environment of the key-center server: the key center every route
// works on, who is asking (their address, their session, or a staff token),
// and a hook to wake the mail sender after a change queued mail.
import type { KeyCenter } from '../key-center.ts';
import type { SessionView } from '../member-auth.ts';
import type { StaffRecord } from '../store/key-center-store.ts';

export interface KcEnv {
  Variables: {
    kc: KeyCenter;
    /** The client's address (the socket's, or X-Forwarded-For's first behind a trusted proxy). */
    address: string;
    /** The signed-in member, if the session cookie names a live session. */
    session: SessionView | undefined;
    /** The staff member of a vendor route's bearer token. */
    staff: StaffRecord;
    /** The portal's forms carry it (`_csrf`); every POST to a page must. */
    csrfToken: string;
  };
}

// What the admin route groups work over, handed to each group's factory so a
// new dependency (the token store, the event hub) is one field, not a new
// parameter in every group.
import type { TlsCertificateStatus } from '../daemon/index.ts';
import type { FloeNode } from '../daemon/node/index.ts';

/** The admin routes' dependencies. */
export interface AdminDeps {
  /** The node whose read model the routes read and whose propose() they call. */
  readonly node: FloeNode;
  /** Operational log lines (stderr in `floe serve`). */
  readonly log: (line: string) => void;
  /** This node's TLS certificate as last loaded; absent or undefined: plain http. */
  readonly tlsStatus?: () => TlsCertificateStatus | undefined;
}

// Every fuzz target, in the order `npm run fuzz` runs them. A new parser of
// outside bytes adds its target here (one file in targets/).
import type { FuzzTarget } from './fuzz-target.ts';
import { adminRequestsTarget } from './targets/admin-requests.ts';
import { backupFilesTarget } from './targets/backup-files.ts';
import { clientFramesTarget } from './targets/client-frames.ts';
import { configFilesTarget } from './targets/config-files.ts';
import { licenseKeysTarget } from './targets/license-keys.ts';
import { peerFramesTarget } from './targets/peer-frames.ts';
import { peerHandshakeTarget } from './targets/peer-handshake.ts';
import { policyTextsTarget } from './targets/policy-texts.ts';

/** The targets `npm test` and `npm run fuzz` run. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [clientFramesTarget, adminRequestsTarget, peerHandshakeTarget, peerFramesTarget, licenseKeysTarget, configFilesTarget, backupFilesTarget, policyTextsTarget];

// Offline activation at the key center: a license server's signed request
// file (protocol/activation-request-file.ts) in, a key file out. The API
// (POST /api/v1/activation-requests) and the portal's upload page both call
// this, so the checks exist once: the file must verify (REQUEST_MALFORMED,
// REQUEST_SIGNATURE_INVALID, REQUEST_LOCK_CODE_UNBOUND), then the code is
// activated on its lock codes by the same rule as an online activation — the
// same file again answers the same key, a code activated elsewhere
// ALREADY_ACTIVATED.
import { LICENSE_KEY_FILE_FORMAT, verifyActivationRequestFile, type LicenseKeyFile } from '../protocol/index.ts';
import type { IssueOptions } from './activation.ts';
import type { KeyCenter } from './key-center.ts';
import { KeyCenterError } from './key-center-error.ts';

/** Activates the code a request file names for the lock codes it names; answers the key file. */
export async function activateRequestFile(kc: KeyCenter, file: unknown, keyCenterUrl: string, options: IssueOptions): Promise<LicenseKeyFile> {
  const verdict = verifyActivationRequestFile(file);
  if (!verdict.ok) throw new KeyCenterError(verdict.code, verdict.message);
  const { request } = verdict;
  const key = await kc.activate({ authCode: request.authCode, lockCodes: verdict.lockCodes, hostDescription: request.hostDescription }, options);
  return { format: LICENSE_KEY_FILE_FORMAT, licenseId: key.licenseId, key: key.keyText, keyCenterUrl };
}

/** The name the key file answering a request file is saved as ("LIC-….json"); the license id is safe in a file name. */
export function requestAnswerFileName(licenseId: string): string {
  return `${licenseId.replace(/[^A-Za-z0-9-]/g, '_')}.json`;
}

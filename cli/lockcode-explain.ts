// `floe lockcode --explain`: what this node's lock code is made of and, given
// a license key or lock codes, which of them match this node and which
// machine inputs agree — so that a sysadmin sees that a new NIC still
// matches (2 of 3 inputs) or why a key is refused, before asking the vendor
// for a rehost. The rule itself is protocol/lock-code-match.ts.
import {
  LOCK_CODE_INPUTS,
  lockCodeParts,
  matchLockCode,
  parseNodeLockCodes,
  readLicenseKeyUnverified,
  verifyLicenseKey,
  type LicensePayload,
  type LockCodeInput,
  type LockCodeMatch,
  type LockMatchMode,
} from '../protocol/index.ts';
import type { NodeIdentity } from '../daemon/identity/index.ts';
import { CliError } from './cli-error.ts';

/** What to explain the node against: a key text (with vendor keys to check its signature), or lock codes. */
export type ExplainTarget =
  | { readonly kind: 'node' }
  | { readonly kind: 'key'; readonly keyText: string; readonly vendorKeys: readonly Uint8Array[] }
  | { readonly kind: 'codes'; readonly codes: readonly string[]; readonly mode: LockMatchMode };

/** The explanation: lines for people, a document for --json, and the code this node matches (if any). */
export interface Explanation {
  readonly lines: string[];
  readonly json: Record<string, unknown>;
  /** The first named code this node matches; undefined when none (or nothing was named). */
  readonly matched: string | undefined;
  readonly named: boolean;
}

const INPUT_LABELS: Readonly<Record<LockCodeInput, string>> = { 'machine-id': 'machine-id', macs: 'MACs', hostname: 'hostname' };

/** Explains `identity`'s lock code, against `target`. Throws CliError for a key that cannot be read. */
export function explainLockCode(identity: NodeIdentity, target: ExplainTarget): Explanation {
  const m = identity.machine;
  const parts = lockCodeParts(identity.lockCode);
  const values: Readonly<Record<LockCodeInput, string>> = {
    'machine-id': m.machineId === undefined ? '(absent)' : 'present',
    macs: m.macs.length === 0 ? '(no physical interface)' : m.macs.join(', '),
    hostname: m.hostname,
  };
  const lines = [
    `This node (${identity.dataDir} on ${m.hostname}): lock code ${identity.lockCode}`,
    `  keys issued before Floe 0.2 name its 0.1 code ${identity.legacyLockCode} (matched only exactly)`,
    `  identity    ${parts === undefined ? '?' : (parts.identity.match(/.{1,5}/g) ?? []).join('-')}  (${identity.dataDir}/node-identity.json)`,
    ...LOCK_CODE_INPUTS.map((input) => `  ${INPUT_LABELS[input].padEnd(10)}  ${(parts?.inputs[input] ?? '?').padEnd(17)}  ${values[input]}`),
  ];
  const json: Record<string, unknown> = {
    lockCode: identity.lockCode,
    legacyLockCode: identity.legacyLockCode,
    parts: parts === undefined ? null : { identity: parts.identity, ...parts.inputs },
    inputs: { machineId: m.machineId !== undefined, macs: m.macs, hostname: m.hostname },
  };
  if (target.kind === 'node') return { lines, json, matched: undefined, named: false };

  let codes: readonly string[];
  let mode: LockMatchMode;
  if (target.kind === 'key') {
    const license = readKey(target.keyText, target.vendorKeys, lines, json);
    codes = license.lockCodes;
    mode = license.lockMatch ?? 'tolerant';
  } else {
    codes = target.codes;
    mode = target.mode;
  }
  const node = parseNodeLockCodes(identity.statedLockCodes);
  const matches = codes.map((code) => matchLockCode(code, node, mode));
  lines.push(...matches.map(describeMatch));
  const matched = matches.find((x) => x.matches)?.named.code;
  lines.push(matched === undefined ? 'No code matches this node.' : `This node matches ${matched}.`);
  json['mode'] = mode;
  json['codes'] = matches.map((x) => ({
    code: x.named.code,
    form: x.named.form,
    matches: x.matches,
    ...(x.identity === undefined ? {} : { identity: x.identity, inputs: x.inputs, inputsNeeded: x.inputsNeeded }),
  }));
  json['matches'] = matched !== undefined;
  return { lines, json, matched, named: true };
}

/** The payload of `keyText`, its signature checked when vendor keys are given; notes what was checked. */
function readKey(keyText: string, vendorKeys: readonly Uint8Array[], lines: string[], json: Record<string, unknown>): LicensePayload {
  let license: LicensePayload;
  let signature: string;
  if (vendorKeys.length > 0) {
    // Dates do not matter here: an expired or not-yet-valid key still shows its locks.
    const verdict = verifyLicenseKey(keyText, { vendorKeys, nowMs: Date.now() });
    if (!verdict.ok && verdict.license === undefined) throw new CliError(verdict.code, verdict.message);
    license = verdict.ok ? verdict.license : (verdict.license as LicensePayload);
    signature = 'valid';
  } else {
    const read = readLicenseKeyUnverified(keyText);
    if (!read.ok) throw new CliError(read.code, read.message);
    license = read.license;
    signature = 'not checked';
  }
  const rule = license.lockMatch === 'exact' ? 'exact: all 3 machine inputs' : 'tolerant: identity and 2 of 3 machine inputs';
  lines.push(`License ${license.licenseId} names ${license.lockCodes.length} lock code(s) (${rule}); signature ${signature}${signature === 'valid' ? '' : ' (give --vendor-key)'}:`);
  json['key'] = { licenseId: license.licenseId, lockMatch: license.lockMatch ?? 'tolerant', signature };
  return license;
}

function describeMatch(x: LockCodeMatch): string {
  const head = `  ${x.named.code}  ${x.matches ? 'MATCHES' : 'no'}`;
  if (x.named.form !== 'tolerant') return `${head}: ${x.named.form === 'legacy' ? 'a 0.1 code' : 'not a lock code of this Floe'}, matched only exactly`;
  if (x.identity !== true) return `${head}: another node (its identity differs)`;
  const inputs = x.inputs as Readonly<Record<LockCodeInput, boolean>>;
  const agreed = LOCK_CODE_INPUTS.filter((i) => inputs[i]).length;
  const each = LOCK_CODE_INPUTS.map((i) => `${INPUT_LABELS[i]} ${inputs[i] ? 'same' : 'changed'}`).join(', ');
  return `${head}: identity same, ${each} (${agreed} of 3 agree, ${x.inputsNeeded ?? '?'} needed)`;
}

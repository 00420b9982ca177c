// One entry for both policy formats: PUT /policy, `floe policy check` and the
// node all read a policy text through here.
import { parseOptionsFile } from './options-file.ts';
import type { PolicyFormat, PolicyParse } from './policy.ts';
import { parsePolicyToml } from './policy-toml.ts';

/** Parses `text` in `format` ("floe": TOML; "flexlm-options": a FlexNet options file). Never throws. */
export function parsePolicy(format: PolicyFormat, text: unknown): PolicyParse {
  return format === 'floe' ? parsePolicyToml(text) : parseOptionsFile(text);
}

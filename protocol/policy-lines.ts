// Reading a line-oriented policy text as written on real servers: a UTF-8
// byte-order mark, CRLF or CR line ends, backslash continuation lines,
// whitespace-separated tokens with "double quotes" around names that hold
// spaces. Each token keeps its physical line and column (1-based), so an
// error points where the admin's editor shows it. Pure, never throws.
import type { PolicyDiagnostic } from './policy.ts';

/** One token of a logical line, where it starts in the file. */
export interface PolicyToken {
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** One logical line: its tokens (comments and blank lines yield none). */
export interface PolicyLine {
  /** Physical line the logical line starts on. */
  readonly line: number;
  readonly tokens: readonly PolicyToken[];
}

/** Splits `text` into lines: BOM dropped, any line end, continuations joined. */
export function readPolicyLines(text: string, lineCharsMax: number, errors: PolicyDiagnostic[]): PolicyLine[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const physical = body.split(/\r\n|\n|\r/);
  const out: PolicyLine[] = [];
  for (let i = 0; i < physical.length; i++) {
    // A logical line: segments of physical lines, each with where it came from.
    const segments: { text: string; line: number }[] = [];
    const first = i + 1;
    let chars = 0;
    for (;;) {
      const raw = physical[i] as string;
      const continued = /\\\s*$/.test(raw);
      const text = continued ? raw.replace(/\\\s*$/, '') : raw;
      chars += text.length;
      segments.push({ text, line: i + 1 });
      if (!continued || i + 1 >= physical.length) break;
      i++;
    }
    if (chars > lineCharsMax) {
      errors.push({ line: first, column: 1, code: 'POLICY_TOO_LARGE', message: `the line is longer than ${lineCharsMax} characters` });
      continue;
    }
    const tokens = tokenize(segments, errors);
    if (tokens.length === 0 || (tokens[0] as PolicyToken).text.startsWith('#')) {
      out.push({ line: first, tokens: [] });
      continue;
    }
    out.push({ line: first, tokens });
  }
  return out;
}

function tokenize(segments: readonly { text: string; line: number }[], errors: PolicyDiagnostic[]): PolicyToken[] {
  const tokens: PolicyToken[] = [];
  let current: { text: string; line: number; column: number } | undefined;
  let quote: { line: number; column: number } | undefined;
  for (const seg of segments) {
    for (let c = 0; c < seg.text.length; c++) {
      const ch = seg.text[c] as string;
      const column = c + 1;
      if (quote !== undefined) {
        if (ch === '"') quote = undefined;
        else (current as { text: string }).text += ch;
        continue;
      }
      if (ch === ' ' || ch === '\t' || ch === '\f' || ch === '\v') {
        if (current !== undefined) tokens.push(current);
        current = undefined;
        continue;
      }
      if (current === undefined) current = { text: '', line: seg.line, column };
      if (ch === '"') quote = { line: seg.line, column };
      else current.text += ch;
    }
    // A continuation joins lines with a space between them, as FlexNet reads them.
    if (quote === undefined && current !== undefined) {
      tokens.push(current);
      current = undefined;
    }
  }
  if (quote !== undefined) {
    errors.push({ line: quote.line, column: quote.column, code: 'POLICY_SYNTAX', message: 'a quoted name has no closing "' });
    return [];
  }
  if (current !== undefined) tokens.push(current);
  return tokens;
}

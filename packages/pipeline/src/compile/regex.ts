import RE2 from 're2';
import { compiled, compileError, type Compiled, type TenantRegex } from './types.js';

/**
 * Tenant regular expressions run on RE2 only: matching is linear in the input, so no
 * pattern can stall a processor (`^(a+)+$` is harmless). RE2 refuses backreferences and
 * lookaround; we report that as a compile error with the field's path.
 */
export function compileTenantRegex(pattern: string, at: ReadonlyArray<string | number>): Compiled<TenantRegex> {
  let re: RE2;
  try {
    // Python-style (?P<name>…) and JS-style (?<name>…) groups both work on RE2.
    re = new RE2(pattern, 'u');
  } catch (err) {
    return compileError(at, `not a valid RE2 regular expression: ${explain(pattern, (err as Error).message)}`);
  }
  const global = new RE2(re.source, 'gu');
  const groupNames = groupNamesOf(pattern);
  return compiled({
    groupNames,
    test: (input) => re.test(input),
    exec: (input) => {
      const match = re.exec(input);
      if (!match) return undefined;
      return { index: match.index, text: match[0], groups: { ...(match.groups ?? {}) } };
    },
    replaceAll: (input, replacer) => input.replace(global as unknown as RegExp, (m: string) => replacer(m)),
  });
}

function explain(pattern: string, message: string): string {
  if (/\\[1-9]|\\k</.test(pattern)) return `${message} (backreferences are not supported: matching must stay linear in the input)`;
  if (/\(\?<?[=!]/.test(pattern)) return `${message} (lookahead and lookbehind are not supported: matching must stay linear in the input)`;
  return message;
}

function groupNamesOf(pattern: string): string[] {
  return [...pattern.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1] as string);
}

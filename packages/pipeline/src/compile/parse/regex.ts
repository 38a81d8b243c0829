import type { Static } from '@sinclair/typebox';
import type { RegexParse } from '../../spec/steps.js';
import { FORBIDDEN_SEGMENTS } from '../field-path.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep, type Fields } from '../types.js';
import { checkedField, mergeParsed, notAString, parseFailure, type At } from './common.js';

export type RegexParseSpec = Static<typeof RegexParse>;

/**
 * `regex`: matches a field against a tenant RE2 pattern and writes each named group that
 * took part in the match, at the root or under `target`. `at` is the step's path.
 */
export function compileRegex(spec: RegexParseSpec, at: At, env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fieldPath = spec.field ?? 'message';
  const patternAt = [...at, 'regex', 'pattern'];
  const source = checkedField(fieldPath, [...at, 'regex', 'field'], errors);
  const target = spec.target === undefined ? undefined : checkedField(spec.target, [...at, 'regex', 'target'], errors);
  const re = errors.take(env.regex(spec.pattern, patternAt));
  if (re) {
    if (re.groupNames.length === 0) errors.add(patternAt, 'has no named groups: use (?P<name>…) to say which fields to extract');
    for (const group of re.groupNames) {
      // Group names become keys at the record root, so they follow the rule for field segments.
      if (FORBIDDEN_SEGMENTS.has(group)) errors.add(patternAt, `group name "${group}" is not allowed: it would reach the prototype of every object`);
    }
    const seen = new Set<string>();
    for (const group of re.groupNames) {
      if (seen.has(group)) errors.add(patternAt, `group name "${group}" is used twice`);
      seen.add(group);
    }
  }
  if (!source || !re || errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const groupNames = re.groupNames;
  const name = `field "${fieldPath}"`;
  const noMatch = parseFailure(`${name} does not match the pattern`);

  return compiled((record) => {
    const text = source.get(record);
    if (typeof text !== 'string') return notAString(name, text);
    const match = re.exec(text);
    if (!match) return noMatch;
    const groups = match.groups;
    let values: Fields | undefined;
    for (let i = 0; i < groupNames.length; i++) {
      const group = groupNames[i] as string;
      const value = groups[group];
      // An optional group that did not take part leaves its field alone rather than writing "".
      if (value === undefined) continue;
      (values ??= {})[group] = value;
    }
    if (values) mergeParsed(record, target, values);
    return undefined;
  });
}

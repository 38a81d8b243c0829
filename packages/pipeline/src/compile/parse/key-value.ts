import type { Static } from '@sinclair/typebox';
import type { KeyValueParse } from '../../spec/steps.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep, type Fields } from '../types.js';
import { checkedField, mergeParsed, notAString, parseFailure, setOwn, type At } from './common.js';
import { closingQuote, unquote } from './logfmt.js';

export type KeyValueParseSpec = Static<typeof KeyValueParse>;

const QUOTE = 0x22;

/**
 * `keyValue`: like logfmt with configurable (multi-character) separators, e.g.
 * `user=bob; id="4 2"` with `pairSeparator: '; '`. A token without the value separator is
 * skipped; a line with no pair at all fails. `at` is the step's path.
 */
export function compileKeyValue(spec: KeyValueParseSpec, at: At, _env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fieldPath = spec.field ?? 'message';
  const pairSeparator = spec.pairSeparator ?? ' ';
  const valueSeparator = spec.valueSeparator ?? '=';
  const source = checkedField(fieldPath, [...at, 'keyValue', 'field'], errors);
  const target = spec.target === undefined ? undefined : checkedField(spec.target, [...at, 'keyValue', 'target'], errors);
  // With one separator inside the other, which one a position belongs to is ambiguous.
  if (pairSeparator.includes(valueSeparator) || valueSeparator.includes(pairSeparator)) {
    errors.add(
      [...at, 'keyValue', spec.valueSeparator === undefined ? 'pairSeparator' : 'valueSeparator'],
      `pairSeparator ${JSON.stringify(pairSeparator)} and valueSeparator ${JSON.stringify(valueSeparator)} must not contain one another`,
    );
  }
  if (pairSeparator.includes('"') || valueSeparator.includes('"')) {
    errors.add([...at, 'keyValue', pairSeparator.includes('"') ? 'pairSeparator' : 'valueSeparator'], 'a separator cannot contain `"`: it quotes values');
  }
  if (!source || errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const name = `field "${fieldPath}"`;
  const noPair = parseFailure(`${name} has no key${valueSeparator}value pair`);

  return compiled((record) => {
    const text = source.get(record);
    if (typeof text !== 'string') return notAString(name, text);
    const values = parseKeyValue(text, pairSeparator, valueSeparator);
    if (!values) return noPair;
    mergeParsed(record, target, values);
    return undefined;
  });
}

/** Single pass over the line, moving with indexOf between separators; undefined when no pair was found. */
export function parseKeyValue(text: string, pairSeparator: string, valueSeparator: string): Fields | undefined {
  const values: Fields = {};
  let pairs = 0;
  const length = text.length;
  let pos = 0;
  let nextValue = -1;
  while (pos < length) {
    if (nextValue < pos) {
      nextValue = text.indexOf(valueSeparator, pos);
      // No value separator ahead: no pair can follow.
      if (nextValue === -1) break;
    }
    const nextPair = text.indexOf(pairSeparator, pos);
    if (nextPair !== -1 && nextPair < nextValue) {
      pos = nextPair + pairSeparator.length; // a token without a value separator
      continue;
    }
    const key = text.slice(pos, nextValue).trim();
    let i = nextValue + valueSeparator.length;
    // Tolerate `key = value` and `a=1, b=2` unless spaces are themselves the separator.
    while (i < length && text.charCodeAt(i) === 0x20 && !text.startsWith(pairSeparator, i)) i++;
    let value: string;
    if (i < length && text.charCodeAt(i) === QUOTE) {
      const end = closingQuote(text, i + 1);
      value = unquote(text, i + 1, end);
      const after = end >= length ? -1 : text.indexOf(pairSeparator, end + 1);
      pos = after === -1 ? length : after + pairSeparator.length;
    } else {
      const end = text.indexOf(pairSeparator, i);
      value = text.slice(i, end === -1 ? length : end).trim();
      pos = end === -1 ? length : end + pairSeparator.length;
    }
    if (key.length > 0) {
      setOwn(values, key, value);
      pairs++;
    }
  }
  return pairs > 0 ? values : undefined;
}

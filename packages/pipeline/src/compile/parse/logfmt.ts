import type { Static } from '@sinclair/typebox';
import type { LogfmtParse } from '../../spec/steps.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep, type Fields } from '../types.js';
import { checkedField, mergeParsed, notAString, parseFailure, setOwn, type At } from './common.js';

export type LogfmtParseSpec = Static<typeof LogfmtParse>;

const SPACE = 0x20;
const QUOTE = 0x22;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * `logfmt`: `key=value key2="quoted \"value\"" flag` → `{ key: 'value', key2: 'quoted "value"', flag: true }`.
 * Values stay strings: logfmt has no types, and guessing numbers would make a field's
 * mapping depend on its first value. `at` is the step's path.
 */
export function compileLogfmt(spec: LogfmtParseSpec, at: At, _env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const fieldPath = spec.field ?? 'message';
  const source = checkedField(fieldPath, [...at, 'logfmt', 'field'], errors);
  const target = spec.target === undefined ? undefined : checkedField(spec.target, [...at, 'logfmt', 'target'], errors);
  if (!source || errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const name = `field "${fieldPath}"`;
  const noPair = parseFailure(`${name} is not logfmt: it has no key=value pair`);

  return compiled((record) => {
    const text = source.get(record);
    if (typeof text !== 'string') return notAString(name, text);
    const values = parseLogfmt(text);
    if (!values) return noPair;
    mergeParsed(record, target, values);
    return undefined;
  });
}

/** Parses one line in a single pass; undefined when it holds no key=value pair (bare flags alone don't count). */
export function parseLogfmt(text: string): Fields | undefined {
  const values: Fields = {};
  let pairs = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    // Any control character or space separates pairs (tabs, stray CRs).
    while (i < length && text.charCodeAt(i) <= SPACE) i++;
    if (i >= length) break;
    const keyStart = i;
    let c = text.charCodeAt(i);
    while (i < length && c > SPACE && c !== EQUALS) c = text.charCodeAt(++i);
    const key = text.slice(keyStart, i);
    if (i >= length || c !== EQUALS) {
      if (key.length > 0) setOwn(values, key, true);
      continue;
    }
    i++; // '='
    if (key.length === 0) {
      // `=value` with no key: skip the token, it names nothing.
      while (i < length && text.charCodeAt(i) > SPACE) i++;
      continue;
    }
    let value: string;
    if (i < length && text.charCodeAt(i) === QUOTE) {
      const end = closingQuote(text, i + 1);
      value = unquote(text, i + 1, end);
      i = end + 1;
    } else {
      const valueStart = i;
      while (i < length && text.charCodeAt(i) > SPACE) i++;
      value = text.slice(valueStart, i);
    }
    setOwn(values, key, value);
    pairs++;
  }
  return pairs > 0 ? values : undefined;
}

/** Index of the quote closing a value opened before `from`; the text's length when unterminated (a truncated line keeps what it has). */
export function closingQuote(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    i += c === BACKSLASH ? 2 : 1;
  }
  return text.length;
}

/** The text between quotes with Go/JSON-style escapes resolved; a slice when there are none. */
export function unquote(text: string, start: number, end: number): string {
  const slash = text.indexOf('\\', start);
  if (slash === -1 || slash >= end) return text.slice(start, end);
  let out = text.slice(start, slash);
  let i = slash;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== BACKSLASH || i + 1 >= end) {
      out += text[i];
      i++;
      continue;
    }
    const next = text[i + 1] as string;
    i += 2;
    switch (next) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'u': {
        const hex = text.slice(i, i + 4);
        if (HEX4.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else out += '\\u';
        break;
      }
      // `\"`, `\\` and any unknown escape: the character itself.
      default: out += next;
    }
  }
  return out;
}

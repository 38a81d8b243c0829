import { textOf } from './text.js';
import type { Static } from '@sinclair/typebox';
import type { FilterStep, SampleFilter } from '../spec/steps.js';
import { compileCondition, compileField, exactlyOne } from './condition.js';
import { compiled, compileError, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep } from './types.js';

type Path = ReadonlyArray<string | number>;
const KINDS = ['drop', 'keep', 'sample'] as const;
const TWO_TO_32 = 4294967296;
// Float sums of rates like 0.1 land just below 1 (0.1 × 10 = 0.9999999999999999); without slack
// rate 0.1 would keep the 11th record instead of the 10th.
const SLACK = 1e-9;

export function compileFilterStep(step: FilterStep, at: Path, env: CompileEnv): Compiled<CompiledStep> {
  const given = KINDS.filter((kind) => step[kind] !== undefined);
  const kind = given[0];
  if (given.length !== 1 || kind === undefined) return compileError(at, exactlyOne(KINDS, given));
  if (kind === 'sample') return compileSample(step.sample as Static<typeof SampleFilter>, [...at, 'sample']);
  const result = compileCondition(step[kind] as NonNullable<FilterStep['drop']>, [...at, kind], env);
  if (!result.ok) return result;
  const holds = result.value;
  return compiled(kind === 'drop' ? (record) => (holds(record) ? 'drop' : undefined) : (record) => (holds(record) ? undefined : 'drop'));
}

function compileSample(spec: Static<typeof SampleFilter>, at: Path): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const rate = spec.rate;
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) errors.add([...at, 'rate'], 'must be a number above 0 and at most 1');
  const key = spec.key === undefined ? undefined : compileField(spec.key, [...at, 'key'], errors);
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  if (key) {
    const get = key.get;
    // Hashing the key value (not counting) keeps every record of one trace together, across processes too.
    return compiled((record) => (fnv1a(textOf(get(record))) / TWO_TO_32 < rate ? undefined : 'drop'));
  }
  // Counting keeps exactly the rate with no randomness, so tests and replays see the same records.
  let acc = 0;
  return compiled(() => {
    acc += rate;
    if (acc < 1 - SLACK) return 'drop';
    acc -= 1;
    return undefined;
  });
}


/** FNV-1a, 32-bit, over the UTF-8 bytes of `text` (as other tools hash the same trace id), without encoding to a buffer. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, 0x01000193);
      continue;
    }
    if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), 0x01000193);
      continue;
    }
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        i++;
        const point = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        hash = Math.imul(hash ^ (0xf0 | (point >> 18)), 0x01000193);
        hash = Math.imul(hash ^ (0x80 | ((point >> 12) & 0x3f)), 0x01000193);
        hash = Math.imul(hash ^ (0x80 | ((point >> 6) & 0x3f)), 0x01000193);
        hash = Math.imul(hash ^ (0x80 | (point & 0x3f)), 0x01000193);
        continue;
      }
    }
    // A lone surrogate encodes as U+FFFD, as TextEncoder does.
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd;
    hash = Math.imul(hash ^ (0xe0 | (code >> 12)), 0x01000193);
    hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), 0x01000193);
    hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), 0x01000193);
  }
  return hash >>> 0;
}

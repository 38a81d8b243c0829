import { isDeepStrictEqual } from 'node:util';
import type { LoggingPipeline } from '../spec/manifest.js';
import { fieldAccess } from './field-path.js';
import type { PipelineInput, PipelineOutcome, PipelineProgram } from './pipeline.js';

export interface TestMismatch {
  /** What differs: a field path, `index`, or `outcome`. */
  readonly what: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

export interface TestResult {
  /** The test's name, or `tests[i]`. */
  readonly name: string;
  /** Index in `spec.tests`, to locate it in the manifest. */
  readonly index: number;
  readonly passed: boolean;
  readonly mismatches: readonly TestMismatch[];
  readonly outcome: PipelineOutcome;
}

/** Runs a manifest's own tests (data: a record in, fields / drop / dead letter expected out). */
export function runPipelineTests(manifest: LoggingPipeline, program: PipelineProgram): TestResult[] {
  return (manifest.spec.tests ?? []).map((test, index) => {
    const outcome = program.run(toInput(test.input));
    const mismatches = compare(test.expect, outcome);
    return { name: test.name ?? `tests[${index}]`, index, passed: mismatches.length === 0, mismatches, outcome };
  });
}

function toInput(input: Readonly<Record<string, unknown>>): PipelineInput {
  const message = input['message'];
  return { ...input, message: typeof message === 'string' ? message : JSON.stringify(message ?? '') } as PipelineInput;
}

type Expectation = NonNullable<LoggingPipeline['spec']['tests']>[number]['expect'];

function compare(expect: Expectation, outcome: PipelineOutcome): TestMismatch[] {
  const describe = (o: PipelineOutcome): string =>
    o.kind === 'document' ? 'a document' : o.kind === 'drop' ? `dropped by ${o.step}` : `a dead letter (${o.class} at ${o.step}: ${o.message})`;
  if ('drop' in expect) return outcome.kind === 'drop' ? [] : [{ what: 'outcome', expected: 'dropped', actual: describe(outcome) }];
  if ('deadLetter' in expect) {
    if (outcome.kind !== 'deadLetter') return [{ what: 'outcome', expected: 'a dead letter', actual: describe(outcome) }];
    const mismatches: TestMismatch[] = [];
    if (expect.deadLetter.class !== undefined && expect.deadLetter.class !== outcome.class) {
      mismatches.push({ what: 'deadLetter.class', expected: expect.deadLetter.class, actual: outcome.class });
    }
    if (expect.deadLetter.step !== undefined && expect.deadLetter.step !== outcome.step) {
      mismatches.push({ what: 'deadLetter.step', expected: expect.deadLetter.step, actual: outcome.step });
    }
    return mismatches;
  }
  if (outcome.kind !== 'document') return [{ what: 'outcome', expected: 'a document', actual: describe(outcome) }];
  const mismatches: TestMismatch[] = [];
  for (const [path, expected] of Object.entries(expect.fields)) {
    const actual = fieldAccess(path).get(outcome.document);
    if (!isDeepStrictEqual(actual, expected)) mismatches.push({ what: path, expected, actual });
  }
  if (expect.index !== undefined && expect.index !== outcome.index) mismatches.push({ what: 'index', expected: expect.index, actual: outcome.index });
  return mismatches;
}

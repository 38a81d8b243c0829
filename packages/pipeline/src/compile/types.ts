/**
 * The contracts between the compiler's parts. A compiled step is a closure over its
 * checked spec: it reads and writes the record in place and never throws for anything a
 * record contains; a failure is a value.
 */

/** The document being built from one record; a fresh object per record. */
export type Fields = Record<string, unknown>;

/** Dead-letter classes a step can produce (DESIGN.md "Dead letters"). */
export type FailureClass = 'parse' | 'schema' | 'budget';

/** Why a step could not process a record; the run turns it into a dead letter. */
export interface Failure {
  readonly class: FailureClass;
  readonly message: string;
}

/** What a step did: continue (undefined), drop the record, or fail it. */
export type StepOutcome = undefined | 'drop' | Failure;

export type CompiledStep = (record: Fields) => StepOutcome;

/** A problem found while compiling: the path of the field in the manifest, and why. */
export interface CompileError {
  readonly segments: ReadonlyArray<string | number>;
  readonly reason: string;
}

export type Compiled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly CompileError[] };

export const compiled = <T>(value: T): Compiled<T> => ({ ok: true, value });
export const compileError = <T = never>(segments: ReadonlyArray<string | number>, reason: string): Compiled<T> => ({
  ok: false,
  errors: [{ segments, reason }],
});

/** Collects errors across many parts so a manifest reports all of them at once. */
export class ErrorCollector {
  readonly errors: CompileError[] = [];
  /** The value, or undefined after recording its errors. */
  take<T>(result: Compiled<T>): T | undefined {
    if (result.ok) return result.value;
    this.errors.push(...result.errors);
    return undefined;
  }
  add(segments: ReadonlyArray<string | number>, reason: string): void {
    this.errors.push({ segments, reason });
  }
}

/** A regular expression as compiled for tenants: RE2 only (linear time). */
export interface TenantRegex {
  /** Named groups of the first match, or undefined if none. */
  exec(input: string): { readonly index: number; readonly text: string; readonly groups: Readonly<Record<string, string | undefined>> } | undefined;
  test(input: string): boolean;
  /** Replace every match; `replacer` gets the matched text. */
  replaceAll(input: string, replacer: (match: string) => string): string;
  readonly groupNames: readonly string[];
}

/** What step compilers get besides their spec. */
export interface CompileEnv {
  /** Compiles a tenant regex on RE2; refuses backreferences, lookaround and bad syntax with a reason. */
  regex(pattern: string, at: ReadonlyArray<string | number>): Compiled<TenantRegex>;
}

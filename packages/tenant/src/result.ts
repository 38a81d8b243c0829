/** A problem with tenant input: where it is (a JSON-pointer-like path) and why. */
export interface FieldError {
  readonly path: string;
  readonly reason: string;
}

/** The outcome of checking tenant input: a value, or every error found with its path. */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(...errors: FieldError[]): Result<T> => ({ ok: false, errors });

import type { Logger } from '@tributary/logger';

/** What every command gets instead of reaching for globals. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  /** How this command was invoked (node binary and script), to start itself in the background. */
  readonly argv0: readonly string[];
}

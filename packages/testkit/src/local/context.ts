import type { Logger } from 'pino';

/** What every local engine needs to know about the machine it runs on. */
export interface LocalContext {
  readonly env: NodeJS.ProcessEnv;
  readonly cacheRoot: string;
  readonly javaHome: string;
  readonly logger: Logger;
  readonly startTimeoutMs: number;
}

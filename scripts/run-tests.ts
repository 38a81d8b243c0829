/**
 * `npm test`: starts the engines once for the whole run (existing ones if KAFKA_BROKERS,
 * ELASTICSEARCH_URL and SCHEMA_REGISTRY_URL are set), runs every test file with node's
 * test runner pointed at them through those same variables, then stops the engines.
 *
 *   npm test                 every test
 *   npm test -- kafka cli    only test files whose path contains "kafka" or "cli"
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import { startEngines } from '@tributary/testkit';

const root = join(import.meta.dirname, '..');
const filters = process.argv.slice(2);
const files = findTests(['packages', 'services', 'test'].map((dir) => join(root, dir)))
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const logger = pino({ name: 'run-tests', level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination(2));
const started = Date.now();
const engines = await startEngines({ logger });
logger.info({ ms: Date.now() - started, env: engines.env }, 'engines ready for tests');

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=300000', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, ...engines.env } },
);
const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await engines.stop();
logger.info({ ms: Date.now() - started }, 'engines stopped');
process.exit(code);

function findTests(dirs: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.test.ts')) found.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  return found;
}

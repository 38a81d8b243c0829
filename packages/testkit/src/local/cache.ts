import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { EngineError } from '../errors.js';
import type { EngineName } from '../types.js';
import { tailFile } from './process.js';

/** The Maven projects (and their sources) that fetch or build each engine. */
export const ASSETS_DIR = fileURLToPath(new URL('../../assets/', import.meta.url));

/**
 * Where engines are downloaded and built, outside the repo so a fresh clone reuses them.
 * As root the cache lives under /var/cache: Elasticsearch runs as an unprivileged user
 * who can't traverse root's home directory.
 */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env['TRIBUTARY_CACHE_DIR']) return join(env['TRIBUTARY_CACHE_DIR'], 'engines');
  if (process.getuid?.() === 0) return '/var/cache/tributary/engines';
  return join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tributary', 'engines');
}

export interface InstallOptions {
  readonly engine: EngineName;
  /** Directory name prefix, e.g. `kafka-4.4.0`. */
  readonly name: string;
  /** Folder under assets/ copied into the install dir before `install` runs. */
  readonly asset: string;
  readonly cacheRoot: string;
  readonly logger: Logger;
  /** Fills the install dir (a copy of the asset folder); runs only on a cache miss. */
  readonly install: (dir: string) => Promise<void>;
  /** Last step on a cache miss, e.g. handing the files to another user. */
  readonly finish?: (dir: string) => void;
}

/**
 * Returns the install dir of an engine, installing it first on a cache miss. The dir name
 * carries a hash of the asset folder, so changing a pom re-installs. Installs happen in a
 * private dir renamed into place, so two concurrent runs never see half an install.
 */
export async function ensureInstalled(options: InstallOptions): Promise<string> {
  const assetDir = join(ASSETS_DIR, options.asset);
  const target = join(options.cacheRoot, `${options.name}-${hashTree(assetDir)}`);
  if (existsSync(join(target, '.complete'))) return target;

  const started = Date.now();
  options.logger.info({ engine: options.engine, dir: target }, 'installing engine (first run downloads it)');
  mkdirSync(options.cacheRoot, { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(assetDir, partial, { recursive: true });
  try {
    await options.install(partial);
    writeFileSync(join(partial, '.complete'), new Date().toISOString());
    options.finish?.(partial);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(partial, target);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    if (existsSync(join(target, '.complete'))) return target; // another run finished first
    throw err;
  }
  options.logger.info({ engine: options.engine, ms: Date.now() - started }, 'engine installed');
  return target;
}

/** Runs Maven in `cwd`, its output in `<cwd>/maven.log`; fails with the log's tail. */
export function runMaven(engine: EngineName, cwd: string, args: readonly string[]): Promise<void> {
  const logFile = join(cwd, 'maven.log');
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', ['-B', '--no-transfer-progress', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', (cause) =>
      reject(new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', engine, 'could not run mvn: is Maven installed?', { cause })),
    );
    child.once('close', (code) => {
      writeFileSync(logFile, Buffer.concat(chunks));
      if (code === 0) return resolve();
      reject(
        new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', engine, `mvn ${args.join(' ')} exited with ${code}`, {
          logTail: tailFile(logFile, 40),
          retriable: true,
        }),
      );
    });
  });
}

/** A short content hash of every file under `dir`. */
function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 10);
}

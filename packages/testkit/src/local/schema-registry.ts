import { join } from 'node:path';
import { schemaRegistryReady } from '../health.js';
import type { RunningEngine } from '../types.js';
import { ENGINE_VERSIONS } from '../versions.js';
import { ensureInstalled, runMaven } from './cache.js';
import type { LocalContext } from './context.js';
import { engineRunDir } from './engine-dir.js';
import { javaBin } from './java.js';
import { freePort } from './ports.js';
import { launchEngine } from './launch.js';

/** The Confluent-compatible API of Apicurio Registry. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

/**
 * Builds Apicurio Registry (once) with Quarkus from Maven Central; no runnable jar is
 * published there. See assets/schema-registry/README.md for why it is built this way.
 */
export async function installSchemaRegistry(ctx: LocalContext): Promise<string> {
  const dir = await ensureInstalled({
    engine: 'schemaRegistry',
    name: `apicurio-registry-${ENGINE_VERSIONS.schemaRegistry}`,
    asset: 'schema-registry',
    cacheRoot: ctx.cacheRoot,
    logger: ctx.logger,
    install: (target) => runMaven('schemaRegistry', target, ['-DskipTests', 'package']),
  });
  return join(dir, 'app', 'target', 'quarkus-app', 'quarkus-run.jar');
}

/** Starts the registry with in-memory storage on a free loopback port. */
export async function startSchemaRegistry(ctx: LocalContext): Promise<RunningEngine> {
  const jar = await installSchemaRegistry(ctx);
  const port = await freePort();
  const { dir, remove } = engineRunDir('schema-registry');
  const url = `http://127.0.0.1:${port}${CCOMPAT_PATH}`;
  return launchEngine({
    engine: 'schemaRegistry',
    command: javaBin(ctx.javaHome),
    args: [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      // C1 only: it starts faster and the registry does little work in tests.
      '-XX:TieredStopAtLevel=1',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      '-jar',
      jar,
    ],
    cwd: dir,
    env: { ...ctx.env, JAVA_HOME: ctx.javaHome },
    logFile: join(dir, 'schema-registry.log'),
    version: ENGINE_VERSIONS.schemaRegistry,
    address: url,
    ready: () => schemaRegistryReady(url),
    startTimeoutMs: ctx.startTimeoutMs,
    removeRunDir: remove,
  });
}

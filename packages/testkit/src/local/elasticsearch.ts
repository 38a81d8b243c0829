import { execFileSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EngineError } from '../errors.js';
import { elasticsearchReady } from '../health.js';
import type { RunningEngine } from '../types.js';
import { ENGINE_VERSIONS } from '../versions.js';
import { ensureInstalled, runMaven } from './cache.js';
import type { LocalContext } from './context.js';
import { engineRunDir } from './engine-dir.js';
import { freePort } from './ports.js';
import { launchEngine } from './launch.js';

/** Elasticsearch refuses to run as root; as root we run it as this system user. */
export const ELASTICSEARCH_USER = 'tributary-es';

/** Unpacks Elasticsearch's integ-test distribution (once) and returns its home. */
export async function installElasticsearch(ctx: LocalContext): Promise<string> {
  const owner = runAs();
  if (owner) assertTraversable(ctx.cacheRoot);
  const dir = await ensureInstalled({
    engine: 'elasticsearch',
    name: `elasticsearch-${ENGINE_VERSIONS.elasticsearch}`,
    asset: 'elasticsearch',
    cacheRoot: ctx.cacheRoot,
    logger: ctx.logger,
    install: (target) =>
      runMaven('elasticsearch', target, [
        'dependency:unpack',
        `-Delasticsearch.version=${ENGINE_VERSIONS.elasticsearch}`,
        `-DoutputDirectory=${target}`,
      ]),
    // The server writes next to its files (keystore, plugins); the user must own them.
    finish: (target) => owner && chownTree(target, owner),
  });
  return join(dir, `elasticsearch-${ENGINE_VERSIONS.elasticsearch}`);
}

/** Starts a single-node cluster, security off, on free loopback ports. */
export async function startElasticsearch(ctx: LocalContext): Promise<RunningEngine> {
  const home = await installElasticsearch(ctx);
  const owner = runAs();
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  const { dir, remove } = engineRunDir('elasticsearch');
  const config = join(dir, 'config');
  // A private config dir per run: the server writes its keystore there.
  cpSync(join(home, 'config'), config, { recursive: true });
  for (const sub of ['data', 'logs', 'tmp']) mkdirSync(join(dir, sub));
  writeFileSync(
    join(config, 'elasticsearch.yml'),
    [
      'cluster.name: tributary-test',
      'node.name: node-1',
      'discovery.type: single-node',
      'network.host: 127.0.0.1',
      `http.port: ${httpPort}`,
      `transport.port: ${transportPort}`,
      `path.data: ${join(dir, 'data')}`,
      `path.logs: ${join(dir, 'logs')}`,
      'xpack.security.enabled: false',
      // Test machines have full disks more often than real clusters; don't go read-only.
      'cluster.routing.allocation.disk.threshold_enabled: false',
      '',
    ].join('\n'),
  );
  writeFileSync(join(config, 'jvm.options.d', 'tributary.options'), '-Xms512m\n-Xmx512m\n');
  if (owner) chownTree(dir, owner);

  const url = `http://127.0.0.1:${httpPort}`;
  return launchEngine({
    engine: 'elasticsearch',
    command: join(home, 'bin', 'elasticsearch'),
    args: [],
    cwd: dir,
    env: {
      ...ctx.env,
      ES_JAVA_HOME: ctx.javaHome,
      ES_PATH_CONF: config,
      ES_TMPDIR: join(dir, 'tmp'),
      HOME: dir,
      // A parent's JVM options (e.g. a developer's) would leak into the server.
      JAVA_TOOL_OPTIONS: '',
      ES_JAVA_OPTS: '',
      // The launcher JVM writes its own temp files; keep them in the run dir, not /tmp.
      CLI_JAVA_OPTS: `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
    },
    logFile: join(dir, 'elasticsearch.out'),
    ...(owner ?? {}),
    version: ENGINE_VERSIONS.elasticsearch,
    address: url,
    ready: () => elasticsearchReady(url),
    startTimeoutMs: ctx.startTimeoutMs,
    removeRunDir: remove,
  });
}

/** The uid/gid to run Elasticsearch as: ourselves unless we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number =>
    Number(execFileSync('id', [flag, ELASTICSEARCH_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ELASTICSEARCH_USER], { stdio: 'pipe' });
      return { uid: id('-u'), gid: id('-g') };
    } catch (cause) {
      throw new EngineError(
        'TRIBUTARY_ENGINES_CONFIG',
        'elasticsearch',
        `Elasticsearch refuses to run as root and the user ${ELASTICSEARCH_USER} could not be created`,
        { cause },
      );
    }
  }
}

/**
 * Elasticsearch's user must be able to walk down to its files. Checked up front because
 * the server's own error (EACCES on its launcher) doesn't say which directory is closed.
 */
function assertTraversable(dir: string): void {
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) {
      throw new EngineError(
        'TRIBUTARY_ENGINES_CONFIG',
        'elasticsearch',
        `Elasticsearch runs as ${ELASTICSEARCH_USER}, who can't enter ${current} on the way to the engine cache ${dir}; ` +
          'set TRIBUTARY_CACHE_DIR to a directory others can traverse (e.g. /var/cache/tributary)',
      );
    }
    if (current === dirname(current)) return;
  }
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, owner);
    else if (!entry.isSymbolicLink()) chownSync(child, owner.uid, owner.gid);
  }
}

/**
 * Engine start-up figures: for each local engine, install time (download/build, cold when
 * --cold), start-to-ready time, RSS right after start, and stop time.
 *
 *   npx tsx bench/engines.ts            warm: the cache as it is
 *   npx tsx bench/engines.ts --cold     cold: empty engine cache and Maven repository
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareEngines, startEngines, ENGINE_NAMES, type EngineName } from '@tributary/testkit';

const cold = process.argv.includes('--cold');
const env = { ...process.env };
let scratch: string | undefined;
if (cold) {
  scratch = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  chmodSync(scratch, 0o755); // Elasticsearch's own user must reach its files
  env['TRIBUTARY_CACHE_DIR'] = scratch;
  // Maven reads MAVEN_OPTS from our own environment when the test kit runs it.
  process.env['MAVEN_OPTS'] = `${process.env['MAVEN_OPTS'] ?? ''} -Dmaven.repo.local=${join(scratch, 'm2')}`;
  // And Go's caches, for the Kubernetes API server (writable, so the scratch dir can be removed).
  env['GOCACHE'] = join(scratch, 'go-build');
  env['GOMODCACHE'] = join(scratch, 'go-mod');
  env['GOFLAGS'] = '-modcacherw';
}

const rows: string[] = [];
for (const name of ENGINE_NAMES) {
  const t0 = Date.now();
  await prepareEngines({ env, only: [name] });
  const install = Date.now() - t0;
  const t1 = Date.now();
  const engines = await startEngines({ ...only(name), mode: 'local', useExisting: false, env });
  const start = Date.now() - t1;
  const pgid = engines.engines[0]?.pid ?? 0;
  const rss = groupRssMiB(pgid);
  const t2 = Date.now();
  await engines.stop();
  const stop = Date.now() - t2;
  rows.push(`| ${name} | ${engines.engines[0]?.version} | ${(install / 1000).toFixed(1)} s | ${(start / 1000).toFixed(1)} s | ${rss} MiB | ${(stop / 1000).toFixed(1)} s |`);
}
if (scratch) rmSync(scratch, { recursive: true, force: true });

console.log(`\nengines, ${cold ? 'cold (empty caches)' : 'warm'} — npx tsx bench/engines.ts${cold ? ' --cold' : ''}\n`);
console.log('| engine | version | install | start to ready | RSS after start | stop |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);

function only(name: EngineName): Record<EngineName, boolean> {
  return { kafka: name === 'kafka', elasticsearch: name === 'elasticsearch', schemaRegistry: name === 'schemaRegistry', kubernetes: name === 'kubernetes' };
}

/** Resident memory of every process in a process group, from /proc. */
function groupRssMiB(pgid: number): number {
  let kib = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      kib += Number(rss ?? 0);
    } catch {
      // the process ended while we looked
    }
  }
  return Math.round(kib / 1024);
}

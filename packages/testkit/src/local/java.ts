import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError } from '../errors.js';

/**
 * The JDK to run engines with. Elasticsearch 8 needs Java 17 (its security manager is gone
 * in later JDKs), so prefer the system Java 17 over whatever `java` is first on PATH.
 */
export function javaHome(env: NodeJS.ProcessEnv): string {
  const candidates = [env['TRIBUTARY_JAVA_HOME'], '/usr/lib/jvm/java-17-openjdk-amd64', '/usr/lib/jvm/java-17-openjdk-arm64', env['JAVA_HOME']];
  for (const home of candidates) {
    if (home && existsSync(join(home, 'bin', 'java'))) return home;
  }
  try {
    const java = execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim();
    return dirname(dirname(realpathSync(java)));
  } catch (cause) {
    throw new EngineError('TRIBUTARY_ENGINES_CONFIG', 'engines', 'no Java found: install Java 17 or set TRIBUTARY_JAVA_HOME', { cause });
  }
}

export function javaBin(home: string): string {
  return join(home, 'bin', 'java');
}

import type { Static } from '@sinclair/typebox';
import type { LevelParse } from '../../spec/steps.js';
import type { LogLevel } from '../../spec/fields.js';
import { fieldAccess } from '../field-path.js';
import { compiled, ErrorCollector, type CompileEnv, type Compiled, type CompiledStep } from '../types.js';
import { checkedField, kindOf, parseFailure, type At } from './common.js';

export type LevelParseSpec = Static<typeof LevelParse>;

export const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'fatal'];

/**
 * Spellings seen in the wild (klog's I/W/E/F, zerolog's TRC/DBG/INF/WRN/ERR/FTL/PNC,
 * syslog severities, pino's numbers). Deliberately no guesses that could mean two things
 * (`c`, `n`, `v`, `severe`): an unknown spelling passes through lowercased, which is
 * better than a confident wrong level.
 */
const BUILT_IN: ReadonlyArray<readonly [LogLevel, readonly string[]]> = Object.entries({
  trace: ['trace', 't', 'trc', '10'],
  debug: ['debug', 'd', 'dbg', '20'],
  info: ['info', 'i', 'inf', 'information', 'informational', '30'],
  notice: ['notice'],
  warn: ['warn', 'warning', 'w', 'wrn', '40'],
  error: ['error', 'err', 'e', '50'],
  critical: ['critical', 'crit'],
  fatal: ['fatal', 'ftl', 'f', 'panic', 'pnc', 'emerg', 'emergency', 'alert', '60'],
});

/**
 * `level`: normalises a level to ECS `log.level` and removes the source field. A missing
 * level is not a failure (many lines have none), nor is an unknown one: a strange level
 * must not dead-letter a line. `at` is the step's path.
 */
export function compileLevel(spec: LevelParseSpec, at: At, _env: CompileEnv): Compiled<CompiledStep> {
  const errors = new ErrorCollector();
  const source = checkedField(spec.field, [...at, 'level', 'field'], errors);

  const spellings = new Map<string, LogLevel>();
  for (const [level, builtIn] of BUILT_IN) for (const spelling of builtIn) spellings.set(spelling, level);
  // Tenant aliases override built-ins (a tenant's `e` may mean something else), but two
  // levels can't claim one spelling, and a canonical name always means itself.
  const claimedBy = new Map<string, LogLevel>();
  for (const [level, aliases] of Object.entries(spec.aliases ?? {}) as [LogLevel, string[] | undefined][]) {
    (aliases ?? []).forEach((alias, index) => {
      const spelling = alias.trim().toLowerCase();
      const aliasAt = [...at, 'level', 'aliases', level, index];
      const other = claimedBy.get(spelling);
      if (spelling.length === 0) errors.add(aliasAt, 'an alias cannot be empty');
      else if (LEVELS.includes(spelling) && spelling !== level) errors.add(aliasAt, `"${alias}" is the name of level ${spelling}`);
      else if (other !== undefined && other !== level) errors.add(aliasAt, `"${alias}" is already an alias of level ${other}`);
      else {
        claimedBy.set(spelling, level);
        spellings.set(spelling, level);
      }
    });
  }
  if (!source || errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const logLevel = fieldAccess('log.level');
  const removeSource = spec.field !== 'log.level';
  const name = `field "${spec.field}"`;

  return compiled((record) => {
    const raw = source.get(record);
    let spelling: string;
    if (typeof raw === 'string') spelling = raw;
    else if (typeof raw === 'number') spelling = String(raw);
    // null is how JSON says "no level"; treat it like a missing field.
    else if (raw === undefined || raw === null) return undefined;
    else return parseFailure(`${name} is ${kindOf(raw)}, not a level name or number`);
    let key = spelling.toLowerCase();
    let level: string | undefined = spellings.get(key);
    if (level === undefined) {
      key = key.trim();
      if (key.length === 0) return undefined;
      level = spellings.get(key) ?? key;
    }
    if (removeSource) source.remove(record);
    logLevel.set(record, level);
    return undefined;
  });
}

import type { Static } from '@sinclair/typebox';
import type { Select } from '../spec/manifest.js';
import type { CompileError } from './types.js';

/** What a pipeline's `select` looks at: the stream a record came from. */
export interface StreamIdentity {
  readonly container?: string | undefined;
  readonly pod?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly source?: 'file' | 'sdk' | undefined;
  readonly app?: string | undefined;
}

export type StreamMatcher = (stream: StreamIdentity) => boolean;

/** Compiles `select`: every given criterion must hold; within a list, any entry. No select matches all. */
export function compileSelect(select: Static<typeof Select> | undefined): StreamMatcher {
  if (!select) return () => true;
  const checks: StreamMatcher[] = [];
  const anyName = (patterns: readonly string[] | undefined, pick: (s: StreamIdentity) => string | undefined): void => {
    if (!patterns) return;
    const globs = patterns.map(compileGlob);
    checks.push((s) => {
      const value = pick(s);
      return value !== undefined && globs.some((glob) => glob(value));
    });
  };
  anyName(select.containers, (s) => s.container);
  anyName(select.pods, (s) => s.pod);
  anyName(select.apps, (s) => s.app);
  if (select.sources) {
    const sources = new Set<string>(select.sources);
    checks.push((s) => s.source !== undefined && sources.has(s.source));
  }
  if (select.labels) {
    const wanted = Object.entries(select.labels);
    checks.push((s) => wanted.every(([key, value]) => s.labels?.[key] === value));
  }
  return (stream) => checks.every((check) => check(stream));
}

/** `*` matches any run of characters; everything else is literal. No regex, so linear. */
export function compileGlob(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return (value) => value === pattern;
  const parts = pattern.split('*');
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  const middle = parts.slice(1, -1);
  return (value) => {
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
    let position = first.length;
    const end = value.length - last.length;
    for (const part of middle) {
      const found = value.indexOf(part, position);
      if (found < 0 || found + part.length > end) return false;
      position = found + part.length;
    }
    return true;
  };
}

/**
 * A select that can never match makes every step of the pipeline unreachable: containers,
 * pods and labels exist only on streams read from files, apps only on SDK streams.
 */
export function unreachableSelect(select: Static<typeof Select> | undefined): CompileError[] {
  if (!select) return [];
  const errors: CompileError[] = [];
  const fileOnly = (['containers', 'pods', 'labels'] as const).filter((key) => select[key] !== undefined);
  const sources = select.sources ? new Set(select.sources) : undefined;
  if (sources && !sources.has('file') && fileOnly.length > 0) {
    errors.push({ segments: ['spec', 'select', fileOnly[0] as string], reason: `only streams read from files have ${fileOnly.join(' and ')}, but sources is [${[...sources].join(', ')}]: this pipeline could never run` });
  }
  if (sources && !sources.has('sdk') && select.apps) {
    errors.push({ segments: ['spec', 'select', 'apps'], reason: `only SDK streams have apps, but sources is [${[...sources].join(', ')}]: this pipeline could never run` });
  }
  if (!sources && select.apps && fileOnly.length > 0) {
    errors.push({ segments: ['spec', 'select', 'apps'], reason: `apps (SDK streams) and ${fileOnly.join(' and ')} (file streams) can never both match: this pipeline could never run` });
  }
  return errors;
}

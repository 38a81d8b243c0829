import type { IHeaders, Message } from 'kafkajs';

/** Dead-letter classes (DESIGN.md "Dead letters"). */
/** Every class a dead letter can have: the one list the API, its filters and the console use. */
export const DEAD_LETTER_CLASSES = ['decode', 'parse', 'schema', 'mapping', 'rejected', 'budget'] as const;
export type DeadLetterClass = (typeof DEAD_LETTER_CLASSES)[number];

/** The header names of a dead letter; the notifier and replay read them back. */
export const DEAD_LETTER_HEADERS = {
  class: 'tributary.error.class',
  message: 'tributary.error.message',
  pipeline: 'tributary.pipeline.name',
  version: 'tributary.pipeline.version',
  rule: 'tributary.rule.index',
  topic: 'tributary.source.topic',
  partition: 'tributary.source.partition',
  offset: 'tributary.source.offset',
  firstFailure: 'tributary.failed.at',
} as const;

/** Why a record failed and where it came from. */
export interface DeadLetterCause {
  readonly class: DeadLetterClass;
  readonly message: string;
  readonly pipeline?: string | undefined;
  readonly version?: number | undefined;
  readonly rule?: number | undefined;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** When it first failed (RFC 3339); a replayed record keeps its first time. */
  readonly firstFailure: string;
}

/** Header values are bounded so a huge error message can't make the dead letter too large. */
const MAX_MESSAGE_CHARS = 4096;

/**
 * The dead letter of a record: its key and value byte for byte, its own headers kept
 * (ours replace any earlier `tributary.*` ones, so a replay that fails again says why now).
 */
export function deadLetterMessage(original: { key: Buffer | null; value: Buffer | null; headers?: IHeaders | undefined }, cause: DeadLetterCause): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(original.headers ?? {})) {
    if (!name.startsWith('tributary.error.') && value !== undefined) headers[name] = value;
  }
  headers[DEAD_LETTER_HEADERS.class] = cause.class;
  headers[DEAD_LETTER_HEADERS.message] = cause.message.length > MAX_MESSAGE_CHARS ? `${cause.message.slice(0, MAX_MESSAGE_CHARS)}…` : cause.message;
  if (cause.pipeline !== undefined) headers[DEAD_LETTER_HEADERS.pipeline] = cause.pipeline;
  if (cause.version !== undefined) headers[DEAD_LETTER_HEADERS.version] = String(cause.version);
  if (cause.rule !== undefined) headers[DEAD_LETTER_HEADERS.rule] = String(cause.rule);
  headers[DEAD_LETTER_HEADERS.topic] = cause.topic;
  headers[DEAD_LETTER_HEADERS.partition] = String(cause.partition);
  headers[DEAD_LETTER_HEADERS.offset] = cause.offset;
  headers[DEAD_LETTER_HEADERS.firstFailure] = headerText(original.headers, DEAD_LETTER_HEADERS.firstFailure) ?? cause.firstFailure;
  return { key: original.key, value: original.value, headers };
}

/** Reads the cause back from a dead letter's headers; undefined if it isn't one. */
export function readDeadLetter(headers: IHeaders | undefined): DeadLetterCause | undefined {
  const get = (name: string): string | undefined => headerText(headers, name);
  const errorClass = get(DEAD_LETTER_HEADERS.class);
  const topic = get(DEAD_LETTER_HEADERS.topic);
  if (!errorClass || !topic) return undefined;
  const number = (name: string): number | undefined => {
    const value = get(name);
    return value === undefined ? undefined : Number(value);
  };
  return {
    class: errorClass as DeadLetterClass,
    message: get(DEAD_LETTER_HEADERS.message) ?? '',
    pipeline: get(DEAD_LETTER_HEADERS.pipeline),
    version: number(DEAD_LETTER_HEADERS.version),
    rule: number(DEAD_LETTER_HEADERS.rule),
    topic,
    partition: number(DEAD_LETTER_HEADERS.partition) ?? -1,
    offset: get(DEAD_LETTER_HEADERS.offset) ?? '',
    firstFailure: get(DEAD_LETTER_HEADERS.firstFailure) ?? '',
  };
}

/** A header's (first) value as text; undefined when the record has no such header. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : String(first);
}

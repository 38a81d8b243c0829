/**
 * Sorting schema-registry client errors into "the record is at fault" (dead-letter it) and
 * "the registry is" (retry the record later). `@kafkajs/confluent-schema-registry` rejects
 * with mappersmith's ResponseError: `status` is the HTTP status, and a request that never got
 * an answer (refused, DNS, reset, timeout) is reported as status 400 with the socket error's
 * text in the message, e.g. `… - Error, status 400: connect ECONNREFUSED 127.0.0.1:8081`.
 */

export interface RegistryFault {
  readonly reason: string;
  readonly retriable: boolean;
}

// Socket error codes (ECONNREFUSED, EAI_AGAIN, …), not Node's ERR_* argument errors.
const SOCKET_CODE = /^E(?!RR_)[A-Z][A-Z_]+$/;
const NETWORK_TEXT = /\bE(?!RR_)[A-Z][A-Z_]{2,}\b|socket hang up|Timeout \(\d+ ?ms\)/;

/** Why fetching schema `schemaId` failed, and whether trying again later can help. */
export function registryFault(error: unknown, schemaId: number): RegistryFault {
  const status = numberProperty(error, 'status');
  const code = stringProperty(error, 'code');
  const message = errorText(error);
  const noAnswer = (status === undefined || status === 400) && ((code !== undefined && SOCKET_CODE.test(code)) || (status === 400 && /Error, status 400: /.test(message) && NETWORK_TEXT.test(message)));
  if (noAnswer) return { retriable: true, reason: `schema registry unreachable while fetching schema id ${schemaId}: ${message}` };
  if (status === 404) return { retriable: false, reason: `schema id ${schemaId} is not in the schema registry (${message})` };
  // Busy, failing or refusing our credentials: the record is not at fault, so it should
  // wait for the registry (or its configuration) rather than go to the dead-letter topic.
  if (status === 401 || status === 403 || status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    return { retriable: true, reason: `schema registry answered ${status} for schema id ${schemaId}: ${message}` };
  }
  return { retriable: false, reason: `schema id ${schemaId} could not be loaded from the schema registry: ${message}` };
}

/** Whether an error came from talking to the registry rather than from decoding a payload. */
export function isRegistryError(error: unknown): boolean {
  return numberProperty(error, 'status') !== undefined || SOCKET_CODE.test(stringProperty(error, 'code') ?? '');
}

/** An error's message, cut to a length a Kafka header and a log line can carry. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function numberProperty(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const property = (value as Record<string, unknown>)[key];
  return typeof property === 'number' ? property : undefined;
}

function stringProperty(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const property = (value as Record<string, unknown>)[key];
  return typeof property === 'string' ? property : undefined;
}

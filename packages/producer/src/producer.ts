import { hostname } from 'node:os';
import type { Message, Producer as KafkaProducer } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { retryDelay } from '@tributary/retry';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ENVELOPE_AVRO_SCHEMA, encodeEnvelope, formatFieldErrors, newSdkEnvelopeId, parseEnvelope, type Envelope, type Stream } from '@tributary/envelope';
import { CompressionTypes, createKafka, LOG_RECORD_MAX_BYTES, Partitioners, PRODUCE_REQUEST_MAX_BYTES } from '@tributary/kafka';
import { tenantNames } from '@tributary/tenant';

/** One log record of an app. */
export interface LogRecord {
  readonly message: string;
  readonly stream?: Stream;
  /** When it happened; default now. */
  readonly time?: Date | string;
  /**
   * The app's own stable id for this event (an event or request id), used as the envelope
   * id: a record sent again after an app restart is then stored once. Default: a new UUID v7,
   * stable across the SDK's retries only.
   */
  readonly id?: string;
}

export interface ProducerOptions {
  readonly brokers: readonly string[];
  /** The tenant (team namespace) whose `logs.<tenant>` this app writes. */
  readonly tenant: string;
  /** The app's name, in every envelope. */
  readonly app: string;
  /** The host or instance; default the machine's hostname. */
  readonly host?: string;
  /** Records held before they are acknowledged; default 10 000. */
  readonly maxBufferedRecords?: number;
  /**
   * What `send()` does when the buffer is full (Kafka slow or away): `block` waits for room
   * up to `blockTimeoutMs` and then rejects; `error` rejects at once. Never a silent drop.
   */
  readonly overflow?: 'block' | 'error';
  readonly blockTimeoutMs?: number;
  /** A batch goes out after this long, or once `batchSize` records wait; default 50 ms / 500. */
  readonly lingerMs?: number;
  readonly batchSize?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /**
   * Frame records for a schema registry (Confluent wire format: 0x00, schema id, Avro body)
   * instead of JSON. The envelope's Avro schema (`ENVELOPE_AVRO_SCHEMA`) is registered under
   * `subject` (default `logs.<tenant>-value`, the topic-name strategy) at the first send.
   */
  readonly schemaRegistry?: { readonly url: string; readonly subject?: string };
  readonly logger?: Logger;
}

/** `send()` got a record that can't be an envelope (its id, here): not taken, with the field and the reason. */
export class ProducerRecordError extends TypeError {
  readonly code = 'TRIBUTARY_INVALID_RECORD';
  constructor(reason: string) {
    super(`send(record): ${reason}`);
    this.name = 'ProducerRecordError';
  }
}

/** `send()` got a record too large for one Kafka record once encoded: not taken. */
export class ProducerRecordTooLargeError extends RangeError {
  readonly code = 'TRIBUTARY_RECORD_TOO_LARGE';
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`the record is ${bytes} bytes encoded, over the ${limitBytes} a logs topic takes: split the message or shorten it`);
    this.name = 'ProducerRecordTooLargeError';
  }
}

/** `send()` found the buffer full: the record was not taken, and the caller knows. */
export class ProducerOverflowError extends Error {
  readonly code = 'TRIBUTARY_PRODUCER_OVERFLOW';
  constructor(buffered: number, waitedMs: number) {
    super(`the producer's buffer holds ${buffered} records not yet acknowledged${waitedMs > 0 ? ` and had no room after ${waitedMs} ms` : ''}: the record was not taken`);
    this.name = 'ProducerOverflowError';
  }
}

/**
 * Writes an app's log records to `logs.<tenant>` as envelopes (source `sdk`), the same
 * records the node forwarder writes for containers: batched, LZ4, idempotent, acks=all,
 * retried with backoff until Kafka takes them. Each record's id is fixed when it is sent,
 * so a retry is stored once.
 */
export class LogProducer {
  private readonly kafkaProducer: KafkaProducer;
  private readonly topic: string;
  private readonly key: string;
  private readonly host: string;
  private readonly logger: Logger;
  private buffer: Message[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  /** Closed and given up: no more attempts (a producer left retrying would keep the app alive). */
  private stopped = false;
  private connected: Promise<void> | undefined;
  private readonly roomWaiters: Array<() => void> = [];
  private readonly drainedWaiters: Array<() => void> = [];
  private readonly registry: SchemaRegistry | undefined;
  private schemaId: Promise<number> | undefined;

  constructor(private readonly options: ProducerOptions) {
    this.topic = tenantNames(options.tenant).logsTopic;
    this.host = options.host ?? hostname();
    this.key = `${options.app}/${this.host}`;
    this.logger = (options.logger ?? pino({ level: 'warn' })).child({ component: 'tributary-producer', tenant: options.tenant, app: options.app });
    if (options.schemaRegistry) this.registry = new SchemaRegistry({ host: options.schemaRegistry.url });
    this.kafkaProducer = createKafka({ brokers: options.brokers, clientId: `tributary-producer-${options.app}` }, this.logger).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  /** Records taken and not yet acknowledged. */
  get buffered(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Takes a record; resolves once it is buffered (not yet acknowledged: `flush()` waits for that). */
  async send(record: LogRecord): Promise<void> {
    if (this.closed) throw new Error('the producer is closed');
    if (typeof record?.message !== 'string') throw new TypeError('send(record): record.message must be a string');
    this.connected ??= this.connect();
    const max = this.options.maxBufferedRecords ?? 10_000;
    if (this.buffered >= max) {
      if ((this.options.overflow ?? 'block') === 'error') throw new ProducerOverflowError(this.buffered, 0);
      const waitMs = this.options.blockTimeoutMs ?? 10_000;
      const started = Date.now();
      while (this.buffered >= max) {
        const remaining = waitMs - (Date.now() - started);
        if (remaining <= 0 || !(await this.waitForRoom(remaining))) throw new ProducerOverflowError(this.buffered, Date.now() - started);
      }
    }
    const time = record.time === undefined ? new Date().toISOString() : typeof record.time === 'string' ? record.time : record.time.toISOString();
    const envelope: Envelope = { id: record.id ?? newSdkEnvelopeId(), time, stream: record.stream ?? 'stdout', message: record.message, source: { kind: 'sdk', app: this.options.app, host: this.host } };
    if (record.id !== undefined) {
      // An id from the app: checked by the envelope's own rules, so the processor never dead-letters it for that.
      const parsed = parseEnvelope(envelope);
      if (!parsed.ok) throw new ProducerRecordError(formatFieldErrors(parsed.errors, parsed.more));
    }
    const value = this.registry ? await this.framed(envelope) : encodeEnvelope(envelope);
    // Kafka would refuse it again and again, holding back every record behind it: refused here, where the caller hears.
    if (value.length > LOG_RECORD_MAX_BYTES) throw new ProducerRecordTooLargeError(value.length, LOG_RECORD_MAX_BYTES);
    this.buffer.push({ key: this.key, value });
    if (this.buffer.length >= (this.options.batchSize ?? 500)) this.kick(0);
    else this.kick(this.options.lingerMs ?? 50);
  }

  /** Resolves once every record taken so far is acknowledged by Kafka. */
  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    this.kick(0);
    await new Promise<void>((resolve) => this.drainedWaiters.push(resolve));
  }

  /**
   * Flushes (waiting at most `timeoutMs`), then disconnects; `send()` after this rejects.
   * Rejects, after disconnecting, when records were still not acknowledged: never silent.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closed = true;
    let timeout: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([this.flush().then(() => true), new Promise<false>((resolve) => (timeout = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timeout);
    const left = this.buffered;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.connected) await this.kafkaProducer.disconnect().catch(() => undefined);
    if (!flushed) throw new Error(`closed with ${left} records not acknowledged by Kafka after ${timeoutMs} ms`);
  }

  private kick(delayMs: number): void {
    if (this.sending || this.stopped) return;
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendBatch().finally(() => {
        this.sending = undefined;
        if (this.buffer.length > 0 && !this.stopped) this.kick(this.failures > 0 ? retryDelay(this.failures, this.options.backoff ?? { initialMs: 100, maxMs: 10_000 }) : 0);
      });
    }, delayMs);
  }

  private async sendBatch(): Promise<void> {
    // At most batchSize records, and few enough bytes that the batch stays under the topic's
    // limit even when they don't compress (at least one record: each fits on its own).
    let count = 0;
    let bytes = 0;
    const most = Math.min(this.buffer.length, this.options.batchSize ?? 500);
    while (count < most) {
      const size = (this.buffer[count] as { value: Buffer }).value.length;
      if (count > 0 && bytes + size > PRODUCE_REQUEST_MAX_BYTES) break;
      bytes += size;
      count++;
    }
    const batch = this.buffer.splice(0, count);
    if (batch.length === 0) return;
    this.inFlight += batch.length;
    try {
      await this.connected;
      await this.kafkaProducer.send({ topic: this.topic, acks: -1, compression: CompressionTypes.LZ4, messages: batch });
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.logger.warn({ err, records: batch.length, consecutiveFailures: this.failures }, `could not produce to ${this.topic}: retrying`);
      // Back in front, the same bytes (and ids): the retry is stored once.
      this.buffer = [...batch, ...this.buffer];
      if (this.connected) this.connected = handled(this.connected.catch(() => this.connect()));
    } finally {
      this.inFlight -= batch.length;
    }
    for (const wake of this.roomWaiters.splice(0)) wake();
    if (this.buffered === 0) for (const wake of this.drainedWaiters.splice(0)) wake();
  }

  /** The envelope in the registry's wire format; registers the schema once (a failure rejects this `send()`, and the next one tries again). */
  private async framed(envelope: Envelope): Promise<Buffer> {
    const registry = this.registry as SchemaRegistry;
    this.schemaId ??= registry
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(ENVELOPE_AVRO_SCHEMA) }, { subject: this.options.schemaRegistry?.subject ?? `${this.topic}-value` })
      .then(({ id }) => id);
    let id: number;
    try {
      id = await this.schemaId;
    } catch (err) {
      this.schemaId = undefined;
      throw new Error(`cannot register the envelope schema with the schema registry at ${this.options.schemaRegistry?.url}: ${(err as Error).message}; the record was not taken`, { cause: err });
    }
    return registry.encode(id, envelope);
  }

  /** Connects; a failure surfaces where the batch awaits it, never as an unhandled rejection. */
  private connect(): Promise<void> {
    return handled(this.kafkaProducer.connect());
  }

  private waitForRoom(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timeout = setTimeout(() => resolve(false), timeoutMs);
      this.roomWaiters.push(() => {
        clearTimeout(timeout);
        resolve(true);
      });
    });
  }
}

/** `promise`, marked as handled: it is awaited later, when a batch goes out. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

export function createProducer(options: ProducerOptions): LogProducer {
  return new LogProducer(options);
}

import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { IHeaders, Message } from 'kafkajs';
import { decodeEnvelope, type Envelope } from '@tributary/envelope';
import { deadLetterMessage, type DeadLetterClass } from '@tributary/kafka';
import { compilePipeline, serializeDocument, type PipelineProgram, type PipelineRegistry, type StreamIdentity } from '@tributary/pipeline';
import { parseTenant } from '@tributary/tenant';

/** A record as fetched from `logs.<tenant>`. */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders | undefined;
}

/** What to do with one record. */
export type Handled =
  | { readonly kind: 'index'; readonly tenant: string; readonly index: string; readonly id: string; readonly body: string; readonly op: 'create' | 'index'; readonly pipeline: string; readonly version: number }
  | { readonly kind: 'drop'; readonly tenant: string; readonly pipeline: string }
  /** `pipeline`: the one in force for the record, null when none saw it (undecodable). */
  | { readonly kind: 'deadLetter'; readonly tenant: string; readonly topic: string; readonly message: Message; readonly class: DeadLetterClass; readonly pipeline: string | null }
  /** Nothing is wrong with the record; something it needs (the schema registry) is unreachable. */
  | { readonly kind: 'retry'; readonly reason: string }
  /** Not a tenant topic at all: nothing to write, nowhere to dead-letter it. */
  | { readonly kind: 'skip'; readonly reason: string };

export interface RecordHandlerOptions {
  readonly registry: PipelineRegistry;
  readonly schemaRegistry?: SchemaRegistry | undefined;
  readonly now?: () => Date;
}

/**
 * Turns one Kafka record into an Elasticsearch write, a drop or a dead letter: decode the
 * envelope, pick the tenant's pipeline for its stream (or the default), run it, serialize
 * within the output budget. Never throws for anything a record contains.
 */
export class RecordHandler {
  private readonly defaults = new Map<string, PipelineProgram>();
  private readonly now: () => Date;

  constructor(private readonly options: RecordHandlerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async handle(record: SourceRecord): Promise<Handled> {
    const tenant = tenantOf(record.topic);
    if (!tenant) return { kind: 'skip', reason: `${record.topic} is not a logs.<tenant> topic` };
    const deadLetter = (cls: DeadLetterClass, message: string, extra: { pipeline?: string; version?: number; rule?: number } = {}): Handled => ({
      kind: 'deadLetter',
      tenant,
      topic: `dlq.${tenant}`,
      class: cls,
      pipeline: extra.pipeline ?? null,
      message: deadLetterMessage(
        { key: record.key, value: record.value, headers: record.headers },
        { class: cls, message, ...extra, topic: record.topic, partition: record.partition, offset: record.offset, firstFailure: this.now().toISOString() },
      ),
    });

    if (record.value === null) return deadLetter('decode', 'the record has no value (a tombstone on a logs topic)');
    const decoded = await decodeEnvelope(record.value, { registry: this.options.schemaRegistry });
    if (!decoded.ok) {
      if (decoded.retriable) return { kind: 'retry', reason: decoded.reason };
      return deadLetter('decode', decoded.reason);
    }
    const envelope = decoded.envelope;
    const program = this.options.registry.choose(tenant, streamOf(envelope)) ?? this.defaultProgram(tenant);
    const outcome = program.run(envelope);
    const pipeline = { pipeline: program.name, version: program.version };
    switch (outcome.kind) {
      case 'drop':
        return { kind: 'drop', tenant, pipeline: program.name };
      case 'deadLetter':
        return deadLetter(outcome.class, `${outcome.step}: ${outcome.message}`, { ...pipeline, rule: outcome.ruleIndex });
      case 'document': {
        const encoded = serializeDocument(outcome.document);
        if (!encoded.ok) return deadLetter('budget', encoded.message, pipeline);
        return {
          kind: 'index',
          tenant,
          index: outcome.index,
          id: envelope.id,
          body: encoded.body,
          op: 'create',
          pipeline: program.name,
          version: program.version,
        };
      }
    }
  }

  /** A tenant without a matching pipeline: its raw messages into `logs.<tenant>.default`. */
  private defaultProgram(tenant: string): PipelineProgram {
    let program = this.defaults.get(tenant);
    if (!program) {
      const compiled = compilePipeline({
        apiVersion: 'tributary.dev/v1alpha1',
        kind: 'LoggingPipeline',
        metadata: { name: 'default', namespace: tenant },
        spec: { output: { elasticsearch: { index: 'default' } } },
      });
      if (!compiled.ok) throw new Error(`the default pipeline does not compile for ${tenant}: ${JSON.stringify(compiled.errors)}`);
      program = compiled.value;
      this.defaults.set(tenant, program);
    }
    return program;
  }
}

function tenantOf(topic: string): string | undefined {
  if (!topic.startsWith('logs.')) return undefined;
  const parsed = parseTenant(topic.slice('logs.'.length));
  return parsed.ok ? parsed.value : undefined;
}

function streamOf(envelope: Envelope): StreamIdentity {
  const k = envelope.kubernetes;
  return envelope.source.kind === 'file'
    ? { source: 'file', container: k?.container, pod: k?.pod, labels: k?.labels }
    : { source: 'sdk', app: envelope.source.app };
}

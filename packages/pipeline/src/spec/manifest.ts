import { Type, type Static } from '@sinclair/typebox';
import { FieldPath } from './fields.js';
import { FilterSteps, ParseSteps, TransformSteps } from './steps.js';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A Kubernetes object name (RFC 1123 subdomain): labels of DNS_LABEL joined by dots. */
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL_TEXT = 'a Kubernetes name: lowercase letters, digits and -, starting and ending with a letter or digit';

export const API_VERSION = 'tributary.dev/v1alpha1';
export const KIND = 'LoggingPipeline';

const names = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 100 });

/**
 * Which of the tenant's streams the pipeline applies to. Every criterion given must
 * match (and); within a list any entry may (or). `*` in a name is a wildcard. When
 * several pipelines of a tenant match, the highest `priority` wins, then the name in
 * alphabetical order, so the outcome never depends on apply order.
 */
export const Select = Type.Object(
  {
    containers: Type.Optional(names),
    pods: Type.Optional(names),
    labels: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 317 }), Type.String({ maxLength: 63 }))),
    sources: Type.Optional(Type.Array(Type.Union([Type.Literal('file'), Type.Literal('sdk')]), { minItems: 1, maxItems: 2 })),
    apps: Type.Optional(names),
  },
  { additionalProperties: false },
);

export const Output = Type.Object(
  {
    elasticsearch: Type.Object(
      {
        /**
         * The index under the tenant's prefix (`logs.<tenant>.`), e.g. `checkout` or a
         * template: `checkout-{%Y.%m.%d}` (date of `@timestamp`), `{{ kubernetes.container }}`.
         */
        index: Type.String({ minLength: 1, maxLength: 200 }),
        /** Write a data stream (append-only, `create`) instead of an index. */
        dataStream: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** How long a subscription collects dead letters before one notification per group goes (the notifier raises it to its platform minimum). */
const WindowSeconds = Type.Integer({ minimum: 1, maximum: 86_400, description: 'seconds a notification window lasts (default 60)' });

const NotifyUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 });

/** One dead-letter subscription: exactly one channel. */
export const NotifyTarget = Type.Object(
  {
    /** The generic webhook: a signed JSON body (`version` 1, see @tributary/notify). */
    webhook: Type.Optional(
      Type.Object(
        {
          url: NotifyUrl,
          /** Name of a secret holding the HMAC key that signs deliveries: a Kubernetes Secret name (DNS subdomain), never the key itself. */
          secretRef: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN, description: 'a secret name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit' })),
          windowSeconds: Type.Optional(WindowSeconds),
        },
        { additionalProperties: false },
      ),
    ),
    /** A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): a text message. */
    slack: Type.Optional(Type.Object({ url: NotifyUrl, windowSeconds: Type.Optional(WindowSeconds) }, { additionalProperties: false })),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'exactly one channel' },
);
export type NotifyTarget = Static<typeof NotifyTarget>;

export const DeadLetter = Type.Object(
  {
    /** Records a parse step fails on: to `dlq.<tenant>` (default), or indexed with `error.*` fields. */
    parseFailures: Type.Optional(Type.Union([Type.Literal('deadLetter'), Type.Literal('index')])),
    notify: Type.Optional(Type.Array(NotifyTarget, { maxItems: 16 })),
  },
  { additionalProperties: false },
);

/** A pipeline test as data: a record in, and the fields out, or a drop, or a dead letter. */
export const PipelineTest = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    /** Envelope fields; `message` at least. */
    input: Type.Record(Type.String(), Type.Unknown()),
    expect: Type.Union([
      Type.Object({ fields: Type.Record(FieldPath, Type.Unknown()), index: Type.Optional(Type.String()) }, { additionalProperties: false }),
      Type.Object({ drop: Type.Literal(true) }, { additionalProperties: false }),
      Type.Object(
        { deadLetter: Type.Object({ class: Type.Optional(Type.String()), step: Type.Optional(Type.String()) }, { additionalProperties: false }) },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);

export const PipelineSpec = Type.Object(
  {
    select: Type.Optional(Select),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    parse: Type.Optional(ParseSteps),
    filter: Type.Optional(FilterSteps),
    transform: Type.Optional(TransformSteps),
    output: Type.Optional(Output),
    deadLetter: Type.Optional(DeadLetter),
    tests: Type.Optional(Type.Array(PipelineTest, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type PipelineSpec = Static<typeof PipelineSpec>;

export const LoggingPipeline = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(KIND),
    metadata: Type.Object(
      {
        /** A DNS-1123 label, like the namespace. */
        name: Type.String({ pattern: DNS_LABEL, maxLength: 63, description: DNS_LABEL_TEXT }),
        /** The tenant. */
        namespace: Type.String({ pattern: DNS_LABEL, maxLength: 63, description: DNS_LABEL_TEXT }),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
        annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    spec: PipelineSpec,
  },
  { additionalProperties: false, $id: 'LoggingPipeline' },
);
export type LoggingPipeline = Static<typeof LoggingPipeline>;


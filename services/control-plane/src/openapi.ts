import { DEAD_LETTER_CLASSES } from '@tributary/kafka';
/** The control plane's API, served at /openapi.json. Kept by hand next to routes.ts. */
export const OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'Tributary control plane', version: '1' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      ManifestError: {
        type: 'object',
        properties: { path: { type: 'string' }, reason: { type: 'string' }, line: { type: 'integer' }, col: { type: 'integer' } },
        required: ['path', 'reason'],
      },
      Rejected: { type: 'object', properties: { errors: { type: 'array', items: { $ref: '#/components/schemas/ManifestError' } } } },
      DeadLetter: {
        type: 'object',
        description: 'A dead letter: where it is in dlq.<tenant>, why it failed, its headers and its value as text (cut at 4 096 characters)',
        properties: {
          topic: { type: 'string' },
          partition: { type: 'integer' },
          offset: { type: 'string' },
          timestamp: { type: 'string', format: 'date-time' },
          key: { type: 'string', nullable: true },
          cause: {
            type: 'object',
            properties: {
              class: { type: 'string', enum: [...DEAD_LETTER_CLASSES] },
              message: { type: 'string' },
              pipeline: { type: 'string' },
              version: { type: 'integer' },
              rule: { type: 'integer' },
              topic: { type: 'string' },
              partition: { type: 'integer' },
              offset: { type: 'string' },
              firstFailure: { type: 'string' },
            },
          },
          replayCount: { type: 'integer' },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          value: { type: 'string', nullable: true },
          valueBytes: { type: 'integer' },
          truncated: { type: 'boolean' },
        },
      },
      DeadLetterFilter: {
        type: 'object',
        properties: {
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time', description: 'inclusive' },
          class: { type: 'string', enum: [...DEAD_LETTER_CLASSES] },
          pipeline: { type: 'string' },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/tenants': {
      get: { summary: 'Every tenant with a pipeline or an attempt at one (admin token only)', responses: { '200': { description: '{ tenants: [name] }' }, '403': { description: 'a tenant token' } } },
    },
    '/v1/traffic': {
      get: {
        summary: "Every tenant at a glance (admin token only): lag from Kafka's offsets, the last hour from tributary.traffic, the pipelines in force; measured at most every 5 s",
        responses: { '200': { description: '{ at, processors, tenants: [{ tenant, lag, partitions, lastHour: { in, indexed, dropped, deadLettered }, pipelinesInForce: [{ name, version }] }] }' }, '403': { description: 'a tenant token' } },
      },
    },
    '/v1/tenants/{tenant}/pipelines': {
      get: { summary: "List the tenant's accepted pipelines", responses: { '200': { description: '{ pipelines: [{ name, version, appliedAt }] }' } } },
    },
    '/v1/tenants/{tenant}/pipelines/{name}': {
      get: { summary: 'The accepted manifest and its version', responses: { '200': { description: '{ manifest, version, appliedAt }' }, '404': { description: 'none' } } },
      put: {
        summary: 'Apply a manifest (YAML or JSON body): validate, test, check destinations, publish',
        parameters: [{ name: 'If-Match', in: 'header', description: 'apply only if this version is in force (0: only if none)', schema: { type: 'integer' } }],
        responses: {
          '200': { description: 'updated or unchanged: { outcome, version }' },
          '201': { description: 'created: { outcome, version }' },
          '409': { description: 'If-Match does not match the version in force' },
          '422': { description: 'rejected', content: { 'application/json': { schema: { $ref: '#/components/schemas/Rejected' } } } },
        },
      },
      delete: { summary: 'Delete the pipeline (a tombstone)', responses: { '204': { description: 'deleted' }, '404': { description: 'none' } } },
    },
    '/v1/tenants/{tenant}/pipelines/{name}/status': {
      get: { summary: 'Version in force and the last attempt, with its errors', responses: { '200': { description: 'PipelineStatus' }, '404': { description: 'never applied' } } },
    },
    '/v1/tenants/{tenant}/validate': {
      post: { summary: 'Validate a manifest (schema, compile, tests, scope) without applying it', responses: { '200': { description: '{ valid: true }' }, '422': { description: 'rejected' } } },
    },
    '/v1/tenants/{tenant}/dry-run': {
      post: {
        summary: 'Validate a manifest as an apply would, then run it over sample lines (nothing is applied)',
        responses: { '200': { description: '{ valid: true, results: [{ line, outcome: document|drop|deadLetter, index?, document?, step?, class?, message? }] }' }, '400': { description: 'the body is not { manifest, lines } (at most 1000)' }, '422': { description: 'the manifest is refused: { errors }' } },
      },
    },
    '/v1/tenants/{tenant}/traffic': {
      get: {
        summary: "The tenant's records: in over the last hour and the processor group's lag (Kafka's offsets), and per pipeline what the processors did with its records over the last hour (tributary.traffic)",
        responses: { '200': { description: "{ tenant, recordsLastHour, lag, partitions, processors, pipelinesLastHour: { <pipeline, '' for undecodable records>: { in, indexed, dropped, deadLettered } } }" } },
      },
    },
    '/v1/tenants/{tenant}/status': {
      get: {
        summary: "The tenant at a glance: per pipeline the version in force, the last apply, dead letters in the last hour by class, and each subscription's last delivery",
        responses: { '200': { description: '{ tenant, deadLettersLastHour: { since, total, complete, withoutPipeline }, pipelines: [{ name, version, appliedAt, lastAttempt, deadLettersLastHour, notifications: [DeliveryStatus] }] }' } },
      },
    },
    '/v1/tenants/{tenant}/deadletters': {
      get: {
        summary: "The tenant's dead letters, oldest first (or the latest, newest first, with order=newest): time → offsets, then the filter",
        parameters: [
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'inclusive' },
          { name: 'class', in: 'query', schema: { type: 'string', enum: [...DEAD_LETTER_CLASSES] } },
          { name: 'pipeline', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'order', in: 'query', schema: { type: 'string', enum: ['oldest', 'newest'], default: 'oldest' } },
        ],
        responses: {
          '200': {
            description: '{ deadLetters, scanned, complete } (complete: false when more may match)',
            content: { 'application/json': { schema: { type: 'object', properties: { deadLetters: { type: 'array', items: { $ref: '#/components/schemas/DeadLetter' } }, scanned: { type: 'integer' }, complete: { type: 'boolean' } } } } },
          },
          '400': { description: 'a bad parameter: { errors: [{ path, reason }] }' },
          '404': { description: 'the tenant has no dead-letter topic yet' },
        },
      },
    },
    '/v1/tenants/{tenant}/deadletters/stream': {
      get: {
        summary: 'Dead letters as they are written (Server-Sent Events: `deadletter` events whose data is a DeadLetter, `ready` once following)',
        parameters: [
          { name: 'class', in: 'query', schema: { type: 'string' } },
          { name: 'pipeline', in: 'query', schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'text/event-stream' }, '429': { description: 'too many live streams' } },
      },
    },
    '/v1/tenants/{tenant}/deadletters/replay': {
      post: {
        summary: 'Re-produce the matching dead letters, byte for byte, to logs.<tenant>: rate-limited, at most maxRecords per call, resumable',
        requestBody: {
          content: {
            'application/json': {
              schema: {
                allOf: [
                  { $ref: '#/components/schemas/DeadLetterFilter' },
                  { type: 'object', properties: { dryRun: { type: 'boolean' }, maxRecords: { type: 'integer', default: 10000 }, ratePerSecond: { type: 'integer', default: 500 }, resume: { type: 'string' } } },
                ],
              },
            },
          },
        },
        responses: { '200': { description: '{ replayId, matched, replayed, skipped (replayed too often), scanned, total (records the whole replay reads), remaining (of those, still to read), resume? (carries the first call\'s filter), done }' }, '400': { description: 'a bad field' } },
      },
    },
    '/v1/tenants/{tenant}/deadletters/purge': {
      post: {
        summary: 'Delete the dead letters up to a time (the start of every partition of dlq.<tenant>)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['until'], properties: { until: { type: 'string', format: 'date-time' }, dryRun: { type: 'boolean' } } } } } },
        responses: { '200': { description: '{ partitions: [{ partition, from, to, records }], records, dryRun }' }, '400': { description: 'a bad field' } },
      },
    },
    '/healthz': { get: { security: [], summary: 'The process is alive', responses: { '200': { description: 'ok' } } } },
    '/readyz': { get: { security: [], summary: 'State is loaded from Kafka and requests are served', responses: { '200': { description: 'ready' }, '503': { description: 'not yet' } } } },
    '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
  },
} as const;

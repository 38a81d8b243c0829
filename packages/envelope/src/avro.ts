/**
 * The envelope as an Avro record, for producers that frame with a schema registry. `source`
 * is one record with `kind` and every kind's fields nullable, rather than a union of two
 * records: avsc (and most Avro libraries) would then wrap the value as
 * `{ "dev.tributary.FileSource": { … } }`, which is no longer the JSON envelope's shape.
 * The decoder ignores the other kind's null fields; `kubernetes` and `labels` are nullable.
 */
export const ENVELOPE_AVRO_SCHEMA = {
  type: 'record',
  name: 'Envelope',
  namespace: 'dev.tributary',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'time', type: 'string' },
    { name: 'stream', type: { type: 'enum', name: 'Stream', symbols: ['stdout', 'stderr'] } },
    { name: 'message', type: 'string' },
    {
      name: 'source',
      type: {
        type: 'record',
        name: 'Source',
        fields: [
          { name: 'kind', type: { type: 'enum', name: 'SourceKind', symbols: ['file', 'sdk'] } },
          { name: 'node', type: ['null', 'string'], default: null },
          { name: 'path', type: ['null', 'string'], default: null },
          { name: 'offset', type: ['null', 'long'], default: null },
          { name: 'app', type: ['null', 'string'], default: null },
          { name: 'host', type: ['null', 'string'], default: null },
        ],
      },
    },
    {
      name: 'kubernetes',
      type: [
        'null',
        {
          type: 'record',
          name: 'Kubernetes',
          fields: [
            { name: 'namespace', type: 'string' },
            { name: 'pod', type: 'string' },
            { name: 'pod_uid', type: 'string' },
            { name: 'container', type: 'string' },
            { name: 'labels', type: ['null', { type: 'map', values: 'string' }], default: null },
          ],
        },
      ],
      default: null,
    },
  ],
} as const;

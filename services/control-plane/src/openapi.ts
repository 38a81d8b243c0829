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
    },
  },
  security: [{ bearer: [] }],
  paths: {
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
    '/healthz': { get: { security: [], summary: 'The process is alive', responses: { '200': { description: 'ok' } } } },
    '/readyz': { get: { security: [], summary: 'State is loaded from Kafka and requests are served', responses: { '200': { description: 'ready' }, '503': { description: 'not yet' } } } },
    '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
  },
} as const;

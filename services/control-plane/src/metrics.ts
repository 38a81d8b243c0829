import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of the control plane, in one place. No global registry: one per instance. */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly applies = new Counter({
    name: 'tributary_control_plane_applies_total',
    help: 'Manifest applies by outcome (created, updated, unchanged, rejected, conflict)',
    labelNames: ['tenant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly validationErrors = new Counter({
    name: 'tributary_control_plane_validation_errors_total',
    help: 'Errors found in manifests, by the step that found them (schema, compile, tests, scope, destination)',
    labelNames: ['tenant', 'class'] as const,
    registers: [this.registry],
  });
  readonly publishFailures = new Counter({
    name: 'tributary_control_plane_publish_failures_total',
    help: 'Failed writes to tributary.pipelines or tributary.status',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'tributary_control_plane_auth_failures_total',
    help: 'Requests refused for a missing or unknown token (401) or a foreign tenant (403)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_control_plane_' });
  }
}

/** The step an error came from, from its path and reason: a label with few values. */
export function errorClass(path: string, reason: string): string {
  if (path.startsWith('spec.tests')) return reason.includes('would be rejected') ? 'destination' : 'tests';
  if (/Elasticsearch|topics/.test(reason)) return 'destination';
  if (path === 'metadata.namespace' || path === 'metadata.name') return reason.includes('this request is for') ? 'scope' : 'schema';
  if (/invalid YAML|unknown field|is required|must be|must have|must name|must not/.test(reason)) return 'schema';
  return 'compile';
}

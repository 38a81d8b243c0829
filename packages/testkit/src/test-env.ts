import { randomBytes } from 'node:crypto';
import { EngineError } from './errors.js';

/**
 * The engines a test file runs against, from the variables `npm test` sets. Fails clearly
 * when a test file is run on its own without engines.
 */
export function testEngines(env: NodeJS.ProcessEnv = process.env): { brokers: string[]; elasticsearchUrl: string; schemaRegistryUrl: string } {
  const missing = ['KAFKA_BROKERS', 'ELASTICSEARCH_URL', 'SCHEMA_REGISTRY_URL'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new EngineError(
      'TRIBUTARY_ENGINES_NOT_RUNNING',
      'engines',
      `${missing.join(', ')} not set: run tests with \`npm test\` (it starts engines), or \`tributary engines start\` and source .tributary/engines.env`,
    );
  }
  return {
    brokers: String(env['KAFKA_BROKERS']).split(','),
    elasticsearchUrl: String(env['ELASTICSEARCH_URL']),
    schemaRegistryUrl: String(env['SCHEMA_REGISTRY_URL']),
  };
}

/** A name no other test uses, for topics, indices, groups and tenants (a DNS-1123 label). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

import { existsSync } from 'node:fs';
import { EngineError } from './errors.js';
import type { EngineName } from './types.js';

/** The variables that point Tributary (and the test kit) at existing engines. */
export const ENGINE_ENV: Readonly<Record<EngineName, string>> = {
  kafka: 'KAFKA_BROKERS',
  elasticsearch: 'ELASTICSEARCH_URL',
  schemaRegistry: 'SCHEMA_REGISTRY_URL',
  kubernetes: 'KUBECONFIG',
};

/** `TRIBUTARY_ENGINES`: how to provide engines nobody pointed us at. */
export type ModeSetting = 'auto' | 'local' | 'containers';

export function parseModeSetting(value: string | undefined): ModeSetting {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'local' || value === 'containers') return value;
  throw new EngineError('TRIBUTARY_ENGINES_CONFIG', 'engines', `TRIBUTARY_ENGINES="${value}": expected auto, local or containers`);
}

/** The address of an existing engine given in the environment, checked; undefined if unset. */
export function existingEngine(name: EngineName, env: NodeJS.ProcessEnv): string | undefined {
  const variable = ENGINE_ENV[name];
  const value = env[variable]?.trim();
  if (!value) return undefined;
  if (name === 'kafka') {
    for (const broker of value.split(',')) {
      if (!/^[^\s:]+:\d{1,5}$/.test(broker.trim())) {
        throw new EngineError('TRIBUTARY_ENGINES_CONFIG', name, `${variable}="${value}": "${broker}" is not host:port`);
      }
    }
    return value;
  }
  if (name === 'kubernetes') {
    if (!existsSync(value)) throw new EngineError('TRIBUTARY_ENGINES_CONFIG', name, `${variable}="${value}": no such file`);
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EngineError('TRIBUTARY_ENGINES_CONFIG', name, `${variable}="${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EngineError('TRIBUTARY_ENGINES_CONFIG', name, `${variable}="${value}": expected http or https`);
  }
  return value.replace(/\/+$/, '');
}

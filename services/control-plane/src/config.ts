import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tenantTopicSettings } from '@tributary/apply';
import { parseBrokers, type TenantTopicOptions } from '@tributary/kafka';
import { AddressPolicy } from '@tributary/notify';
import { parseTenant } from '@tributary/tenant';
import { parseTokenList, type TokenConfig } from './auth.js';
import type { ControlPlaneOptions } from './service.js';

/** A startup fault in the control plane's configuration: the service exits with it. */
export class ControlPlaneConfigError extends Error {
  readonly code = 'TRIBUTARY_CONTROL_PLANE_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ControlPlaneConfigError';
  }
}

/**
 * Reads the control plane's configuration from the environment and flags:
 * KAFKA_BROKERS, ELASTICSEARCH_URL, TRIBUTARY_ADMIN_TOKEN, TRIBUTARY_TOKENS
 * (`tenant=token,…`) and/or TRIBUTARY_TOKENS_FILE (YAML `tenants: { payments: [token] }`),
 * TRIBUTARY_TOPIC_PARTITIONS (default 3), TRIBUTARY_TOPIC_RETENTION_HOURS (default 168),
 * TRIBUTARY_DLQ_RETENTION_HOURS (dead letters; default the topic retention),
 * TRIBUTARY_NOTIFY_ALLOW (addresses and CIDR networks inside the cluster that dead-letter
 * webhooks may point at, comma-separated; default none).
 */
export function controlPlaneConfig(env: NodeJS.ProcessEnv, flags: { port?: string; host?: string }): Omit<ControlPlaneOptions, 'logger'> {
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new ControlPlaneConfigError(`${name} is not set`);
    return value;
  };
  const brokers = parseBrokers(need('KAFKA_BROKERS'));
  const elasticsearchUrl = need('ELASTICSEARCH_URL');
  const port = Number(flags.port ?? env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ControlPlaneConfigError(`--port ${flags.port}: not a port number`);
  const tokens = tokenConfig(env);
  let topics: TenantTopicOptions;
  try {
    topics = tenantTopicSettings(env);
  } catch (err) {
    throw new ControlPlaneConfigError((err as Error).message);
  }
  let notify: AddressPolicy;
  try {
    notify = AddressPolicy.fromSetting(env['TRIBUTARY_NOTIFY_ALLOW']);
  } catch (err) {
    throw new ControlPlaneConfigError(`TRIBUTARY_NOTIFY_ALLOW: ${(err as Error).message}`);
  }
  return { brokers, elasticsearchUrl, port, host: flags.host ?? '0.0.0.0', tokens, topics, notifyAllow: notify.allow };
}

function tokenConfig(env: NodeJS.ProcessEnv): TokenConfig {
  const tenants: Record<string, string[]> = {};
  const add = (from: Record<string, unknown>, where: string): void => {
    for (const [tenant, tokens] of Object.entries(from)) {
      const checked = parseTenant(tenant, `${where}: tenant`);
      if (!checked.ok) throw new ControlPlaneConfigError(`${where}: ${checked.errors[0]?.reason}`);
      const list = Array.isArray(tokens) ? tokens : [tokens];
      if (!list.every((t) => typeof t === 'string' && t.length >= 16)) {
        throw new ControlPlaneConfigError(`${where}: the tokens of tenant "${tenant}" must be strings of at least 16 characters`);
      }
      (tenants[tenant] ??= []).push(...(list as string[]));
    }
  };
  if (env['TRIBUTARY_TOKENS']) {
    try {
      add(parseTokenList(env['TRIBUTARY_TOKENS']), 'TRIBUTARY_TOKENS');
    } catch (err) {
      throw new ControlPlaneConfigError((err as Error).message);
    }
  }
  const file = env['TRIBUTARY_TOKENS_FILE'];
  if (file) {
    let parsed: unknown;
    try {
      parsed = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ControlPlaneConfigError(`TRIBUTARY_TOKENS_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const section = (parsed as { tenants?: unknown } | null)?.tenants;
    if (typeof section !== 'object' || section === null) throw new ControlPlaneConfigError(`TRIBUTARY_TOKENS_FILE ${file}: expected "tenants: { <tenant>: [<token>] }"`);
    add(section as Record<string, unknown>, `TRIBUTARY_TOKENS_FILE ${file}`);
  }
  const adminToken = env['TRIBUTARY_ADMIN_TOKEN'];
  if (adminToken !== undefined && adminToken.length < 16) throw new ControlPlaneConfigError('TRIBUTARY_ADMIN_TOKEN must be at least 16 characters');
  if (!adminToken && Object.keys(tenants).length === 0) {
    throw new ControlPlaneConfigError('no tokens: set TRIBUTARY_ADMIN_TOKEN, TRIBUTARY_TOKENS or TRIBUTARY_TOKENS_FILE');
  }
  return { tenants, adminToken };
}

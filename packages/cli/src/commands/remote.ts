import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export interface RemoteFlags {
  server?: string;
  token?: string;
}

/** The flags every command that talks to the control plane takes. */
export function withRemoteFlags(command: Command): Command {
  return command
    .option('--server <url>', 'control plane URL (default: $TRIBUTARY_SERVER or http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (default: $TRIBUTARY_TOKEN)');
}

export interface Remote {
  /** `type` is the body's content type; default YAML (manifests). */
  request(method: string, path: string, body?: string, type?: string): Promise<{ status: number; body: unknown }>;
}

/** A small client of the control plane's HTTP API; undefined (after saying why) without a token. */
export function remote(ctx: CliContext, flags: RemoteFlags): Remote | undefined {
  const server = (flags.server ?? ctx.env['TRIBUTARY_SERVER'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = flags.token ?? ctx.env['TRIBUTARY_TOKEN'];
  if (!token) {
    ctx.err.write('tributary: no token: pass --token or set TRIBUTARY_TOKEN\n');
    return undefined;
  }
  return {
    async request(method, path, body, type = 'application/yaml') {
      const response = await fetch(`${server}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { body }),
        // A replay call may take a while: it is rate-limited on the server.
        signal: AbortSignal.timeout(180_000),
      }).catch((err: Error) => {
        throw new Error(`cannot reach the control plane at ${server}: ${err.cause instanceof Error ? err.cause.message : err.message}`);
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed };
    },
  };
}

/** One line for a refused request: the server's error, or the status. */
export function refusal(status: number, body: unknown): string {
  const error = (body as { error?: string } | undefined)?.error;
  return `${status}${error ? `: ${error}` : ''}`;
}

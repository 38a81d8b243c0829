import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeadLetterNotification, ReceivedNotification } from '@tributary/notify';

const EXAMPLES = fileURLToPath(new URL('../../../pipeline/examples/', import.meta.url));
const EXAMPLE_HOOK = '{ url: "https://hooks.example/payments" }';

/** The demo's manifests and signing key, written under `<stateDir>/demo`. */
export interface DemoFiles {
  readonly manifest: string;
  readonly fixed: string;
  readonly secretsDir: string;
  readonly secret: string;
}

/**
 * The demo tenant's two manifests (as broken lines arrive, and after its team's fix) with
 * their subscription pointed at the demo's receiver and signed with a fresh key, so a new
 * user can apply the fix with the ordinary command.
 */
/** `tenant`: `payments` in the demo; a test writes the same files for a tenant of its own. */
export function writeDemoFiles(stateDir: string, receiverUrl: string, secret: string, tenant = 'payments'): DemoFiles {
  const dir = join(stateDir, 'demo');
  const secretsDir = join(dir, 'secrets');
  mkdirSync(join(secretsDir, tenant), { recursive: true });
  writeFileSync(join(secretsDir, tenant, 'demo-hook'), `${secret}\n`, { mode: 0o600 });
  const hook = `{ url: "${receiverUrl}", secretRef: demo-hook, windowSeconds: 30 }`;
  const write = (name: string): string => {
    const path = join(dir, name);
    writeFileSync(path, readFileSync(join(EXAMPLES, name), 'utf8').replace(EXAMPLE_HOOK, hook).replace('namespace: payments', `namespace: ${tenant}`));
    return path;
  };
  return { manifest: write('checkout-api.yaml'), fixed: write('checkout-api-fixed.yaml'), secretsDir, secret };
}

/** What the demo's receiver prints for a notification it got. */
export function describeAlert(received: ReceivedNotification): string {
  const n: DeadLetterNotification | undefined = received.notification;
  if (!n) return `[dead-letter alert] a request that is not a notification (${received.body.length} bytes)\n`;
  const pipeline = n.pipeline ? `${n.tenant}/${n.pipeline.name} v${n.pipeline.version ?? '?'}` : n.tenant;
  const signature = received.verified === undefined ? '' : received.verified ? ', signature verified' : ', SIGNATURE DOES NOT VERIFY';
  const sample = n.samples[0]?.message ?? n.samples[0]?.value;
  return [
    '',
    `[dead-letter alert] ${pipeline}: ${n.count} dead letter${n.count === 1 ? '' : 's'} (${n.class}${n.rule === null ? '' : `, step ${n.rule}`}) from ${n.firstAt} to ${n.lastAt}${signature}`,
    `  why:      ${n.message.slice(0, 300)}`,
    ...(sample ? [`  line:     ${JSON.stringify(sample.slice(0, 200))}`] : []),
    `  inspect:  npx ${n.commands.show}`,
    `  replay:   npx ${n.commands.replay}   (after a fix)`,
    '',
  ].join('\n');
}

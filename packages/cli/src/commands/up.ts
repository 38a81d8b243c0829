import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { describeAlert, writeDemoFiles, type DemoFiles } from './demo-alerts.js';
import { DemoProducer } from './demo-producer.js';
import type { BackgroundState } from '@tributary/testkit';
import type { CliContext } from '../context.js';
import { engineOptions, withEngineFlags, type EngineFlags } from './engine-flags.js';

interface Services {
  readonly controlPlane: string;
  readonly adminToken: string;
  /** The demo tenant's own token: what a team would sign in to the console with. */
  readonly demoToken: string;
  /** Base URL of the processor's /metrics, /healthz and /readyz. */
  processor?: string;
  notifier?: string;
  /** The operator's /metrics, when a Kubernetes API server runs (`--kubernetes`). */
  operator?: string;
  receiver?: string;
  demo?: DemoFiles;
}

/**
 * `tributary up` (what `npm start` runs): engines, then every service, in the foreground
 * until Ctrl-C, with a demo tenant's pipeline applied. Services join as they are built.
 */
export function upCommand(ctx: CliContext): Command {
  return withEngineFlags(new Command('up'))
    .description('run the whole stack locally (engines, control plane, processor, notifier, a demo tenant producing logs and a receiver printing its dead-letter alerts; with --kubernetes also a Kubernetes API server and the operator) until Ctrl-C, and print where to look')
    .option('--port <port>', 'control plane port (0 picks a free one)', '8080')
    .action(async (flags: EngineFlags & { port: string }) => {
      let services: Services | undefined;
      const { runInForeground } = await import('@tributary/testkit');
      await runInForeground({
        stateDir: flags.stateDir,
        engines: await engineOptions(flags, ctx.env),
        logger: ctx.logger,
        startServices: async (state) => {
          // The control plane needs both; with either turned off, only engines run.
          if (!state.env['KAFKA_BROKERS'] || !state.env['ELASTICSEARCH_URL']) return async () => undefined;
          const [{ ControlPlane }, { Processor }, { Notifier }, { createKafka }, { startWebhookReceiver }] = await Promise.all([
            import('@tributary/control-plane'),
            import('@tributary/processor'),
            import('@tributary/notifier'),
            import('@tributary/kafka'),
            import('@tributary/notify'),
          ]);
          // The demo's alerts go to a receiver on loopback, which the platform allowlist must admit.
          const allow = ['127.0.0.1/32'];
          const secret = randomBytes(24).toString('base64url');
          const receiver = await startWebhookReceiver({ secret, onReceived: (received) => ctx.out.write(describeAlert(received)) });
          const demo = writeDemoFiles(flags.stateDir, receiver.url, secret);
          const adminToken = ctx.env['TRIBUTARY_ADMIN_TOKEN'] ?? randomBytes(18).toString('base64url');
          const demoToken = randomBytes(18).toString('base64url');
          const controlPlane = new ControlPlane({
            brokers: (state.env['KAFKA_BROKERS'] ?? '').split(','),
            elasticsearchUrl: state.env['ELASTICSEARCH_URL'] ?? '',
            port: Number(flags.port),
            host: '127.0.0.1',
            tokens: { tenants: { payments: [demoToken] }, adminToken },
            topics: { partitions: 3 },
            notifyAllow: allow,
            logger: ctx.logger,
          });
          await controlPlane.start();
          services = { controlPlane: controlPlane.address, adminToken, demoToken, receiver: receiver.url, demo };
          await applyDemo(controlPlane.address, adminToken, demo.manifest, ctx);
          const brokers = (state.env['KAFKA_BROKERS'] ?? '').split(',');
          const processor = new Processor({
            brokers,
            elasticsearchUrl: state.env['ELASTICSEARCH_URL'] ?? '',
            schemaRegistryUrl: state.env['SCHEMA_REGISTRY_URL'],
            topicRefreshMs: 2000,
            metricsPort: 0,
            host: '127.0.0.1',
            logger: ctx.logger,
          });
          await processor.start();
          services.processor = processor.metricsAddress;
          const notifier = new Notifier({ brokers, allow, secretsDir: demo.secretsDir, topicRefreshMs: 2000, metricsPort: 0, host: '127.0.0.1', logger: ctx.logger });
          await notifier.start();
          services.notifier = notifier.metricsAddress;
          const producer = new DemoProducer(createKafka({ brokers, clientId: 'tributary-demo' }, ctx.logger));
          await producer.start();
          const operator = state.env['KUBECONFIG'] ? await startOperator(state, allow, ctx) : undefined;
          if (operator) services.operator = operator.metricsAddress;
          return async () => {
            await operator?.stop();
            await producer.stop();
            await notifier.stop();
            await processor.stop();
            await controlPlane.stop();
            await receiver.close();
          };
        },
        onReady: (state) => ctx.out.write(banner(state, flags.stateDir, services)),
      });
    });
}

/** The operator, on the CRD installed in the API server `--kubernetes` started (or `KUBECONFIG` names). */
async function startOperator(state: BackgroundState, allow: string[], ctx: CliContext) {
  const { Operator, ensureCrd, loadKubeConfig } = await import('@tributary/operator');
  const kubeconfig = state.env['KUBECONFIG'] ?? '';
  await ensureCrd(loadKubeConfig(kubeconfig));
  const operator = new Operator({
    brokers: (state.env['KAFKA_BROKERS'] ?? '').split(','),
    elasticsearchUrl: state.env['ELASTICSEARCH_URL'] ?? '',
    kubeconfig,
    topics: { partitions: 3 },
    notifyAllow: allow,
    metricsPort: 0,
    host: '127.0.0.1',
    logger: ctx.logger,
  });
  await operator.start();
  return operator;
}

/** The demo tenant `payments` gets the example pipeline, through the real API. */
async function applyDemo(server: string, token: string, manifest: string, ctx: CliContext): Promise<void> {
  const response = await fetch(`${server}/v1/tenants/payments/pipelines/checkout-api`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
    body: readFileSync(manifest, 'utf8'),
  });
  if (!response.ok) ctx.logger.warn({ status: response.status, body: await response.text() }, 'the demo pipeline was not applied');
}

function banner(state: BackgroundState, stateDir: string, services: Services | undefined): string {
  const lines = ['', 'Tributary is up. Engines:'];
  for (const engine of state.engines) {
    lines.push(`  ${engine.name.padEnd(15)} ${engine.address}  (${engine.mode}${engine.logFile ? `, log ${engine.logFile}` : ''})`);
  }
  const kafka = state.env['KAFKA_BROKERS'];
  const es = state.env['ELASTICSEARCH_URL'];
  const registry = state.env['SCHEMA_REGISTRY_URL'];
  if (services) {
    lines.push(
      '',
      'Services:',
      `  control plane   ${services.controlPlane}  (admin token ${services.adminToken})`,
      `  console         ${services.controlPlane}/console  (sign in as the demo tenant payments with ${services.demoToken}, or with the admin token)`,
      `  processor       group tributary-processor, ${services.processor ?? ''}/metrics`,
      `  notifier        group tributary-notifier, ${services.notifier ?? ''}/metrics`,
      '  demo producer   tenant payments, container api: a line a second, every 7th cut short',
      `  demo receiver   ${services.receiver ?? ''}: the tenant's dead-letter alerts print here (signed; a 30 s window)`,
    );
  }
  lines.push('', 'Where to look:');
  if (services) {
    lines.push(
      `  pipelines:  export TRIBUTARY_SERVER=${services.controlPlane} TRIBUTARY_TOKEN=${services.adminToken}`,
      '              npx tributary get payments checkout-api      # the demo tenant\'s pipeline',
      '              npx tributary apply -f packages/pipeline/examples/checkout-api.yaml',
      `  API:        curl -s ${services.controlPlane}/openapi.json`,
    );
  }
  if (kafka) lines.push(`  topics:     kcat -b ${kafka} -L`);
  if (es) {
    lines.push(`  documents:  curl -s '${es}/logs.payments.*/_search?sort=@timestamp:desc&size=3&pretty'`);
    lines.push(`  indices:    curl -s '${es}/_cat/indices?v'`);
  }
  if (services?.demo) {
    lines.push(
      '  dead letters: every 7th line is cut short, fails to parse and becomes a dead letter; within',
      '              about 30 s an alert prints here. Then look, fix and get them back:',
      '              npx tributary dlq list --tenant payments --since 10m',
      `              npx tributary apply -f ${services.demo.fixed}   # index lines cut short, with error.*`,
      '              npx tributary dlq replay --tenant payments --since 10m',
      `              curl -s '${es ?? ''}/logs.payments.*/_search?q=error.type:parse&size=1&pretty'`,
      `              or in the console (${services.controlPlane}/console, token ${services.demoToken}): payments → checkout-api`,
      '              → Its dead letters (live); paste the fixed manifest into the editor, Apply; then Replay the last minutes',
    );
  }
  const kubeconfig = state.env['KUBECONFIG'];
  if (kubeconfig && services?.operator) {
    const server = readServer(kubeconfig);
    const pki = join(dirname(kubeconfig), 'pki');
    lines.push(`  kubernetes: KUBECONFIG=${kubeconfig}  (the operator: ${services.operator}/metrics)`);
    if (existsSync(pki)) {
      const tls = `--cacert ${pki}/ca.crt --cert ${pki}/client.crt --key ${pki}/client.key`;
      const resources = `${server}/apis/tributary.dev/v1alpha1/namespaces/payments/loggingpipelines`;
      lines.push(
        '              a LoggingPipeline through the Kubernetes API (this local server has no kubectl discovery; curl works):',
        `              curl -s ${tls} -H 'content-type: application/yaml' --data-binary @${services.demo?.fixed ?? 'packages/pipeline/examples/checkout-api-fixed.yaml'} ${resources}`,
        `              curl -s ${tls} ${resources}/checkout-api | jq .status`,
      );
    } else {
      lines.push('              kubectl apply -f packages/pipeline/examples/checkout-api-fixed.yaml && kubectl -n payments get lp');
    }
  }
  if (kafka) lines.push(`  raw dead letters: kcat -b ${kafka} -C -t dlq.payments -e -f '%h %s\\n'`);
  if (registry) lines.push(`  schemas:    curl -s ${registry}/subjects`);
  lines.push(`  variables:  ${stateDir}/engines.env (source it to point other shells here)`, '', 'Press Ctrl-C to stop everything.', '');
  return lines.join('\n');
}

/** The API server's URL from a kubeconfig the testkit wrote (`server: https://…`). */
function readServer(kubeconfig: string): string {
  return /server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1] ?? 'https://127.0.0.1';
}

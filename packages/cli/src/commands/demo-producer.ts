import type { Kafka, Producer } from 'kafkajs';
import { encodeEnvelope, fileEnvelopeId, type Envelope } from '@tributary/envelope';

const LINES = [
  { level: 'info', msg: 'order placed' },
  { level: 'info', msg: 'paid with card 4111 1111 1111 1111' },
  { level: 'debug', msg: 'cache miss' },
  { level: 'warn', msg: 'slow payment provider' },
  { level: 'error', msg: 'payment declined' },
];

/**
 * What `npm start` shows a new user: the demo tenant `payments` writing one container's
 * logs, every so often a line cut short (as a runtime split at 16 KiB would), which ends
 * in the dead-letter topic.
 */
export class DemoProducer {
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private offset = 0;

  /** `tenant`: `payments` in the demo; a test runs the same producer for a tenant of its own. */
  constructor(private readonly kafka: Kafka, private readonly intervalMs = 1000, private readonly tenant = 'payments') {}

  async start(): Promise<void> {
    this.producer = this.kafka.producer({ idempotent: true });
    await this.producer.connect();
    this.timer = setInterval(() => void this.send().catch(() => undefined), this.intervalMs);
  }

  private async send(): Promise<void> {
    const n = this.offset;
    const line = LINES[n % LINES.length] as { level: string; msg: string };
    const json = JSON.stringify({ ...line, time: new Date().toISOString(), order: 1000 + n });
    const message = n % 7 === 6 ? json.slice(0, 20) : json;
    const envelope: Envelope = {
      id: fileEnvelopeId('demo-node', 'checkout-0.log', this.offset * 200),
      time: new Date().toISOString(),
      stream: 'stdout',
      message,
      source: { kind: 'file', node: 'demo-node', path: `/var/log/pods/${this.tenant}_checkout-0_demo/api/0.log`, offset: this.offset * 200 },
      kubernetes: { namespace: this.tenant, pod: 'checkout-0', pod_uid: 'demo', container: 'api', labels: { app: 'checkout' } },
    };
    this.offset++;
    await this.producer?.send({ topic: `logs.${this.tenant}`, messages: [{ key: 'demo/api', value: encodeEnvelope(envelope) }] });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.producer?.disconnect();
  }
}

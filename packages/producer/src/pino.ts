/**
 * A pino transport: `pino({ transport: { target: '@tributary/producer/pino', options: { brokers, tenant, app } } })`
 * writes every log line of the app to `logs.<tenant>` through the producer SDK. It runs in
 * pino's worker thread; on exit pino ends the stream and the producer flushes before the
 * worker goes.
 */
import build from 'pino-abstract-transport';
import { createProducer, type ProducerOptions } from './producer.js';

export type PinoTransportOptions = Omit<ProducerOptions, 'logger'>;

const LEVELS: Record<number, 'stdout' | 'stderr'> = { 10: 'stdout', 20: 'stdout', 30: 'stdout', 40: 'stderr', 50: 'stderr', 60: 'stderr' };

export default async function tributaryTransport(options: PinoTransportOptions): Promise<ReturnType<typeof build>> {
  const producer = createProducer(options);
  return build(
    async (source) => {
      for await (const line of source as AsyncIterable<Record<string, unknown>>) {
        const time = typeof line['time'] === 'number' ? new Date(line['time']) : undefined;
        await producer.send({ message: JSON.stringify(line), stream: LEVELS[Number(line['level'])] ?? 'stdout', ...(time ? { time } : {}) });
      }
    },
    { close: async () => producer.close() },
  );
}

import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { decodeEnvelope, type Envelope } from '@tributary/envelope';
import { uniqueName } from '@tributary/testkit';

/** A CRI log line as containerd writes it. */
export const cri = (content: string, tag: 'P' | 'F' = 'F', stream = 'stdout'): string => `2026-11-25T10:00:00.000000001Z ${stream} ${tag} ${content}\n`;

/** Every record of `topic` from the beginning, once `count` are there (and a little longer: more would be a duplicate). */
export async function records(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<Array<{ key: string; envelope: Envelope }>> {
  const consumer = kafka.consumer({ groupId: uniqueName('forwarder-reader') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen: Array<{ key: string; envelope: Envelope }> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`${seen.length} of ${count} records on ${topic} after ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const decoded = await decodeEnvelope(message.value as Buffer);
          assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
          seen.push({ key: String(message.key), envelope: decoded.envelope });
          if (seen.length >= count) {
            clearTimeout(timeout);
            setTimeout(resolve, 500);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/** The value of one sample of `/metrics`, or undefined. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

import { pino } from 'pino';
import { createKafka, PIPELINES_TOPIC } from '@tributary/kafka';
import { uniqueName } from '@tributary/testkit';

/**
 * Every record of `tributary.pipelines` (not only the latest per key: nothing is compacted
 * in a test's time), by key, in offset order: the value's version, or null for a tombstone.
 */
export async function allPipelineRecords(brokers: readonly string[]): Promise<Map<string, Array<number | null>>> {
  const kafka = createKafka({ brokers: [...brokers], clientId: 'operator-test-reader' }, pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(PIPELINES_TOPIC);
  await admin.disconnect();
  const remaining = new Map(offsets.filter((o) => o.high !== o.low).map((o) => [o.partition, Number(o.high)]));
  const records = new Map<string, Array<number | null>>();
  const consumer = kafka.consumer({ groupId: uniqueName('pipelines-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: PIPELINES_TOPIC, fromBeginning: true });
  await new Promise<void>((resolve) => {
    if (remaining.size === 0) return resolve();
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = String(message.key);
        const list = records.get(key) ?? [];
        list.push(message.value === null ? null : (JSON.parse(String(message.value)) as { version: number }).version);
        records.set(key, list);
        if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      },
    });
  });
  await consumer.disconnect();
  return records;
}

/** The records of one key, as `allPipelineRecords` reads them. */
export async function pipelineRecords(brokers: readonly string[], key: string): Promise<Array<number | null>> {
  return (await allPipelineRecords(brokers)).get(key) ?? [];
}

/**
 * Records per second of one compiled pipeline on one core, over realistic container log
 * lines (JSON from a web service: timestamps with nanoseconds, levels, request fields, a
 * password now and then, a card number in some messages).
 *
 *   npx tsx bench/pipeline.ts [records=1000000]
 *
 * Target (issue 4): ≥ 500 000 records/s for json + timestamp + level + filter + rename + redact.
 */
import { checkManifests, serializeDocument, type PipelineInput } from '@tributary/pipeline';
import { benchManifest } from './manifest.js';

const MANIFEST = benchManifest('payments');

const records = Number(process.argv[2] ?? 1_000_000);
const { pipelines, errors } = checkManifests(MANIFEST, { file: 'bench' });
if (errors.length > 0 || !pipelines[0]) throw new Error(`bench manifest rejected: ${JSON.stringify(errors)}`);
const program = pipelines[0].program;

const levels = ['info', 'info', 'info', 'info', 'warn', 'error', 'debug', 'info'];
const paths = ['/api/cart', '/api/checkout', '/api/orders/42', '/healthz'];
const lines: PipelineInput[] = Array.from({ length: 1024 }, (_, i) => {
  const line: Record<string, unknown> = {
    time: `2026-11-25T10:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}.${String(123456789 + i).slice(0, 9)}Z`,
    level: levels[i % levels.length],
    msg: i % 16 === 0 ? `payment with card 4111 1111 1111 1111 declined for order ${i}` : `handled request ${paths[i % paths.length]}`,
    method: 'POST',
    path: paths[i % paths.length],
    status: i % 10 === 0 ? 500 : 200,
    duration_ms: (i * 13) % 250,
    trace_id: `4bf92f3577b34da6a3ce929d0e0e${String(i).padStart(4, '0')}`,
  };
  if (i % 32 === 0) line['password'] = 'hunter2';
  return {
    message: JSON.stringify(line),
    time: '2026-11-25T10:00:00.000000001Z',
    stream: 'stdout',
    kubernetes: { namespace: 'payments', pod: `checkout-api-7f9c-${i % 3}`, container: 'api' },
  };
});

function measure(serialize: boolean): { rate: number; seconds: number; bytes: number; counts: Record<string, number> } {
  const counts = { document: 0, drop: 0, deadLetter: 0 };
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < records; i++) {
    const outcome = program.run(lines[i % lines.length] as PipelineInput);
    counts[outcome.kind]++;
    if (serialize && outcome.kind === 'document') {
      const encoded = serializeDocument(outcome.document);
      if (encoded.ok) bytes += encoded.body.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rate: records / seconds, seconds, bytes, counts };
}

// Warm up the JIT, then measure the pipeline alone, then with the JSON each document
// becomes for Elasticsearch (the writer's work, shown for the whole picture).
measure(true);
const run = measure(false);
const withJson = measure(true);
const format = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`pipeline: json + timestamp + level + drop + rename + redact + dated index, ${records} records on one core`);
console.log(`  pipeline alone:        ${format(run.rate)} records/s  (${run.seconds.toFixed(2)} s)`);
console.log(`  + document JSON:       ${format(withJson.rate)} records/s  (${(withJson.bytes / withJson.seconds / 1e6).toFixed(0)} MB/s of documents)`);
console.log(`  outcomes: ${run.counts['document']} documents, ${run.counts['drop']} dropped, ${run.counts['deadLetter']} dead letters`);
console.log(`  target ≥ 500,000 records/s (pipeline alone): ${run.rate >= 500_000 ? 'met' : 'NOT met'}`);

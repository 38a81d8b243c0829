/**
 * Fairness under a flood (the scenario of bench/fairness-scenario.ts): one tenant floods the
 * processor with an expensive pipeline while another sends a trickle of 100 records at
 * 10/s. Prints the trickle's produce → stored and → searchable latencies, the flood's rate,
 * and the flood documents indexed ahead of the trickle's p99 record, for `runs` scenarios
 * with the processor's fairness on and then one with it off, and checks the target:
 * the trickle's searchable p99 ≤ 5 s on these shared 2 cores (docs/processor.md).
 *
 *   npx tsx bench/fairness.ts [runs=3] [--no-compare]
 *
 * Starts the engines (or uses KAFKA_BROKERS, ELASTICSEARCH_URL, SCHEMA_REGISTRY_URL) and
 * stops them at the end. The first run warms Elasticsearch's JIT, so it is slower.
 */
import { startEngines } from '@tributary/testkit';
import { FAIRNESS_OFF, fairnessScenario, floodDocumentsAhead, ms, type ScenarioResult } from './fairness-scenario.js';

/** The trickle's searchable p99 under the flood, ms: 2 s without contention (the issue), 5 s with it. */
const TARGET_P99_MS = 5000;
const args = process.argv.slice(2);
const runs = Number(args.find((a) => !a.startsWith('--')) ?? 3);
const compare = !args.includes('--no-compare');
if (!Number.isSafeInteger(runs) || runs < 1 || args.some((a) => a.startsWith('--') && a !== '--no-compare')) {
  console.error(`usage: npx tsx bench/fairness.ts [runs=3] [--no-compare]  (got ${args.join(' ')})`);
  process.exit(2);
}
const verbose = process.env['FAIRNESS_VERBOSE'] === '1';
const say = (message: string): void => console.log(message);

const engines = await startEngines();
let missed = 0;
try {
  const at = { brokers: engines.kafka.brokers, elasticsearchUrl: engines.elasticsearch.url, schemaRegistryUrl: engines.schemaRegistry.url };
  const line = (label: string, r: ScenarioResult): string =>
    `${label.padEnd(14)} searchable p50 ${ms(r.searchable.p50)}, p99 ${ms(r.searchable.p99)}, max ${ms(r.searchable.max)}; ` +
    `stored p99 ${ms(r.stored.p99)}; flood ${Math.round(r.floodRate)} docs/s; ${Math.round(floodDocumentsAhead(r))} flood documents ahead of the p99; ` +
    `${r.searchable.missing.length} never seen`;
  const results: string[] = [];
  for (let i = 1; i <= runs; i++) {
    const r = await fairnessScenario(at, `fair ${i}`, {}, verbose ? say : () => undefined);
    const met = r.searchable.missing.length === 0 && r.searchable.p99 <= TARGET_P99_MS;
    if (!met) missed++;
    results.push(`${line(`fair ${i}`, r)} ${met ? '(target met)' : `(target of ${TARGET_P99_MS} ms missed)`}`);
    say(results.at(-1) as string);
  }
  if (compare) {
    const r = await fairnessScenario(at, 'fairness off', FAIRNESS_OFF, verbose ? say : () => undefined);
    results.push(line('fairness off', r));
    say(results.at(-1) as string);
  }
  say(`\ntarget: the trickle's searchable p99 ≤ ${TARGET_P99_MS} ms under the flood; met in ${runs - missed} of ${runs} runs`);
} finally {
  await engines.stop();
}
process.exitCode = missed === 0 ? 0 : 1;

/**
 * deploy/prometheus: the alert rules pass `promtool check rules`, every alert is unit-tested
 * by `promtool test rules` (firing on its failure, silent before its `for` and on a healthy
 * pipeline), every metric they name is one a service really exports, and every alert has its
 * runbook section. promtool is Debian's `prometheus` package (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ControlPlaneMetrics } from '@tributary/control-plane';
import { ForwarderMetrics } from '@tributary/forwarder';
import { NotifierMetrics } from '@tributary/notifier';
import { OperatorMetrics } from '@tributary/operator';
import { ProcessorMetrics } from '@tributary/processor';

const dir = join(import.meta.dirname, '..', 'deploy', 'prometheus');
const rulesFile = join(dir, 'tributary-rules.yaml');
const testsFile = join(dir, 'tests', 'tributary-rules.test.yaml');
type Rule = { alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);

const promtool = (...args: string[]): string => execFileSync('promtool', args, { encoding: 'utf8', cwd: dir });

test('promtool checks the rules', () => {
  assert.match(promtool('check', 'rules', rulesFile), new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool runs the rules\' unit tests, and every alert has one that fires it', () => {
  assert.match(promtool('test', 'rules', testsFile), /SUCCESS/);
  const tests = (parse(readFileSync(testsFile, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> }).tests;
  const fired = new Set(tests.flatMap((t) => t.alert_rule_test.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname)));
  assert.deepEqual([...fired].sort(), alerts.map((a) => a.alert).sort());
});

test('every alert has a severity, a summary, a description and its runbook section; tenant alerts name the tenant', () => {
  const runbook = readFileSync(join(import.meta.dirname, '..', 'docs', 'runbook.md'), 'utf8');
  for (const alert of alerts) {
    assert.ok(['critical', 'warning', 'info'].includes(alert.labels?.['severity'] ?? ''), `${alert.alert}: severity`);
    assert.ok(alert.annotations?.['summary'] && alert.annotations['description'], `${alert.alert}: summary and description`);
    assert.equal(alert.annotations?.['runbook_url'], `docs/runbook.md#${alert.alert.toLowerCase()}`);
    assert.match(runbook, new RegExp(`^## ${alert.alert}$`, 'm'), `${alert.alert}: a runbook section`);
    if (/by \(tenant/.test(alert.expr) || alert.expr.includes('tributary:processor_lag')) assert.match(alert.annotations?.['summary'] ?? '', /\{\{ \$labels\.tenant \}\}/, `${alert.alert} names the tenant`);
  }
});

test('every metric the rules read is one a service exports', async () => {
  const exported = new Set<string>(['up']);
  for (const metrics of [new ControlPlaneMetrics(), new ForwarderMetrics(), new NotifierMetrics(), new OperatorMetrics(), new ProcessorMetrics()]) {
    for (const metric of await metrics.registry.getMetricsAsJSON()) exported.add(metric.name);
  }
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
  for (const rule of rules) {
    for (const name of rule.expr.match(/\b(?:tributary_[a-z_]+|process_[a-z_]+)\b/g) ?? []) {
      assert.ok(exported.has(name), `${rule.alert ?? rule.record}: ${name} is exported by a service`);
    }
    for (const name of rule.expr.match(/\btributary:[a-z_:0-9]+/g) ?? []) assert.ok(recorded.has(name), `${name} is a recording rule here`);
  }
});

/**
 * The Grafana dashboards and the PrometheusRule are generated (scripts/monitoring.ts, `npm
 * run generate:monitoring`); the files in deploy/ must be what the generator writes, and
 * each dashboard must hold together as Grafana reads it. Their queries are run against a
 * real Prometheus in test/dashboards-e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardJson, dashboards, prometheusRuleYaml } from '../scripts/monitoring.js';

const deploy = join(import.meta.dirname, '..', 'deploy');

test('deploy/grafana/*.json and deploy/prometheus/prometheus-rule.yaml are what `npm run generate:monitoring` writes', () => {
  for (const { file, dashboard } of dashboards()) {
    assert.equal(readFileSync(join(deploy, 'grafana', file), 'utf8'), dashboardJson(dashboard), `deploy/grafana/${file} is stale: run npm run generate:monitoring`);
  }
  const rules = readFileSync(join(deploy, 'prometheus', 'tributary-rules.yaml'), 'utf8');
  assert.equal(readFileSync(join(deploy, 'prometheus', 'prometheus-rule.yaml'), 'utf8'), prometheusRuleYaml(rules), 'prometheus-rule.yaml is stale: run npm run generate:monitoring');
});

test('each dashboard has a unique uid, unique panel ids, a Prometheus data source variable every query uses, and a query in every panel', () => {
  const uids = new Set<string>();
  for (const { file, dashboard } of dashboards()) {
    assert.ok(dashboard.uid && !uids.has(dashboard.uid), `${file}: a unique uid`);
    uids.add(dashboard.uid);
    const variables = dashboard.templating?.list ?? [];
    assert.ok(variables.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'), `${file}: a Prometheus data source variable`);
    const panels = dashboard.panels ?? [];
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
    for (const panel of panels) {
      if (panel.type === 'row') continue;
      const p = panel as { title?: string; description?: string; datasource?: { uid?: string }; targets?: Array<{ expr?: string; refId?: string; datasource?: { uid?: string } }> };
      assert.ok(p.title && p.description, `${file}: every panel has a title and a description`);
      assert.equal(p.datasource?.uid, '${datasource}', `${file} "${p.title}": the data source variable`);
      assert.ok((p.targets ?? []).length > 0, `${file} "${p.title}": has a query`);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${file} "${p.title}": unique refIds`);
      for (const t of p.targets ?? []) {
        assert.ok(t.expr, `${file} "${p.title}": an expression`);
        assert.equal(t.datasource?.uid, '${datasource}', `${file} "${p.title}": the query reads the data source variable`);
      }
    }
  }
});

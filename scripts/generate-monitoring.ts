/**
 * `npm run generate:monitoring`: writes deploy/grafana/*.json (the dashboards) and
 * deploy/prometheus/prometheus-rule.yaml (the rules as a PrometheusRule) from
 * scripts/monitoring.ts and deploy/prometheus/tributary-rules.yaml.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardJson, dashboards, prometheusRuleYaml } from './monitoring.js';

const deploy = join(import.meta.dirname, '..', 'deploy');
const write = (path: string, text: string): void => {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
};
for (const { file, dashboard } of dashboards()) write(join(deploy, 'grafana', file), dashboardJson(dashboard));
write(join(deploy, 'prometheus', 'prometheus-rule.yaml'), prometheusRuleYaml(readFileSync(join(deploy, 'prometheus', 'tributary-rules.yaml'), 'utf8')));

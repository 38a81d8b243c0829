/**
 * Tributary's Grafana dashboards, as code: `npm run generate:monitoring` writes them to
 * deploy/grafana/*.json, test/dashboards.test.ts fails when the files drift from this, and
 * test/dashboards-e2e.test.ts runs every query against a real Prometheus scraping the real
 * services. Built with Grafana's own foundation SDK so field names and enums are Grafana's.
 */
import { parse, stringify } from 'yaml';
import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel and query reads the Prometheus the `datasource` variable picks. */
const datasource = { type: 'prometheus', uid: '${datasource}' };

const RECORDS_PER_SECOND = 'suffix: rec/s';

interface Query {
  readonly expr: string;
  readonly legend: string;
}

const q = (expr: string, legend = ''): Query => ({ expr, legend });

function target(query: Query, refId: string, instant = false): DataqueryBuilder {
  const builder = new DataqueryBuilder().datasource(datasource).expr(query.expr).legendFormat(query.legend || '__auto').refId(refId);
  return instant ? builder.instant() : builder.range();
}

function timeseries(title: string, description: string, unit: string, queries: readonly Query[], width = 8): TimeseriesBuilder {
  const panel = new TimeseriesBuilder().title(title).description(description).datasource(datasource).unit(unit).min(0).fillOpacity(10).height(8).span(width);
  queries.forEach((query, i) => panel.withTarget(target(query, String.fromCharCode(65 + i))));
  return panel;
}

function stat(title: string, description: string, unit: string, query: Query, width = 6): StatBuilder {
  return new StatBuilder().title(title).description(description).datasource(datasource).unit(unit).height(4).span(width).reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull'])).withTarget(target(query, 'A', true));
}

function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');
}

/** A tenant's consumer lag is per partition of logs.<tenant>; this gives it a `tenant` label. */
const LAG_BY_TENANT = String.raw`sum by (tenant) (label_replace(tributary_processor_consumer_lag{topic=~"logs\\..+"}, "tenant", "$1", "topic", "logs\\.(.+)"))`;
/** Default process metrics carry each service's prefix (tributary_processor_process_…). */
const processMetric = (name: string) => String.raw`{__name__=~"tributary_[a-z_]+_${name}", job=~"tributary-.*"}`;

/** The pipeline overview: every component and tenant on one page. */
export function overviewDashboard(): Dashboard {
  return new DashboardBuilder('Tributary / Overview')
    .uid('tributary-overview')
    .description('The shared log pipeline: components, records in and out per tenant, consumer lag, Elasticsearch bulks, forwarder spools, notifications and pipeline changes. Alerts: deploy/prometheus; runbook: docs/runbook.md.')
    .tags(['tributary'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(datasourceVariable())
    .withRow(new RowBuilder('Components'))
    .withPanel(stat('Up', 'Targets answering the scrape, per component (up == 1)', 'short', q('sum by (job) (up{job=~"tributary-.*"})', '{{job}}'), 8))
    .withPanel(stat('Restarts in the last hour', 'Process starts per component: a crash loop shows here before it shows anywhere else', 'short', q(`sum by (job) (changes(${processMetric('process_start_time_seconds')}[1h]))`, '{{job}}'), 8))
    .withPanel(timeseries('Resident memory', 'RSS of every Tributary process', 'bytes', [q(`sum by (job, instance) (${processMetric('process_resident_memory_bytes')})`, '{{job}} {{instance}}')]))
    .withRow(new RowBuilder('Records'))
    .withPanel(timeseries('Shipped by forwarders', 'Records Kafka acknowledged from the forwarders, per tenant (SDK producers not included)', RECORDS_PER_SECOND, [q('sum by (tenant) (rate(tributary_forwarder_records_produced_total[$__rate_interval]))', '{{tenant}}')], 6))
    .withPanel(timeseries('Processed', 'Records the processors fetched from logs.<tenant>', RECORDS_PER_SECOND, [q('sum by (tenant) (rate(tributary_processor_records_in_total[$__rate_interval]))', '{{tenant}}')], 6))
    .withPanel(timeseries('Settled, by outcome', 'indexed, duplicate (already stored), dropped (by the pipeline), dead_lettered', RECORDS_PER_SECOND, [q('sum by (outcome) (rate(tributary_processor_records_out_total[$__rate_interval]))', '{{outcome}}')], 6))
    .withPanel(timeseries('Dead-lettered', 'Records written to dlq.<tenant>, per tenant and class (decode, parse, schema, budget, mapping, rejected)', RECORDS_PER_SECOND, [q('sum by (tenant, class) (rate(tributary_processor_dead_letters_total[$__rate_interval]))', '{{tenant}} {{class}}')], 6))
    .withRow(new RowBuilder('Consumer lag'))
    .withPanel(timeseries('Processor lag, per tenant', 'Records in logs.<tenant> not yet processed and committed', 'short', [q(LAG_BY_TENANT, '{{tenant}}')]))
    .withPanel(timeseries('Time to drain, per tenant', 'Lag divided by the rate records are settled (5 min): how long until the processors catch up at today’s pace', 's', [q(`${LAG_BY_TENANT} / clamp_min(sum by (tenant) (rate(tributary_processor_records_out_total[5m])), 0.001)`, '{{tenant}}')]))
    .withPanel(timeseries('Notifier lag, per tenant', 'Dead letters in dlq.<tenant> the notifier has not read yet', 'short', [q('sum by (tenant) (tributary_notifier_consumer_lag)', '{{tenant}}')]))
    .withRow(new RowBuilder('Elasticsearch'))
    .withPanel(timeseries('Bulk latency', 'Duration of _bulk requests (failed ones included), 50th and 99th percentile', 's', [
      q('histogram_quantile(0.5, sum by (le) (rate(tributary_processor_bulk_duration_seconds_bucket[$__rate_interval])))', 'p50'),
      q('histogram_quantile(0.99, sum by (le) (rate(tributary_processor_bulk_duration_seconds_bucket[$__rate_interval])))', 'p99'),
    ], 6))
    .withPanel(timeseries('Documents per bulk', 'Average documents in one _bulk request: low under load means the processors are not batching', 'short', [q('sum(rate(tributary_processor_bulk_documents_sum[$__rate_interval])) / sum(rate(tributary_processor_bulk_documents_count[$__rate_interval]))', 'documents')], 6))
    .withPanel(timeseries('Retries, by kind', 'Waits before another attempt: bulk (Elasticsearch refused or away), decode (schema registry away), dead_letter (Kafka refused dead letters)', 'ops', [q('sum by (kind) (rate(tributary_processor_retries_total[$__rate_interval]))', '{{kind}}')], 6))
    .withPanel(timeseries('Backpressure', 'Partitions paused (their bytes in flight at the limit) or waiting (the process at its limit, or the schema registry away)', 'short', [
      q('sum(tributary_processor_paused_partitions)', 'paused'),
      q('sum(tributary_processor_waiting_partitions)', 'waiting'),
    ], 6))
    .withRow(new RowBuilder('Forwarders'))
    .withPanel(timeseries('Spool use', 'Share of each forwarder’s spool (--spool-max-bytes) holding records Kafka has not taken; at 100 % the forwarder stops reading', 'percentunit', [q('sum by (instance) (tributary_forwarder_spool_bytes) / on (instance) max by (instance) (tributary_forwarder_spool_limit_bytes)', '{{instance}}')], 6))
    .withPanel(timeseries('Oldest spooled record', 'Age of the oldest record waiting in a spool, per forwarder and tenant', 's', [q('max by (instance, tenant) (tributary_forwarder_spool_oldest_age_seconds)', '{{instance}} {{tenant}}')], 6))
    .withPanel(timeseries('Not yet shipped', 'Bytes of followed files neither acknowledged by Kafka nor spooled', 'bytes', [q('sum by (instance) (tributary_forwarder_unacknowledged_bytes)', '{{instance}}')], 6))
    .withPanel(timeseries('Produce errors', 'Produce requests that failed and will be retried (a tenant topic missing, Kafka away)', 'ops', [q('sum by (instance, tenant) (rate(tributary_forwarder_produce_errors_total[$__rate_interval]))', '{{instance}} {{tenant}}')], 6))
    .withRow(new RowBuilder('Notifications'))
    .withPanel(timeseries('Notifications, by outcome', 'Dead-letter notifications per channel: delivered, failed, suppressed', 'ops', [q('sum by (channel, outcome) (rate(tributary_notifier_notifications_total[$__rate_interval]))', '{{channel}} {{outcome}}')]))
    .withPanel(timeseries('Delivery latency', '99th percentile of one delivery attempt, per channel', 's', [q('histogram_quantile(0.99, sum by (le, channel) (rate(tributary_notifier_delivery_seconds_bucket[$__rate_interval])))', '{{channel}}')]))
    .withPanel(timeseries('Dead letters awaiting notification', 'Dead letters read and not yet in a delivered notification, per tenant', 'short', [q('sum by (tenant) (tributary_notifier_pending_dead_letters)', '{{tenant}}')]))
    .withRow(new RowBuilder('Pipeline changes'))
    .withPanel(timeseries('Applies, by outcome', 'LoggingPipeline applies the control plane answered: created, updated, unchanged, rejected, conflict', 'short', [q('sum by (outcome) (increase(tributary_control_plane_applies_total[$__rate_interval]))', '{{outcome}}')]))
    .withPanel(timeseries('Processor reloads, by outcome', 'Pipeline records the processors took in: applied, deleted, rejected (the last good version stays)', 'short', [q('sum by (outcome) (increase(tributary_processor_pipeline_reloads_total[$__rate_interval]))', '{{outcome}}')]))
    .withPanel(timeseries('Operator', 'LoggingPipeline reconciles per outcome, and resources waiting in the queue', 'short', [
      q('sum by (outcome) (rate(tributary_operator_reconciles_total[$__rate_interval]))', 'reconciles {{outcome}}'),
      q('sum(tributary_operator_queue_depth)', 'queued'),
    ]))
    .build();
}

/** One tenant's pipeline, end to end: pick the tenant (a namespace) at the top. */
export function tenantDashboard(): Dashboard {
  const t = '{tenant="$tenant"}';
  const topic = '{topic="logs.$tenant"}';
  return new DashboardBuilder('Tributary / Tenant')
    .uid('tributary-tenant')
    .description('One tenant’s logs through Tributary: forwarders, processing, dead letters, lag, spool, notifications and pipeline applies.')
    .tags(['tributary'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(datasourceVariable())
    .withVariable(
      new QueryVariableBuilder('tenant')
        .label('Tenant')
        .description('A tenant: a Kubernetes namespace with logs.<tenant> in Kafka')
        .datasource(datasource)
        .query({ query: 'label_values(tributary_processor_records_in_total, tenant)', refId: 'tenant' })
        .definition('label_values(tributary_processor_records_in_total, tenant)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .withRow(new RowBuilder('Now'))
    .withPanel(stat('Processed', 'Records fetched from logs.$tenant, last 5 minutes', RECORDS_PER_SECOND, q(`sum(rate(tributary_processor_records_in_total${t}[5m]))`), 4))
    .withPanel(stat('Indexed', 'Records stored in Elasticsearch, last 5 minutes', RECORDS_PER_SECOND, q(`sum(rate(tributary_processor_records_out_total{tenant="$tenant", outcome="indexed"}[5m]))`), 4))
    .withPanel(stat('Dead-lettered in the last hour', 'Records written to dlq.$tenant', 'short', q(`sum(increase(tributary_processor_dead_letters_total${t}[1h]))`), 4))
    .withPanel(stat('Lag', 'Records in logs.$tenant not yet processed', 'short', q(`sum(tributary_processor_consumer_lag${topic})`), 4))
    .withPanel(stat('Pipeline versions in force', 'The version of each of the tenant’s pipelines the processors run', 'none', q(`max by (pipeline) (tributary_processor_pipeline_version${t})`, '{{pipeline}}'), 8))
    .withRow(new RowBuilder('Flow'))
    .withPanel(timeseries('Read by forwarders', 'Lines read from the tenant’s container log files, per node', RECORDS_PER_SECOND, [q(`sum by (instance) (rate(tributary_forwarder_lines_read_total${t}[$__rate_interval]))`, '{{instance}}')], 6))
    .withPanel(timeseries('Shipped into Kafka', 'Records Kafka acknowledged from the forwarders', RECORDS_PER_SECOND, [q(`sum(rate(tributary_forwarder_records_produced_total${t}[$__rate_interval]))`, 'shipped')], 6))
    .withPanel(timeseries('Settled, by outcome', 'indexed, duplicate, dropped (by the pipeline), dead_lettered', RECORDS_PER_SECOND, [q(`sum by (outcome) (rate(tributary_processor_records_out_total${t}[$__rate_interval]))`, '{{outcome}}')], 6))
    .withPanel(timeseries('Dead letters, by class', 'Why records went to dlq.$tenant: decode, parse, schema, budget, mapping, rejected', RECORDS_PER_SECOND, [q(`sum by (class) (rate(tributary_processor_dead_letters_total${t}[$__rate_interval]))`, '{{class}}')], 6))
    .withRow(new RowBuilder('Lag'))
    .withPanel(timeseries('Lag, by partition', 'Records not yet processed in each partition of logs.$tenant: one hot partition means one hot stream key', 'short', [q(`sum by (partition) (tributary_processor_consumer_lag${topic})`, 'partition {{partition}}')], 12))
    .withPanel(timeseries('Time to drain', 'Lag divided by the rate records are settled (5 min)', 's', [q(`sum(tributary_processor_consumer_lag${topic}) / clamp_min(sum(rate(tributary_processor_records_out_total${t}[5m])), 0.001)`, 'time to drain')], 12))
    .withRow(new RowBuilder('Forwarders'))
    .withPanel(timeseries('Spooled', 'Bytes of the tenant’s records waiting in a forwarder’s spool for Kafka', 'bytes', [q(`max by (instance) (tributary_forwarder_spool_bytes${t})`, '{{instance}}')]))
    .withPanel(timeseries('Oldest spooled record', 'Age of the oldest of the tenant’s records in a spool', 's', [q(`max by (instance) (tributary_forwarder_spool_oldest_age_seconds${t})`, '{{instance}}')]))
    .withPanel(timeseries('Lines the runtime or the limits cut', 'Lines split by the runtime and joined again, pieces of lines over --max-line-bytes, and lines not in their file’s format', RECORDS_PER_SECOND, [
      q(`sum(rate(tributary_forwarder_partial_lines_reassembled_total${t}[$__rate_interval]))`, 'reassembled'),
      q(`sum(rate(tributary_forwarder_oversized_line_pieces_total${t}[$__rate_interval]))`, 'oversized pieces'),
      q(`sum(rate(tributary_forwarder_unparsable_lines_total${t}[$__rate_interval]))`, 'unparsable'),
    ]))
    .withRow(new RowBuilder('Notifications and pipeline applies'))
    .withPanel(timeseries('Notifications', 'Dead-letter notifications to the tenant’s channels, by outcome', 'ops', [q(`sum by (channel, outcome) (rate(tributary_notifier_notifications_total${t}[$__rate_interval]))`, '{{channel}} {{outcome}}')]))
    .withPanel(timeseries('Dead letters awaiting notification', 'Read from dlq.$tenant and not yet in a delivered notification', 'short', [q(`sum(tributary_notifier_pending_dead_letters${t})`, 'pending')]))
    .withPanel(timeseries('Applies', 'The tenant’s LoggingPipeline applies, by outcome, and the validation errors of rejected ones, by class', 'short', [
      q(`sum by (outcome) (increase(tributary_control_plane_applies_total${t}[$__rate_interval]))`, '{{outcome}}'),
      q(`sum by (class) (increase(tributary_control_plane_validation_errors_total${t}[$__rate_interval]))`, 'error: {{class}}'),
    ]))
    .build();
}

/** The dashboards and the file each is written to under deploy/grafana/. */
export function dashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return [
    { file: 'tributary-overview.json', dashboard: finished(overviewDashboard()) },
    { file: 'tributary-tenant.json', dashboard: finished(tenantDashboard()) },
  ];
}

/**
 * What the builder leaves to Grafana's import and a file provisioner does not fix: panel ids
 * unique within the dashboard (links and `viewPanel` use them) and an annotation list.
 */
function finished(dashboard: Dashboard): Dashboard {
  (dashboard.panels ?? []).forEach((panel, i) => {
    panel.id = i + 1;
  });
  return { ...dashboard, annotations: { list: [] } };
}

/** The file's text: stable, two-space JSON with a final newline. */
export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

/**
 * deploy/prometheus/tributary-rules.yaml as a PrometheusRule, for clusters where the
 * Prometheus Operator loads rules: the same groups, so the rules promtool tests are the
 * rules that run.
 */
export function prometheusRuleYaml(rulesText: string): string {
  const rules = parse(rulesText) as { groups: unknown[] };
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'tributary', labels: { 'app.kubernetes.io/name': 'tributary', 'app.kubernetes.io/part-of': 'tributary' } },
    spec: { groups: rules.groups },
  };
  return `# Generated from tributary-rules.yaml by \`npm run generate:monitoring\`: edit that file, not this one.\n${stringify(resource, { lineWidth: 0 })}`;
}

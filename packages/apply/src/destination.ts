import { randomBytes } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { Admin } from 'kafkajs';
import { clusterHealth } from '@tributary/elasticsearch';
import { ensureTopics, tenantTopics, type TenantTopicOptions } from '@tributary/kafka';
import { formatPath, notificationTargets, serializeDocument, type CheckedPipeline, type ManifestError } from '@tributary/pipeline';
import { checkWebhookUrl, type AddressPolicy } from '@tributary/notify';
import { tenantNames } from '@tributary/tenant';

export interface DestinationOptions {
  readonly elasticsearch: Client;
  readonly admin: Admin;
  readonly topics: TenantTopicOptions;
  /** Which addresses dead-letter webhooks may point at. */
  readonly notify: AddressPolicy;
}

/**
 * The checks that need the real destinations: every dead-letter webhook points outside the
 * cluster and the node (or where the platform's allowlist admits; no request is made to
 * it, only its name resolved); Elasticsearch answers; the documents the
 * manifest's tests produce are accepted by the index they go to (written to a scratch
 * index carrying the real index's mappings, then deleted, so a mapping conflict shows up
 * now rather than as dead letters later); the tenant's topics exist.
 */
export function destinationChecker(options: DestinationOptions): (pipeline: CheckedPipeline) => Promise<ManifestError[]> {
  return async (pipeline) => {
    const tenant = pipeline.loaded.manifest.metadata.namespace;
    const at = (segments: Array<string | number>) => pipeline.loaded.locate(segments) ?? {};
    const output = pipeline.loaded.manifest.spec.output ? ['spec', 'output', 'elasticsearch', 'index'] : ['metadata', 'name'];
    const webhookErrors = await webhookUrlErrors(pipeline, options.notify);
    if (webhookErrors.length > 0) return webhookErrors;
    try {
      await clusterHealth(options.elasticsearch, 5000);
    } catch (err) {
      return [{ ...at(output), path: output.join('.'), reason: `Elasticsearch did not answer: ${(err as Error).message}` }];
    }
    const errors = await checkTestDocuments(options.elasticsearch, pipeline, tenant);
    try {
      await ensureTopics(options.admin, tenantTopics(tenant, options.topics));
    } catch (err) {
      errors.push({ ...at(['metadata', 'namespace']), path: 'metadata.namespace', reason: `could not create the tenant's topics: ${(err as Error).message}` });
    }
    return errors;
  };
}

async function webhookUrlErrors(pipeline: CheckedPipeline, policy: AddressPolicy): Promise<ManifestError[]> {
  const targets = notificationTargets(pipeline.loaded.manifest);
  const checked = await Promise.all(targets.map((t) => checkWebhookUrl(t.url, policy)));
  const errors: ManifestError[] = [];
  checked.forEach((result, i) => {
    const target = targets[i];
    if (result.ok || !target) return;
    errors.push({ ...(pipeline.loaded.locate(target.urlPath) ?? {}), path: formatPath(target.urlPath), reason: `notifications can't be sent there: ${result.reason}` });
  });
  return errors;
}

async function checkTestDocuments(es: Client, pipeline: CheckedPipeline, tenant: string): Promise<ManifestError[]> {
  const tests = pipeline.loaded.manifest.spec.tests ?? [];
  const documents: Array<{ test: number; index: string; body: string }> = [];
  tests.forEach((test, i) => {
    const outcome = pipeline.program.run(test.input as { message: string });
    if (outcome.kind !== 'document') return;
    const encoded = serializeDocument(outcome.document);
    if (encoded.ok) documents.push({ test: i, index: outcome.index, body: encoded.body });
  });
  if (documents.length === 0) return [];
  const scratch = `${tenantNames(tenant).indexPrefix}tributary-check-${randomBytes(4).toString('hex')}`;
  const targets = [...new Set(documents.map((d) => d.index))];
  const errors: ManifestError[] = [];
  for (const target of targets) {
    const mappings = await es.indices.getMapping({ index: target }).then(
      (response) => Object.values(response)[0]?.mappings,
      () => undefined, // the index doesn't exist yet: dynamic mapping decides
    );
    await es.indices.create({ index: scratch, mappings, settings: { number_of_shards: 1, number_of_replicas: 0 } });
    try {
      const batch = documents.filter((d) => d.index === target);
      const result = await es.bulk({ operations: batch.flatMap((d) => [{ create: { _index: scratch } }, JSON.parse(d.body) as object]) });
      result.items.forEach((item, i) => {
        const error = item.create?.error;
        const document = batch[i];
        if (!error || !document) return;
        errors.push({
          ...(pipeline.loaded.locate(['spec', 'tests', document.test]) ?? {}),
          path: `spec.tests[${document.test}]`,
          reason: `its document would be rejected by ${target}: ${error.type}: ${error.reason ?? ''}`.trim(),
        });
      });
    } finally {
      await es.indices.delete({ index: scratch }).catch(() => undefined);
    }
  }
  return errors;
}

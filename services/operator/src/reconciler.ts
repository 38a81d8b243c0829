import type { Logger } from 'pino';
import { applyManifest, deletePipeline, type PipelineStore } from '@tributary/apply';
import type { LoggingPipelineApi } from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import { alreadyAccepted, desiredStatus, FINALIZER, manifestText, statusDiffers, type LoggingPipelineResource, type Outcome } from './resource.js';

export interface ReconcilerDeps {
  readonly store: PipelineStore;
  readonly api: LoggingPipelineApi;
  /** The latest state of a resource, from the watch's cache. */
  readonly current: (key: string) => LoggingPipelineResource | undefined;
  /** The last state of a resource the watch saw deleted, if any (taken once). */
  readonly takeGone: (key: string) => LoggingPipelineResource | undefined;
  readonly metrics: OperatorMetrics;
  readonly logger: Logger;
  /** A refusal by the destination check (Elasticsearch down, say) is tried again after this; default 30 s. */
  readonly destinationRetryMs?: number;
  readonly now?: () => Date;
}

/**
 * One pass over one resource, idempotent: what it publishes depends only on the resource
 * and on `tributary.pipelines`, so any number of passes, by any number of operators, end
 * in the same state. Versions come from the compacted topic, and a version the topic holds
 * already is ignored by every reader, so two operators publishing the same change at once
 * make one version, not two.
 */
export class Reconciler {
  /**
   * What this operator last wrote per key: the watch's cache can lag its own writes by an
   * event or two, and without this the next pass would take its stale copy for news.
   */
  private readonly written = new Map<string, { readonly uid: string | undefined; readonly generation: number | undefined; readonly version: number | undefined; readonly accepted: boolean }>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /** Reconciles `key`; returns a delay when it should be looked at again; throws to be retried with backoff. */
  async reconcile(key: string): Promise<number | void> {
    const stopTimer = this.deps.metrics.reconcileSeconds.startTimer();
    try {
      const resource = this.deps.current(key);
      if (!resource) return await this.gone(key);
      if (resource.metadata.deletionTimestamp) return await this.finalize(resource);
      return await this.apply(resource);
    } catch (err) {
      this.deps.metrics.reconciles.inc({ outcome: 'error' });
      throw err;
    } finally {
      stopTimer();
    }
  }

  private async apply(found: LoggingPipelineResource): Promise<number | void> {
    const { store, api, metrics } = this.deps;
    const tenant = found.metadata.namespace ?? '';
    const name = found.metadata.name ?? '';
    const inForce = store.registry.get(tenant, name);
    // An operator restart sees every resource again: one already in force as its status says publishes nothing.
    const mine = this.written.get(`${tenant}/${name}`);
    const settledHere = mine?.uid === found.metadata.uid && mine?.generation === found.metadata.generation && mine?.version === inForce?.version;
    if (alreadyAccepted(found, inForce?.version) || (settledHere && mine?.accepted)) {
      metrics.reconciles.inc({ outcome: 'unchanged' });
      return;
    }
    // A refusal is remembered by this process only: after a restart (an upgrade, say) it is checked again.
    if (settledHere && mine?.accepted === false) {
      metrics.reconciles.inc({ outcome: 'rejected' });
      return;
    }
    // The finalizer goes on before anything is published, so no published pipeline can outlive its resource.
    const resource = found.metadata.finalizers?.includes(FINALIZER) ? found : await api.setFinalizers(found, [...(found.metadata.finalizers ?? []), FINALIZER]);

    const result = await applyManifest(store.deps, { tenant, name, text: manifestText(resource) });
    let outcome: Outcome;
    if (result.outcome === 'rejected') {
      outcome = { kind: 'rejected', stage: result.stage, errors: result.errors, inForce: store.registry.get(tenant, name)?.version };
    } else if (result.outcome === 'conflict') {
      throw new Error(`unexpected conflict at version ${result.current}`); // no expected version is sent
    } else {
      outcome = { kind: 'applied', result };
    }
    metrics.reconciles.inc({ outcome: result.outcome });
    const status = desiredStatus(resource, outcome, (this.deps.now ?? (() => new Date()))());
    if (statusDiffers(resource.status, status)) {
      await api.patchStatus(resource, status);
      if (outcome.kind === 'applied') {
        await api.event(resource, 'Normal', 'Accepted', `version ${outcome.result.version} is in force`);
      } else {
        await api.event(resource, 'Warning', 'Rejected', status.conditions?.find((c) => c.type === 'Accepted')?.message ?? 'refused');
      }
    }
    // A refusal the destination may lift later is not remembered: the next pass tries again.
    const settled = outcome.kind === 'applied' || outcome.stage === 'validation';
    if (settled) this.written.set(`${tenant}/${name}`, { uid: resource.metadata.uid, generation: resource.metadata.generation, version: status.acceptedVersion, accepted: outcome.kind === 'applied' });
    else this.written.delete(`${tenant}/${name}`);
    this.deps.logger.info({ key: `${tenant}/${name}`, generation: resource.metadata.generation, outcome: result.outcome, version: status.acceptedVersion }, 'reconciled');
    // A destination that didn't answer may answer later; a manifest that is wrong stays wrong until edited.
    if (outcome.kind === 'rejected' && outcome.stage === 'destination') return this.deps.destinationRetryMs ?? 30_000;
  }

  /** Deleting: the tombstone first (acknowledged by Kafka), then the finalizer goes and Kubernetes removes the resource. */
  private async finalize(resource: LoggingPipelineResource): Promise<void> {
    const finalizers = resource.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return;
    const tenant = resource.metadata.namespace ?? '';
    const name = resource.metadata.name ?? '';
    const deleted = await deletePipeline(this.deps.store.deps, tenant, name);
    this.written.delete(`${tenant}/${name}`);
    await this.deps.api.setFinalizers(resource, finalizers.filter((f) => f !== FINALIZER));
    this.deps.metrics.reconciles.inc({ outcome: 'deleted' });
    this.deps.logger.info({ key: `${tenant}/${name}`, tombstone: deleted }, 'pipeline deleted');
  }

  /**
   * A resource gone without passing through `finalize` (its finalizer removed by hand):
   * if the version in force is the one it had published, it is deleted now.
   */
  private async gone(key: string): Promise<void> {
    const last = this.deps.takeGone(key);
    if (!last) return;
    const tenant = last.metadata.namespace ?? '';
    const name = last.metadata.name ?? '';
    const inForce = this.deps.store.registry.get(tenant, name);
    if (inForce && inForce.version === last.status?.acceptedVersion) {
      await deletePipeline(this.deps.store.deps, tenant, name);
      this.deps.metrics.reconciles.inc({ outcome: 'deleted' });
      this.deps.logger.info({ key }, 'pipeline deleted (its resource went without the finalizer)');
    }
  }
}

export type EngineName = 'kafka' | 'elasticsearch' | 'schemaRegistry' | 'kubernetes';
/** What a process or an error is about: an engine, or a helper server the tests start on their own (Prometheus). */
export type ProcessLabel = EngineName | 'prometheus' | 'chromium';
export const ENGINE_NAMES: readonly EngineName[] = ['kafka', 'elasticsearch', 'schemaRegistry', 'kubernetes'];
/** Started unless told not to; the others (the Kubernetes API server) only when asked for. */
export const DEFAULT_ENGINES: readonly EngineName[] = ['kafka', 'elasticsearch', 'schemaRegistry'];

/** How an engine is provided: a JVM we run, a container, or one that already exists. */
export type EngineMode = 'local' | 'containers' | 'external';

export interface KafkaEndpoint {
  readonly brokers: string[];
}
export interface HttpEndpoint {
  readonly url: string;
}
export interface KubernetesEndpoint {
  /** A kubeconfig file for a client that may do everything (`KUBECONFIG`). */
  readonly kubeconfig: string;
}

/** What `status` and `npm start` print about one running engine. */
export interface EngineInfo {
  readonly name: EngineName;
  readonly mode: EngineMode;
  readonly address: string;
  readonly version?: string;
  /** The process group of a local engine; every process of it is ours to stop. */
  readonly pid?: number;
  readonly logFile?: string;
}

/** One started engine. `stop()` ends it and everything it spawned; safe to call twice. */
export interface RunningEngine {
  readonly info: EngineInfo;
  stop(): Promise<void>;
}

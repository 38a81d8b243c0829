import type { Logger } from 'pino';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { kafkaReady } from './health.js';
import { freePort } from './local/ports.js';
import { CCOMPAT_PATH } from './local/schema-registry.js';
import type { EngineName, RunningEngine } from './types.js';
import { ENGINE_IMAGES, ENGINE_VERSIONS } from './versions.js';

/**
 * The same engines as containers, for machines with a Docker engine. The images are the
 * ones docker-compose.yml uses. Not exercised on machines without Docker.
 */
export async function startContainers(names: readonly ContainerEngine[], logger: Logger, timeoutMs: number): Promise<RunningEngine[]> {
  const started: RunningEngine[] = [];
  try {
    for (const name of names) {
      const container = await START[name](timeoutMs);
      started.push(container);
      logger.info({ engine: name, address: container.info.address }, 'container started');
    }
    return started;
  } catch (err) {
    await Promise.all(started.map((engine) => engine.stop()));
    throw err;
  }
}

/** Every engine but the Kubernetes API server, which no image serves. */
export type ContainerEngine = Exclude<EngineName, 'kubernetes'>;

const START: Record<ContainerEngine, (timeoutMs: number) => Promise<RunningEngine>> = {
  async kafka(timeoutMs) {
    // Clients must reach the advertised address, so the host port is fixed and equal to
    // the container port instead of randomly mapped.
    const port = await freePort();
    const container = await new GenericContainer(ENGINE_IMAGES.kafka)
      .withExposedPorts({ container: port, host: port })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(timeoutMs)
      .start();
    const brokers = [`127.0.0.1:${port}`];
    await kafkaReady(brokers);
    return running('kafka', container, brokers.join(','), ENGINE_VERSIONS.kafka);
  },

  async elasticsearch(timeoutMs) {
    const container = await new GenericContainer(ENGINE_IMAGES.elasticsearch)
      .withExposedPorts(9200)
      .withEnvironment({
        'discovery.type': 'single-node',
        'xpack.security.enabled': 'false',
        'cluster.routing.allocation.disk.threshold_enabled': 'false',
        ES_JAVA_OPTS: '-Xms512m -Xmx512m',
      })
      .withWaitStrategy(Wait.forHttp('/_cluster/health?wait_for_status=yellow', 9200).forStatusCode(200))
      .withStartupTimeout(timeoutMs)
      .start();
    const url = `http://${container.getHost()}:${container.getMappedPort(9200)}`;
    return running('elasticsearch', container, url, ENGINE_VERSIONS.elasticsearch);
  },

  async schemaRegistry(timeoutMs) {
    const container = await new GenericContainer(ENGINE_IMAGES.schemaRegistry)
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp(`${CCOMPAT_PATH}/subjects`, 8080).forStatusCode(200))
      .withStartupTimeout(timeoutMs)
      .start();
    const url = `http://${container.getHost()}:${container.getMappedPort(8080)}${CCOMPAT_PATH}`;
    return running('schemaRegistry', container, url, ENGINE_VERSIONS.schemaRegistry);
  },
};

function running(name: EngineName, container: StartedTestContainer, address: string, version: string): RunningEngine {
  let stopping: Promise<void> | undefined;
  return {
    info: { name, mode: 'containers', address, version },
    stop: () => (stopping ??= container.stop().then(() => undefined)),
  };
}

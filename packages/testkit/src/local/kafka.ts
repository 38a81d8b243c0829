import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EngineError } from '../errors.js';
import { kafkaReady } from '../health.js';
import type { RunningEngine } from '../types.js';
import { ENGINE_VERSIONS } from '../versions.js';
import { ensureInstalled, runMaven } from './cache.js';
import { engineRunDir } from './engine-dir.js';
import { javaBin } from './java.js';
import { freePort } from './ports.js';
import { launchEngine } from './launch.js';
import { EngineProcess, type SpawnOptions } from './process.js';
import { waitUntilReady } from './wait.js';
import type { LocalContext } from './context.js';

const run = promisify(execFile);

/** Downloads Kafka and its runtime jars (once) and returns the install dir. */
export function installKafka(ctx: LocalContext): Promise<string> {
  return ensureInstalled({
    engine: 'kafka',
    name: `kafka-${ENGINE_VERSIONS.kafka}`,
    asset: 'kafka',
    cacheRoot: ctx.cacheRoot,
    logger: ctx.logger,
    install: (dir) =>
      runMaven('kafka', dir, [
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        '-DoutputDirectory=libs',
        `-Dkafka.version=${ENGINE_VERSIONS.kafka}`,
        `-Dlog4j.version=${ENGINE_VERSIONS.log4j}`,
      ]),
  });
}

interface KafkaRun {
  readonly brokers: string;
  readonly spawn: SpawnOptions & { readonly engine: 'kafka' };
  readonly remove: () => void;
}

/** Installs, writes the config of one broker + controller on free loopback ports, and formats its storage. */
async function prepareKafkaRun(ctx: LocalContext): Promise<KafkaRun> {
  const home = await installKafka(ctx);
  const [port, controllerPort] = [await freePort(), await freePort()];
  const { dir, remove } = engineRunDir('kafka');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const config = join(dir, 'server.properties');
  writeFileSync(config, serverProperties({ port, controllerPort, dataDir }));
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(log4j, LOG4J2);
  const java = javaBin(ctx.javaHome);
  const classpath = ['-cp', `${join(home, 'libs')}/*`, `-Dlog4j2.configurationFile=${log4j}`];

  // Kafka's own random-uuid is 16 random bytes in URL-safe base64: one JVM start saved.
  // One that starts with '-' would be read by the storage tool as an option (1 in 64).
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  try {
    await run(java, [...classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config], { cwd: dir });
  } catch (err) {
    remove();
    const output = String((err as { stderr?: string; stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
    throw new EngineError('TRIBUTARY_ENGINE_START_FAILED', 'kafka', 'formatting storage failed', { logTail: output.trim(), cause: err });
  }
  return {
    brokers: `127.0.0.1:${port}`,
    remove,
    spawn: {
      engine: 'kafka',
      command: java,
      args: ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', ...classpath, 'kafka.Kafka', config],
      cwd: dir,
      env: { ...ctx.env, JAVA_HOME: ctx.javaHome },
      logFile: join(dir, 'kafka.log'),
    },
  };
}

/** Starts one combined broker + controller in KRaft mode on free loopback ports. */
export async function startKafka(ctx: LocalContext): Promise<RunningEngine> {
  const { brokers, spawn, remove } = await prepareKafkaRun(ctx);
  return launchEngine({
    ...spawn,
    version: ENGINE_VERSIONS.kafka,
    address: brokers,
    ready: () => kafkaReady([brokers]),
    startTimeoutMs: ctx.startTimeoutMs,
    removeRunDir: remove,
  });
}

/** A Kafka of one test's own that the test may stop and start again: same ports, same data, so clients come back to it. */
export interface RestartableKafka {
  readonly brokers: string[];
  readonly running: boolean;
  /** Stops the broker (SIGTERM, then SIGKILL); its data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

export async function startRestartableKafka(ctx: LocalContext): Promise<RestartableKafka> {
  const { brokers, spawn, remove } = await prepareKafkaRun(ctx);
  let engine: EngineProcess | undefined;
  const start = async (): Promise<void> => {
    if (engine) return;
    engine = await EngineProcess.spawn(spawn);
    await waitUntilReady({ engine: 'kafka', process: engine, ready: () => kafkaReady([brokers]), timeoutMs: ctx.startTimeoutMs });
  };
  const stop = async (): Promise<void> => {
    await engine?.stop();
    engine = undefined;
  };
  try {
    await start();
  } catch (err) {
    await stop();
    remove();
    throw err;
  }
  return {
    brokers: [brokers],
    get running() {
      return engine !== undefined;
    },
    start,
    stop,
    dispose: async () => {
      await stop();
      remove();
    },
  };
}

function serverProperties(p: { port: number; controllerPort: number; dataDir: string }): string {
  return `# Written by @tributary/testkit: one combined broker + controller on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${p.controllerPort}
listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${p.dataDir}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join consumer groups constantly; don't wait 3 s for more members.
group.initial.rebalance.delay.ms=0
# Production clusters usually forbid it; our code creates its topics itself.
auto.create.topics.enable=false
`;
}

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
`;

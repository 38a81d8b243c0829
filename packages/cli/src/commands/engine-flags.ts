import { Option, type Command } from 'commander';
import type { StartEnginesOptions } from '@tributary/testkit';

export interface EngineFlags {
  kafka: boolean;
  elasticsearch: boolean;
  schemaRegistry: boolean;
  kubernetes?: boolean;
  mode?: string;
  stateDir: string;
}

/** The flags shared by every command that starts engines. */
export function withEngineFlags(command: Command): Command {
  return command
    .option('--no-kafka', 'do not start Kafka')
    .option('--no-elasticsearch', 'do not start Elasticsearch')
    .option('--no-schema-registry', 'do not start the schema registry')
    .option('--kubernetes', 'also start a Kubernetes API server (apiextensions-apiserver on etcd, for the operator) and write its kubeconfig')
    .addOption(
      new Option('--mode <mode>', 'local JVMs, containers, or auto (containers when Docker answers); default: $TRIBUTARY_ENGINES or auto').choices([
        'auto',
        'local',
        'containers',
      ]),
    )
    .option('--state-dir <dir>', 'where engines.json and engines.env are written', '.tributary');
}

export async function engineOptions(flags: EngineFlags, env: NodeJS.ProcessEnv): Promise<StartEnginesOptions> {
  const { parseModeSetting } = await import('@tributary/testkit');
  return {
    kafka: flags.kafka,
    elasticsearch: flags.elasticsearch,
    schemaRegistry: flags.schemaRegistry,
    kubernetes: flags.kubernetes === true,
    mode: parseModeSetting(flags.mode ?? env['TRIBUTARY_ENGINES']),
    env,
  };
}

/** Turns the parsed flags back into arguments, to hand them to a background run. */
export function engineArgs(flags: EngineFlags): string[] {
  return [
    ...(flags.kafka ? [] : ['--no-kafka']),
    ...(flags.elasticsearch ? [] : ['--no-elasticsearch']),
    ...(flags.schemaRegistry ? [] : ['--no-schema-registry']),
    ...(flags.kubernetes ? ['--kubernetes'] : []),
    ...(flags.mode ? ['--mode', flags.mode] : []),
    '--state-dir',
    flags.stateDir,
  ];
}

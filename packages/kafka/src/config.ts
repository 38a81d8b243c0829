/** How to reach Kafka; services build it from their configuration, tests from the test kit. */
export interface KafkaOptions {
  /** `host:port` of one or more brokers. */
  readonly brokers: readonly string[];
  /** Shown in broker logs and quotas; the service name. */
  readonly clientId: string;
  /** Milliseconds to wait for a TCP connection (kafkajs default 1000 is tight on a busy node). */
  readonly connectionTimeout?: number;
  /** Milliseconds to wait for a request; kafkajs default 30000. */
  readonly requestTimeout?: number;
}

/** A configuration fault: bad brokers list. */
export class InvalidBrokersError extends Error {
  readonly code = 'TRIBUTARY_INVALID_KAFKA_BROKERS';
  constructor(readonly input: string, reason: string) {
    super(`KAFKA_BROKERS "${input}": ${reason}`);
    this.name = 'InvalidBrokersError';
  }
}

/** Parses a comma-separated `host:port` list such as `KAFKA_BROKERS`. */
export function parseBrokers(input: string): string[] {
  const brokers = input
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new InvalidBrokersError(input, 'no broker given (expected host:port[,host:port...])');
  for (const broker of brokers) {
    const match = /^(.+):(\d{1,5})$/.exec(broker);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new InvalidBrokersError(input, `"${broker}" is not host:port`);
    }
  }
  return brokers;
}

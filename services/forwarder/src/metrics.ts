import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric of the forwarder, on its own registry (no global state). Labels hold tenant
 * names and fixed words only: never a path's pod name, a line or a reason.
 */
export class ForwarderMetrics {
  readonly registry = new Registry();
  readonly linesRead = new Counter({ name: 'tributary_forwarder_lines_read_total', help: 'Lines (after reassembly; pieces of oversized lines each count) read from container log files', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly bytesRead = new Counter({ name: 'tributary_forwarder_bytes_read_total', help: 'Bytes of log files read (their runtime framing included)', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly recordsProduced = new Counter({ name: 'tributary_forwarder_records_produced_total', help: 'Records Kafka acknowledged (acks=all)', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly produceErrors = new Counter({ name: 'tributary_forwarder_produce_errors_total', help: 'Produce requests that failed and will be retried (a missing tenant topic, Kafka away)', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly partialLines = new Counter({ name: 'tributary_forwarder_partial_lines_reassembled_total', help: 'Lines the runtime had split (CRI P, docker 16 KiB) joined again', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly oversizedLines = new Counter({ name: 'tributary_forwarder_oversized_line_pieces_total', help: 'Pieces of lines longer than --max-line-bytes, shipped one record each', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly unparsableLines = new Counter({ name: 'tributary_forwarder_unparsable_lines_total', help: "Lines not in their file's format (CRI or docker), shipped as their raw text", labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly invalidUtf8Lines = new Counter({ name: 'tributary_forwarder_invalid_utf8_lines_total', help: 'Lines with bytes that are not UTF-8, shipped with those bytes as \\\\xNN', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly truncatedRecords = new Counter({ name: 'tributary_forwarder_truncated_records_total', help: 'Records whose message was cut (with a marker) because, encoded, it was over the Kafka record limit', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly filesFollowed = new Gauge({ name: 'tributary_forwarder_files_followed', help: 'Container log files followed now (rotated ones still being read included)', registers: [this.registry] });
  readonly unacknowledgedBytes = new Gauge({ name: 'tributary_forwarder_unacknowledged_bytes', help: 'Bytes of the followed files neither acknowledged by Kafka nor spooled: what a restart would read again, or has yet to read', registers: [this.registry] });
  readonly spoolBytes = new Gauge({ name: 'tributary_forwarder_spool_bytes', help: 'Bytes of records in the on-disk spool, waiting for Kafka', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly spoolLimitBytes = new Gauge({ name: 'tributary_forwarder_spool_limit_bytes', help: 'The spool’s size limit (--spool-max-bytes)', registers: [this.registry] });
  readonly spoolOldest = new Gauge({ name: 'tributary_forwarder_spool_oldest_age_seconds', help: 'Age of the oldest record in a tenant’s spool (0 when empty)', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly spoolFull = new Gauge({ name: 'tributary_forwarder_spool_full', help: '1 while a tenant’s files are not read because the spool is at its limit (backpressure)', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly spooledRecords = new Counter({ name: 'tributary_forwarder_spooled_records_total', help: 'Records written to the spool because Kafka was away, slow or refusing', labelNames: ['tenant'] as const, registers: [this.registry] });
  readonly spoolCorruptBytes = new Counter({ name: 'tributary_forwarder_spool_corrupt_bytes_total', help: 'Bytes of the spool that failed their checksum on disk and were skipped', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_forwarder_' });
  }
}

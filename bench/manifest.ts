/**
 * The realistic pipeline both benchmarks run: json + timestamp + level + drop debug +
 * rename + redact + dated index. No select, so it takes every stream of the tenant.
 */
export function benchManifest(tenant: string, name = 'checkout-api'): string {
  return `
apiVersion: tributary.dev/v1alpha1
kind: LoggingPipeline
metadata: { name: ${name}, namespace: ${tenant} }
spec:
  parse:
    - json: { field: message }
    - timestamp: { field: time, format: rfc3339 }
    - level: { field: level }
  filter:
    - drop: { field: log.level, in: [debug, trace] }
  transform:
    - rename: { from: msg, to: message }
    - redact: { fields: [password], patterns: [card], keepLast: 4 }
  output:
    elasticsearch: { index: "checkout-{%Y.%m.%d}" }
`;
}

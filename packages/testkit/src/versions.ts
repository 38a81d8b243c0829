/**
 * Pinned engine versions. Checked on this kind of machine (see ../shared/ENGINES.md);
 * change them together with the images in docker-compose.yml.
 */
export const ENGINE_VERSIONS = {
  kafka: '4.4.0',
  log4j: '2.25.5',
  elasticsearch: '8.19.21',
  schemaRegistry: '2.4.2.Final',
  /** k8s.io/apiextensions-apiserver, built with Go; etcd is Debian's etcd-server. */
  kubernetes: 'v0.37.2',
  etcd: '3.4.23',
  /** sigs.k8s.io/kustomize/kustomize/v5, built with Go: renders deploy/ in the tests. */
  kustomize: 'v5.7.1',
} as const;

/** Images for the containers mode; docker-compose.yml uses the same ones (a test checks). */
export const ENGINE_IMAGES = {
  kafka: `apache/kafka:${ENGINE_VERSIONS.kafka}`,
  elasticsearch: `docker.elastic.co/elasticsearch/elasticsearch:${ENGINE_VERSIONS.elasticsearch}`,
  schemaRegistry: `apicurio/apicurio-registry-mem:${ENGINE_VERSIONS.schemaRegistry}`,
} as const;

import { parseTenant } from '@tributary/tenant';

/** Who wrote a container log file, read from its path. */
export interface ContainerLogFile {
  /** The pod's namespace: the tenant. */
  readonly namespace: string;
  readonly pod: string;
  /**
   * The pod's uid. When a file's path doesn't carry one (a `/var/log/containers` link to a
   * docker json-file log, dockershim or cri-dockerd), the forwarder puts the container id
   * there instead (64 hex digits, which no pod uid is): the identity of the file's stream.
   */
  readonly podUid: string;
  readonly container: string;
}

export type PathResult = { readonly ok: true; readonly file: ContainerLogFile } | { readonly ok: false; readonly reason: string };

// A pod name is a DNS-1123 subdomain; a container name a DNS-1123 label. Neither holds `_`,
// which is why the kubelet can join them with it.
const SUBDOMAIN = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const UID = '[0-9a-fA-F-]{1,64}';

/** `<root>/<namespace>_<pod>_<uid>/<container>/<restart>.log[.<rotation suffix>]`, the kubelet's layout. */
const POD_LOG = new RegExp(`(?:^|/)(${LABEL})_(${SUBDOMAIN})_(${UID})/(${LABEL})/\\d+\\.log(?:\\.[^/]*)?$`);

/** `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log`: the symlinks into /var/log/pods. */
const CONTAINER_LINK = new RegExp(`(?:^|/)(${SUBDOMAIN})_(${LABEL})_(${LABEL})-([0-9a-f]{64})\\.log$`);

/**
 * The namespace, pod, pod uid and container of a file in the kubelet's `/var/log/pods`
 * layout. Rotated files (`0.log.20261125-101500`, `0.log.1`) map like the live one.
 */
export function parsePodLogPath(path: string): PathResult {
  const match = POD_LOG.exec(path);
  if (!match) return { ok: false, reason: `${path}: not <namespace>_<pod>_<uid>/<container>/<n>.log` };
  const [, namespace = '', , pod = '', , podUid = '', container = ''] = match;
  const tenant = parseTenant(namespace);
  if (!tenant.ok) return { ok: false, reason: `${path}: namespace ${namespace}: ${tenant.errors.map((e) => e.reason).join('; ')}` };
  return { ok: true, file: { namespace, pod, podUid, container } };
}

/**
 * The pod, namespace and container of a `/var/log/containers` symlink name. It carries no pod
 * uid: the forwarder follows the link to its `/var/log/pods` target for that.
 */
export function parseContainerLinkName(path: string): { ok: true; pod: string; namespace: string; container: string; containerId: string } | { ok: false; reason: string } {
  const match = CONTAINER_LINK.exec(path);
  if (!match) return { ok: false, reason: `${path}: not <pod>_<namespace>_<container>-<container id>.log` };
  const [, pod = '', , namespace = '', , container = '', , containerId = ''] = match;
  return { ok: true, pod, namespace, container, containerId };
}

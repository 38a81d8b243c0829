import type { Dirent } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseContainerLinkName, parsePodLogPath, type ContainerLogFile } from '@tributary/container-log';
import { parseTenant } from '@tributary/tenant';

/** Which container logs a forwarder ships. Empty lists mean "all"; exclusions win. */
export interface LogFilter {
  readonly includeNamespaces?: readonly string[];
  readonly excludeNamespaces?: readonly string[];
  readonly includeContainers?: readonly string[];
  readonly excludeContainers?: readonly string[];
}

export interface DiscoveredFile {
  readonly path: string;
  readonly container: ContainerLogFile;
}

/**
 * The live container log files under `root`, filtered. Each entry of the root is taken for
 * what it is, so a root may hold either layout, or both:
 *
 * - a directory is a pod of the kubelet's `/var/log/pods` layout:
 *   `<namespace>_<pod>_<uid>/<container>/<n>.log`;
 * - a `*.log` that is not a directory is a `/var/log/containers` link,
 *   `<pod>_<namespace>_<container>-<64 hex container id>.log`. It is resolved, and the file
 *   returned is its target (the forwarder keys files by device and inode and finds rotated
 *   files next to the live one, so it follows the real path, never the link). A target in the
 *   pods layout (containerd, CRI-O) is described by its own path, pod uid included, and must
 *   agree with the link name on the namespace. A docker json-file target (dockershim,
 *   cri-dockerd: `<dir>/<id>/<id>-json.log`, the id the link's) is described by the link name;
 *   its pod uid is unknown, so `podUid` holds the container id: unique to that container
 *   instance, stable for its life, and a 64-hex string no pod uid looks like.
 *
 * Rotated files (`<n>.log.<suffix>` in the pods layout, `<id>-json.log.<n>` for docker) come
 * apart in `rotated`: the forwarder follows them only when its positions say it hadn't
 * finished one before a restart (otherwise it already read them by their handle). Files the
 * kubelet is compressing or has compressed (`.tmp`, `.gz`) are not log text and are left out.
 * A file reached twice (a link into a pod directory of the same root, two links to one file)
 * is returned once. Dangling links, names outside both layouts, targets outside them and
 * entries that can't be listed or resolved are reported in `skipped`, never thrown;
 * directories that vanish while being listed (a pod deleted) are skipped silently. Only a
 * root that exists but can't be listed throws.
 */
export async function discoverLogFiles(root: string, filter: LogFilter = {}): Promise<{ files: DiscoveredFile[]; rotated: DiscoveredFile[]; skipped: string[] }> {
  const found = new Found(filter);
  const entries = await listEntries(root);
  if (entries.length === 0) return found.result();
  // What link targets resolve to is a real path: a pod directory's files are compared in the same terms.
  const realRoot = await realpath(root).catch(() => root);
  const links: Dirent[] = [];
  for (const entry of entries) {
    if (entry.name.endsWith('.log') && !entry.isDirectory()) links.push(entry);
    else await podDirectory(root, realRoot, entry.name, found);
  }
  for (const entry of links) await containerLink(join(root, entry.name), found);
  return found.result();
}

/** The files found so far, each once, by its real path. */
class Found {
  private readonly files: DiscoveredFile[] = [];
  private readonly rotated: DiscoveredFile[] = [];
  readonly skipped: string[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly filter: LogFilter) {}

  /** Adds a file under `key` (its real path) unless it is there already or filtered out. */
  add(key: string, file: DiscoveredFile, isRotated: boolean): void {
    if (!selected(file.container, this.filter) || this.seen.has(key)) return;
    this.seen.add(key);
    (isRotated ? this.rotated : this.files).push(file);
  }

  result(): { files: DiscoveredFile[]; rotated: DiscoveredFile[]; skipped: string[] } {
    return { files: this.files, rotated: this.rotated, skipped: this.skipped };
  }
}

/** `<root>/<namespace>_<pod>_<uid>/<container>/<n>.log[.<suffix>]`. */
async function podDirectory(root: string, realRoot: string, podDir: string, found: Found): Promise<void> {
  for (const containerDir of await list(join(root, podDir), found.skipped)) {
    for (const name of await list(join(root, podDir, containerDir), found.skipped)) {
      const live = /^\d+\.log$/.test(name);
      if (!live && !isPodRotated(name)) continue;
      const path = join(root, podDir, containerDir, name);
      const parsed = parsePodLogPath(path);
      if (!parsed.ok) {
        found.skipped.push(parsed.reason);
        continue;
      }
      found.add(join(realRoot, podDir, containerDir, name), { path, container: parsed.file }, !live);
    }
  }
}

/** A `/var/log/containers` link: its target, and the target's rotated siblings. */
async function containerLink(link: string, found: Found): Promise<void> {
  const named = parseContainerLinkName(link);
  if (!named.ok) {
    found.skipped.push(named.reason);
    return;
  }
  const tenant = parseTenant(named.namespace);
  if (!tenant.ok) {
    found.skipped.push(`${link}: namespace ${named.namespace}: ${tenant.errors.map((e) => e.reason).join('; ')}`);
    return;
  }
  let target: string;
  try {
    target = await realpath(link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    found.skipped.push(code === 'ENOENT' ? `${link}: dangling link (its target is gone)` : `${link}: cannot resolve: ${code ?? String(err)}`);
    return;
  }
  const name = basename(target);
  let container: ContainerLogFile;
  let isRotated: (sibling: string) => boolean;
  if (/^\d+\.log$/.test(name)) {
    const parsed = parsePodLogPath(target);
    if (!parsed.ok) {
      found.skipped.push(`${link} -> ${parsed.reason}`);
      return;
    }
    if (parsed.file.namespace !== named.namespace) {
      found.skipped.push(`${link} -> ${target}: the link names namespace ${named.namespace}, its target ${parsed.file.namespace}`);
      return;
    }
    container = parsed.file;
    isRotated = (sibling) => sibling.startsWith(`${name}.`) && isPodRotated(sibling);
  } else if (name === `${named.containerId}-json.log` && basename(dirname(target)) === named.containerId) {
    container = { namespace: named.namespace, pod: named.pod, podUid: named.containerId, container: named.container };
    isRotated = (sibling) => sibling.startsWith(`${name}.`) && /^\d+$/.test(sibling.slice(name.length + 1));
  } else {
    found.skipped.push(`${link} -> ${target}: neither <namespace>_<pod>_<uid>/<container>/<n>.log nor ${named.containerId}/${named.containerId}-json.log`);
    return;
  }
  if (!selected(container, found.filter)) return; // before listing its directory
  found.add(target, { path: target, container }, false);
  const dir = dirname(target);
  for (const sibling of await list(dir, found.skipped)) {
    if (isRotated(sibling)) found.add(join(dir, sibling), { path: join(dir, sibling), container }, true);
  }
}

/** A rotated name of the pods layout, `<n>.log.<suffix>`, not one the kubelet is compressing or has compressed. */
function isPodRotated(name: string): boolean {
  return /^\d+\.log\../.test(name) && !name.endsWith('.gz') && !name.endsWith('.tmp');
}

function selected(file: ContainerLogFile, filter: LogFilter): boolean {
  const allowed = (value: string, include?: readonly string[], exclude?: readonly string[]): boolean =>
    !(exclude ?? []).includes(value) && ((include ?? []).length === 0 || (include ?? []).includes(value));
  return allowed(file.namespace, filter.includeNamespaces, filter.excludeNamespaces) && allowed(file.container, filter.includeContainers, filter.excludeContainers);
}

/** The root's entries, sorted by name; none when it doesn't exist. */
async function listEntries(root: string): Promise<Dirent[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** A directory's names, sorted; none when it is gone or not a directory, none and a reason in `skipped` when it can't be listed. */
async function list(dir: string, skipped: string[]): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') skipped.push(`${dir}: cannot list: ${code ?? String(err)}`);
    return [];
  }
}

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePodLogPath, type ContainerLogFile } from '@tributary/container-log';

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
 * The live container log files under `root` (the kubelet's `/var/log/pods` layout:
 * `<namespace>_<pod>_<uid>/<container>/<n>.log`), filtered. Rotated files (`0.log.<suffix>`)
 * come apart in `rotated`: the forwarder follows them only when its positions say it
 * hadn't finished one before a restart (otherwise it already read them by their handle).
 * Directories that vanish while being listed (a pod deleted) are skipped.
 */
export async function discoverLogFiles(root: string, filter: LogFilter = {}): Promise<{ files: DiscoveredFile[]; rotated: DiscoveredFile[]; skipped: string[] }> {
  const files: DiscoveredFile[] = [];
  const rotated: DiscoveredFile[] = [];
  const skipped: string[] = [];
  for (const podDir of await list(root)) {
    for (const containerDir of await list(join(root, podDir))) {
      for (const name of await list(join(root, podDir, containerDir))) {
        const live = /^\d+\.log$/.test(name);
        if (!live && !/^\d+\.log\../.test(name)) continue;
        const path = join(root, podDir, containerDir, name);
        const parsed = parsePodLogPath(path);
        if (!parsed.ok) {
          skipped.push(parsed.reason);
          continue;
        }
        if (selected(parsed.file, filter)) (live ? files : rotated).push({ path, container: parsed.file });
      }
    }
  }
  return { files, rotated, skipped };
}

function selected(file: ContainerLogFile, filter: LogFilter): boolean {
  const allowed = (value: string, include?: readonly string[], exclude?: readonly string[]): boolean =>
    !(exclude ?? []).includes(value) && ((include ?? []).length === 0 || (include ?? []).includes(value));
  return allowed(file.namespace, filter.includeNamespaces, filter.excludeNamespaces) && allowed(file.container, filter.includeContainers, filter.excludeContainers);
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

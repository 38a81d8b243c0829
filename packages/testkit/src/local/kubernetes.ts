import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EngineError } from '../errors.js';
import type { RunningEngine } from '../types.js';
import { ENGINE_VERSIONS } from '../versions.js';
import type { LocalContext } from './context.js';
import { engineRunDir } from './engine-dir.js';
import { EngineProcess, tailFile } from './process.js';
import { freePort, isListening } from './ports.js';
import { waitUntilReady } from './wait.js';

const run = promisify(execFile);
const MODULE = 'k8s.io/apiextensions-apiserver';
const BINARY = 'apiextensions-apiserver';

/** Debian's etcd-server puts it here; TRIBUTARY_ETCD overrides. */
function etcdBinary(env: NodeJS.ProcessEnv): string {
  const configured = env['TRIBUTARY_ETCD'];
  for (const candidate of [configured, '/usr/bin/etcd', '/usr/local/bin/etcd']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', 'kubernetes', 'etcd not found: install Debian\'s etcd-server (apt-get install etcd-server) or set TRIBUTARY_ETCD');
}

/**
 * Builds the Kubernetes API extension server (a real API server that serves CRDs and custom
 * resources) with Go from the module proxy, once: about 3.5 min cold on 2 cores, 2 s from
 * Go's build cache. The binary is cached like the JVM engines; Go's own caches stay where
 * `go env` puts them.
 */
export async function installKubernetes(ctx: Pick<LocalContext, 'cacheRoot' | 'env' | 'logger'>): Promise<string> {
  etcdBinary(ctx.env);
  return goInstall(ctx, { module: MODULE, version: ENGINE_VERSIONS.kubernetes, binary: BINARY });
}

/** `go install <module>@<version>` into `<cacheRoot>/<binary>-<version>/bin`, once; returns the binary. */
export async function goInstall(
  ctx: Pick<LocalContext, 'cacheRoot' | 'env' | 'logger'>,
  what: { readonly module: string; readonly version: string; readonly binary: string },
): Promise<string> {
  const dir = join(ctx.cacheRoot, `${what.binary}-${what.version}`);
  const binary = join(dir, 'bin', what.binary);
  if (existsSync(join(dir, '.complete'))) return binary;
  const started = Date.now();
  ctx.logger.info({ engine: 'kubernetes', module: what.module, dir }, 'building with Go (the first run takes a while)');
  const partial = `${dir}.partial-${process.pid}`;
  mkdirSync(join(partial, 'bin'), { recursive: true });
  const logFile = join(partial, 'go-install.log');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(goBinary(ctx.env), ['install', `${what.module}@${what.version}`], {
      env: { ...ctx.env, GOBIN: join(partial, 'bin'), GOFLAGS: `${ctx.env['GOFLAGS'] ?? ''} -buildvcs=false`.trim(), CGO_ENABLED: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', (cause) => reject(new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', 'kubernetes', 'could not run go: is Go installed?', { cause })));
    child.once('close', (code) => {
      writeFileSync(logFile, Buffer.concat(chunks));
      if (code === 0) return resolve();
      reject(new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', 'kubernetes', `go install ${what.module}@${what.version} exited with ${code}`, { logTail: tailFile(logFile, 40), retriable: true }));
    });
  });
  writeFileSync(join(partial, '.complete'), new Date().toISOString());
  if (existsSync(join(dir, '.complete'))) {
    rmSync(partial, { recursive: true, force: true }); // another run finished first
  } else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  }
  ctx.logger.info({ module: what.module, ms: Date.now() - started }, 'built');
  return binary;
}

/** `go` from PATH, else where the official tarball puts it (PATH may not include it in a non-login shell). */
function goBinary(env: NodeJS.ProcessEnv): string {
  const onPath = (env['PATH'] ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'go')));
  if (onPath) return 'go';
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

/** A local API server of one's own: its kubeconfig, and the API server alone can be stopped and started again (an outage test). */
export interface LocalKubernetes extends RunningEngine {
  /** A kubeconfig for the admin identity (`O=system:masters`, the only one this server authorizes). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:<port>`. */
  readonly server: string;
  /** Stops the API server, keeping etcd and the port: clients see it go away. */
  stopApiServer(): Promise<void>;
  /** Starts it again on the same port with the same etcd; resolves when it is ready. */
  startApiServer(): Promise<void>;
}

/**
 * Starts etcd and the API extension server on free loopback ports, with a fresh CA, a
 * serving certificate and an admin client certificate; resolves once `/readyz` answers.
 * Flags and pitfalls: ../shared/ENGINES.md.
 */
export async function startKubernetes(ctx: LocalContext): Promise<LocalKubernetes> {
  const binary = await installKubernetes(ctx);
  const etcd = etcdBinary(ctx.env);
  const { dir, remove } = engineRunDir('kubernetes');
  let etcdProcess: EngineProcess | undefined;
  let apiserver: EngineProcess | undefined;
  try {
    const certs = await writeCertificates(join(dir, 'pki'));
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const dataDir = join(dir, 'etcd');
    mkdirSync(dataDir, { mode: 0o700 });
    etcdProcess = await EngineProcess.spawn({
      engine: 'kubernetes',
      command: etcd,
      args: [
        `--data-dir=${dataDir}`,
        `--listen-client-urls=http://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--logger=zap',
        '--log-level=warn',
      ],
      cwd: dir,
      env: { PATH: ctx.env['PATH'] ?? '/usr/bin:/bin', HOME: dir },
      logFile: join(dir, 'etcd.log'),
    });
    await waitUntilReady({ engine: 'kubernetes', process: etcdProcess, ready: () => isListening(clientPort), timeoutMs: ctx.startTimeoutMs });

    const server = `https://127.0.0.1:${securePort}`;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigText(server, certs), { mode: 0o600 });
    const args = [
      `--etcd-servers=http://127.0.0.1:${clientPort}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${securePort}`,
      `--tls-cert-file=${certs.serverCert}`,
      `--tls-private-key-file=${certs.serverKey}`,
      `--client-ca-file=${certs.caCert}`,
      // All three are needed outside a cluster; the server reads them but doesn't call itself at start.
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      // Without it the server deadlocks looking up its own authentication config.
      '--authentication-skip-lookup',
      '--enable-priority-and-fairness=false',
      // With NamespaceLifecycle on and no core API, every namespaced create hangs, then 403s.
      '--disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionPolicy,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook',
    ];
    const startApiServer = async (): Promise<EngineProcess> => {
      const started = await EngineProcess.spawn({
        engine: 'kubernetes',
        command: binary,
        args,
        cwd: dir,
        env: { PATH: ctx.env['PATH'] ?? '/usr/bin:/bin', HOME: dir },
        logFile: join(dir, 'apiserver.log'),
      });
      try {
        await waitUntilReady({ engine: 'kubernetes', process: started, ready: () => apiServerReady(server, certs), timeoutMs: ctx.startTimeoutMs });
      } catch (err) {
        await started.stop();
        throw err;
      }
      return started;
    };
    apiserver = await startApiServer();

    let stopping: Promise<void> | undefined;
    const etcdRunning = etcdProcess;
    return {
      kubeconfig,
      server,
      info: { name: 'kubernetes', mode: 'local', address: kubeconfig, version: `${ENGINE_VERSIONS.kubernetes} (etcd ${ENGINE_VERSIONS.etcd})`, pid: apiserver.pid, logFile: join(dir, 'apiserver.log') },
      stopApiServer: async () => {
        await apiserver?.stop();
        apiserver = undefined;
      },
      startApiServer: async () => {
        if (apiserver && apiserver.exitStatus === undefined) return;
        apiserver = await startApiServer();
      },
      stop: () =>
        (stopping ??= (async () => {
          await apiserver?.stop();
          await etcdRunning.stop();
          remove();
        })()),
    };
  } catch (err) {
    await apiserver?.stop();
    await etcdProcess?.stop();
    remove();
    throw err;
  }
}

interface Certificates {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A CA, a serving certificate for 127.0.0.1, and a `system:masters` client certificate, with openssl. */
async function writeCertificates(dir: string): Promise<Certificates> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = (name: string) => join(dir, name);
  const openssl = async (args: string[]): Promise<void> => {
    try {
      await run('openssl', args, { cwd: dir });
    } catch (err) {
      throw new EngineError('TRIBUTARY_ENGINE_START_FAILED', 'kubernetes', `openssl ${args[0]} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
    }
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...key, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '3650', '-subj', '/CN=tributary-test-ca']);
  const issue = async (name: string, subject: string, extensions: string): Promise<void> => {
    await openssl(['req', ...key, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject]);
    writeFileSync(path(`${name}.ext`), extensions);
    await openssl(['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path(`${name}.crt`), '-days', '3650', '-extfile', path(`${name}.ext`)]);
  };
  await issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  await issue('client', '/O=system:masters/CN=tributary-admin', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  return { caCert: path('ca.crt'), serverCert: path('server.crt'), serverKey: path('server.key'), clientCert: path('client.crt'), clientKey: path('client.key') };
}

function kubeconfigText(server: string, certs: Certificates): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: tributary-test',
    '    cluster:',
    `      server: ${server}`,
    `      certificate-authority-data: ${b64(certs.caCert)}`,
    'users:',
    '  - name: tributary-admin',
    '    user:',
    `      client-certificate-data: ${b64(certs.clientCert)}`,
    `      client-key-data: ${b64(certs.clientKey)}`,
    'contexts:',
    '  - name: tributary-test',
    '    context: { cluster: tributary-test, user: tributary-admin }',
    'current-context: tributary-test',
    '',
  ].join('\n');
}

/** Plain `/readyz` never turns ready on this server (it has no core API to sync informers for). */
function apiServerReady(server: string, certs: Certificates): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${server}/readyz?exclude=informer-sync`,
      { ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { assertLifecycle } from './lifecycle.js';
import { startTcpProxy, TcpProxy } from './tcp-proxy.js';

/** A throwaway HTTP server, only a source of bytes: `/echo` returns the body, `/hold` answers when `release()` is called. */
async function byteSource(): Promise<{ url: string; server: Server; held: ServerResponse[]; closedRequests: () => number; close: () => Promise<void> }> {
  const held: ServerResponse[] = [];
  let closed = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.socket.once('close', () => closed++);
    if (req.url === '/hold') {
      held.push(res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.end(Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    held,
    closedRequests: () => closed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).finally(() => server.closeAllConnections()),
  };
}

function call(url: string, path: string, body?: Buffer, agent?: Agent): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: body ? 'POST' : 'GET', agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Resolves with the error code of a plain TCP connect, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('forwards bytes both ways, unchanged, and says where it listens', async () => {
  const source = await byteSource();
  const proxy = await startTcpProxy({ target: source.url });
  try {
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(proxy.port, new URL(source.url).port);
    assert.equal(proxy.address, `127.0.0.1:${proxy.port}`);
    const payload = randomBytes(4 * 1024 * 1024);
    const answer = await call(proxy.url, '/echo', payload);
    assert.equal(answer.status, 200);
    assert.ok(answer.body.equals(payload), 'the 4 MiB body came back byte for byte');
    assert.equal(proxy.acceptedConnections, 1);
  } finally {
    await proxy.stop();
    await source.close();
  }
});

test('takes the target as a URL, host:port or { host, port }', async () => {
  const source = await byteSource();
  const { port } = new URL(source.url);
  for (const target of [source.url, `127.0.0.1:${port}`, { host: '127.0.0.1', port: Number(port) }]) {
    const proxy = await startTcpProxy({ target });
    try {
      assert.equal(proxy.url.startsWith(typeof target === 'string' && target.startsWith('http') ? 'http://' : 'tcp://'), true);
      assert.equal((await call(`http://${proxy.address}`, '/echo', Buffer.from('hi'))).body.toString(), 'hi');
    } finally {
      await proxy.stop();
    }
  }
  await source.close();
  assert.throws(() => new TcpProxy({ target: 'not a target' }), /expected a URL or host:port/);
  assert.throws(() => new TcpProxy({ target: { host: '127.0.0.1', port: 0 } }), /port must be/);
});

test('cut() refuses new connections and closes open ones, in flight and idle; restore() listens again on the same port', async () => {
  const source = await byteSource();
  const proxy = await startTcpProxy({ target: source.url });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const port = proxy.port;
    // A request the target holds unanswered, and an idle keep-alive connection.
    const inFlight = call(proxy.url, '/hold', undefined, agent);
    inFlight.catch(() => undefined);
    while (source.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal((await call(proxy.url, '/echo', Buffer.from('before'), agent)).body.toString(), 'before');
    assert.equal(proxy.openConnections, 2);

    await proxy.cut();
    assert.equal(proxy.isCut, true);
    await assert.rejects(inFlight, (err: NodeJS.ErrnoException) => ['ECONNRESET'].includes(err.code ?? '') || /socket hang up/.test(err.message));
    assert.equal(proxy.openConnections, 0);
    assert.equal(await tryConnect(port), 'ECONNREFUSED');
    await assert.rejects(call(proxy.url, '/echo', Buffer.from('during'), agent), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    // The target's side of both connections was closed too.
    while (source.closedRequests() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await proxy.cut(); // a second cut changes nothing

    await proxy.restore();
    assert.equal(proxy.isCut, false);
    assert.equal(proxy.port, port);
    assert.equal((await call(proxy.url, '/echo', Buffer.from('after'), agent)).body.toString(), 'after');
    await proxy.restore(); // not cut: nothing to do

    // Again: the port survives more than one outage.
    await proxy.cut();
    assert.equal(await tryConnect(port), 'ECONNREFUSED');
    await proxy.restore();
    assert.equal((await call(proxy.url, '/echo', Buffer.from('again'))).body.toString(), 'again');
  } finally {
    agent.destroy();
    await proxy.stop();
    for (const res of source.held) res.destroy();
    await source.close();
  }
});

test('a target that is down closes the client connection; the proxy carries on', async () => {
  const source = await byteSource();
  const { port } = new URL(source.url);
  await source.close();
  const proxy = await startTcpProxy({ target: `127.0.0.1:${port}` });
  try {
    await assert.rejects(call(`http://${proxy.address}`, '/echo', Buffer.from('x')), /socket hang up|ECONNRESET/);
    assert.equal(proxy.openConnections, 0);
    assert.equal(await tryConnect(proxy.port), 'connected');
  } finally {
    await proxy.stop();
  }
});

test('stop() closes everything, also while cut; cut() and restore() need a started proxy', async () => {
  const source = await byteSource();
  const proxy = new TcpProxy({ target: source.url });
  await assert.rejects(proxy.cut(), /not started/);
  await proxy.start();
  const port = proxy.port;
  const inFlight = call(proxy.url, '/hold');
  inFlight.catch(() => undefined);
  while (source.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  await proxy.stop();
  await assert.rejects(inFlight);
  assert.equal(await tryConnect(port), 'ECONNREFUSED');
  await proxy.restore(); // after stop(): does nothing
  assert.equal(await tryConnect(port), 'ECONNREFUSED');

  const cut = await startTcpProxy({ target: source.url });
  await cut.cut();
  await cut.stop();
  for (const res of source.held) res.destroy();
  await source.close();
});

test('keeps the lifecycle contract', async () => {
  const source = await byteSource();
  try {
    await assertLifecycle(() => new TcpProxy({ target: source.url }));
  } finally {
    await source.close();
  }
});

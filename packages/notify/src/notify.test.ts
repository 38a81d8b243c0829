import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { AddressPolicy, BlockedAddressError, checkWebhookUrl, guardedLookup, NotifyConfigError } from './index.js';

test('addresses inside the cluster, the node, cloud metadata and non-destinations are refused; public ones are not', () => {
  const policy = new AddressPolicy();
  const refused = {
    '127.0.0.1': 'loopback',
    '127.255.0.9': 'loopback',
    '::1': 'loopback',
    '10.3.0.7': 'private',
    '172.16.0.1': 'private',
    '172.31.255.255': 'private',
    '192.168.1.10': 'private',
    '100.64.0.1': 'carrier-grade NAT',
    '169.254.169.254': 'cloud metadata',
    'fd00:ec2::254': 'private',
    'fe80::1': 'link-local',
    '0.0.0.0': 'unspecified',
    '::': 'unspecified',
    '224.0.0.251': 'multicast',
    '255.255.255.255': 'reserved',
    '::ffff:10.0.0.1': 'private',
    '::ffff:127.0.0.1': 'loopback',
    '64:ff9b::a00:1': 'private',
    '64:ff9b::127.0.0.1': 'loopback',
  };
  for (const [address, what] of Object.entries(refused)) assert.match(policy.refusal(address) ?? 'allowed', new RegExp(what), address);
  for (const address of ['1.1.1.1', '172.32.0.1', '192.169.0.1', '8.8.4.4', '2606:4700:4700::1111', '64:ff9b::808:808']) assert.equal(policy.refusal(address), undefined, address);
});

test('the platform allowlist admits addresses and networks, and nothing else; a bad entry stops the service', () => {
  const policy = AddressPolicy.fromSetting(' 127.0.0.1 , 10.20.0.0/16,fd00:1::/32');
  assert.equal(policy.refusal('127.0.0.1'), undefined);
  assert.match(policy.refusal('127.0.0.2') ?? '', /loopback/);
  assert.equal(policy.refusal('10.20.3.4'), undefined);
  assert.match(policy.refusal('10.21.0.1') ?? '', /private/);
  assert.equal(policy.refusal('fd00:1::5'), undefined);
  assert.deepEqual(policy.allow, ['127.0.0.1', '10.20.0.0/16', 'fd00:1::/32']);
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '10.0.0.0/x', '::1/129']) {
    assert.throws(() => AddressPolicy.fromSetting(bad), (err: unknown) => err instanceof NotifyConfigError && err.message.includes(JSON.stringify(bad)), bad);
  }
  assert.deepEqual(AddressPolicy.fromSetting(undefined).allow, []);
});

test('webhook URLs: http(s) only, no credentials, no address or name inside; a name that does not resolve waits for the send-time check', async () => {
  const policy = new AddressPolicy();
  const refused: Record<string, RegExp> = {
    'ftp://hooks.example.com/x': /scheme "ftp"/,
    'file:///etc/passwd': /scheme "file"/,
    'not a url': /not a URL/,
    'https://user:secret@hooks.example.com/x': /credentials/,
    'http://127.0.0.1:8080/hook': /loopback/,
    'http://[::1]/hook': /loopback/,
    'http://[::ffff:169.254.169.254]/latest/meta-data': /metadata/,
    'http://169.254.169.254/latest/meta-data': /metadata/,
    'http://10.0.0.5/': /private/,
    // Spellings of 127.0.0.1 the URL parser normalizes: refused as what they are.
    'http://0x7f000001/': /loopback/,
    'http://2130706433/': /loopback/,
    'http://127.1/': /loopback/,
    'http://[::ffff:7f00:1]/': /loopback/,
    'http://localhost:9200/_search': /loopback name/,
    'http://LOCALHOST./': /loopback name/,
    'http://api.localhost/': /loopback name/,
  };
  for (const [url, reason] of Object.entries(refused)) {
    const checked = await checkWebhookUrl(url, policy);
    assert.ok(!checked.ok && reason.test(checked.reason), `${url}: ${JSON.stringify(checked)}`);
  }
  // .example never resolves (RFC 2606): not refused now, refused at send time if it ever resolves inwards.
  assert.deepEqual(await checkWebhookUrl('https://hooks.example/payments', policy), { ok: true });
  assert.deepEqual(await checkWebhookUrl('https://93.184.215.14/hook', policy), { ok: true });
  assert.deepEqual(await checkWebhookUrl('http://127.0.0.1:8080/hook', new AddressPolicy(['127.0.0.1'])), { ok: true });
  assert.deepEqual(await checkWebhookUrl('http://localhost:8080/hook', new AddressPolicy(['127.0.0.0/8'])), { ok: true });
});

test('a name that resolves inside (this machine’s own name, through the system resolver) is refused, naming the address', async (t) => {
  const name = hostname();
  const addresses = await lookup(name, { all: true }).catch(() => []);
  const policy = new AddressPolicy();
  if (addresses.length === 0 || addresses.every((a) => policy.refusal(a.address) === undefined)) return t.skip(`${name} resolves to no address the policy refuses here`);
  const checked = await checkWebhookUrl(`https://${name}/hook`, policy);
  assert.ok(!checked.ok, JSON.stringify(checked));
  assert.match(checked.reason, new RegExp(`^${name} resolves to .+ is a`));
});

test('at send time the guarded lookup refuses a connection to a refused address, and lets an admitted one through', async () => {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const call = (policy: AddressPolicy, host = 'localhost'): Promise<string> =>
    new Promise((resolve, reject) => {
      // A name, so the connection goes through the lookup (an IP literal would not).
      get({ host, port, path: '/hook', lookup: guardedLookup(policy), family: 4 }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      }).on('error', reject);
    });
  try {
    await assert.rejects(call(new AddressPolicy()), (err: unknown) => err instanceof BlockedAddressError && /localhost/.test(err.message));
    // This machine's name resolves to 127.0.0.1 through the system resolver here: refused by address.
    const own = await lookup(hostname(), { all: true }).catch(() => []);
    if (own.some((a) => a.address === '127.0.0.1')) {
      await assert.rejects(call(new AddressPolicy(), hostname()), (err: unknown) => err instanceof BlockedAddressError && /127\.0\.0\.1 is a loopback address/.test(err.message));
    }
    assert.equal(requests, 0, 'nothing reached the receiver');
    assert.equal(await call(new AddressPolicy(['127.0.0.1'])), '200');
    assert.equal(requests, 1);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

// SYNC-4: the HTTPS transport against a real HTTPS server (a certificate made by openssl). The
// HMAC-SHA256 signature, the SM4-CBC body and its HMAC-SM3 are checked by an independent
// implementation: the openssl CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { Value } from '@sinclair/typebox/value';
import { HttpsTargetSchema, UplinkEnvelopeSchema, type HttpsTarget, type UplinkFrame } from '../../../appliance/contract/uplink.ts';
import { createTransport } from '../../../appliance/sync/transports/index.ts';
import { makeTestPki, type TestPki } from '../../helpers/mosquitto.ts';
import { BOX, T0, alarm, keepLog, nextState, opensslDigest, opensslOn, reading } from './support.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let pki: TestPki;
let server: Server;
let port: number;
let requests: Received[] = [];
let answer: (request: Received) => { status: number; body?: string } | null = () => ({ status: 200 });

before(async () => {
  pki = makeTestPki();
  server = createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const reply = answer(received);
      if (!reply) return; // never answers (a hung endpoint)
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body ?? '{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  pki.remove();
});

const HMAC_SECRET = 'hm4c-secret-of-the-regulator';
const SM4_KEY = '0123456789abcdeffedcba9876543210';

function httpsTarget(overrides: Partial<HttpsTarget> = {}): HttpsTarget {
  const target = Value.Default(HttpsTargetSchema, { id: 'scada', kind: 'https', url: `https://127.0.0.1:${port}/mcs/ingest`, ca: pki.ca, ...overrides }) as HttpsTarget;
  assert.ok(Value.Check(HttpsTargetSchema, target));
  return target;
}

function open(target: HttpsTarget) {
  requests = [];
  answer = () => ({ status: 200 });
  const kept = keepLog();
  const transport = createTransport(target, { boxId: BOX, log: kept.log, clock: { now: () => T0 + 5 }, backoff: { baseMs: 300, capMs: 300, random: () => 1 } });
  transport.start();
  return { transport, ...kept };
}

const frameOf = (count: number): UplinkFrame => ({ kind: 'reading', historical: false, records: Array.from({ length: count }, (_, i) => reading('GT-001', i)) });

test('a frame is POSTed as signed envelopes in batches of batch_records, acknowledged when every batch got a 2xx', async () => {
  const { transport, text } = open(httpsTarget({ hmac_secret: HMAC_SECRET, batch_records: 2 }));
  try {
    const frame = frameOf(5);
    const bytes = await transport.send(frame);
    assert.equal(requests.length, 3);
    assert.deepEqual(requests.map((r) => JSON.parse(r.body).records.length), [2, 2, 1]);
    assert.deepEqual(requests.flatMap((r) => JSON.parse(r.body).records), frame.records);
    assert.equal(bytes, requests.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0));
    for (const request of requests) {
      assert.equal(request.path, '/mcs/ingest');
      assert.ok(Value.Check(UplinkEnvelopeSchema, JSON.parse(request.body)));
      assert.equal(request.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(request.headers['x-mcs-box'], BOX);
      assert.equal(request.headers['x-mcs-timestamp'], String(T0 + 5));
      const expected = opensslDigest(['-sha256', '-hmac', HMAC_SECRET], `${T0 + 5}.${request.body}`);
      assert.equal(request.headers['x-mcs-signature'], `sha256=${expected}`);
    }
    assert.match(await transport.test(), /^OK: https:\/\/127\.0\.0\.1:\d+\/mcs\/ingest accepted an empty batch with HTTP 200 \(HMAC-SHA256\) in \d+ ms \/ 成功：/);
    assert.deepEqual(JSON.parse(requests[3].body), { v: 1, box: BOX, records: [] });
    assert.ok(!text().includes(HMAC_SECRET));
  } finally {
    await transport.close();
  }
});

test('with an SM4 key the body is SM4-CBC under a fresh IV with an HMAC-SM3, and openssl decrypts and verifies it', async () => {
  const { transport, text } = open(httpsTarget({ hmac_secret: HMAC_SECRET, sm4_key: SM4_KEY }));
  try {
    const frame: UplinkFrame = { kind: 'alarm', historical: false, records: [alarm(1), alarm(2, { detail: '可燃气体浓度超限' })] };
    await transport.send(frame);
    await transport.send(frame);
    assert.equal(requests.length, 2);
    for (const request of requests) {
      assert.equal(request.headers['content-type'], 'application/octet-stream');
      assert.equal(request.headers['x-mcs-encryption'], 'sm4-cbc');
      const iv = request.headers['x-mcs-iv'] as string;
      assert.match(iv, /^[0-9a-f]{32}$/);
      const ciphertext = Buffer.from(request.body, 'base64');
      assert.equal(ciphertext.length % 16, 0, 'whole SM4 blocks (PKCS#7)');
      const plain = opensslOn(['enc', '-d', '-sm4-cbc', '-K', SM4_KEY, '-iv', iv, '-in'], ciphertext).toString('utf8');
      assert.deepEqual(JSON.parse(plain), { v: 1, box: BOX, records: frame.records });
      const mac = opensslDigest(['-sm3', '-mac', 'HMAC', '-macopt', `hexkey:${SM4_KEY}`], ciphertext);
      assert.equal(request.headers['x-mcs-sm3-hmac'], mac);
      // The signature covers the body as sent (the base64 text).
      assert.equal(request.headers['x-mcs-signature'], `sha256=${opensslDigest(['-sha256', '-hmac', HMAC_SECRET], `${T0 + 5}.${request.body}`)}`);
    }
    assert.notEqual(requests[0].headers['x-mcs-iv'], requests[1].headers['x-mcs-iv'], 'a fresh IV each time');
    assert.notEqual(requests[0].body, requests[1].body);
    assert.ok(!text().includes(SM4_KEY));
  } finally {
    await transport.close();
  }
});

test('an HTTP 500 fails the frame in words, the transport waits (backoff, not connected), then sends again', async () => {
  const { transport } = open(httpsTarget({ batch_records: 2 }));
  try {
    // The second batch fails: the whole frame is not acknowledged.
    answer = () => (requests.length === 2 ? { status: 500, body: 'database down' } : { status: 200 });
    await assert.rejects(transport.send(frameOf(3)), /HTTP 500 from the server: database down \/ 服务器返回 HTTP 500：database down/);
    const failedAt = Date.now();
    assert.equal(transport.state().connected, false);
    assert.match(transport.state().lastError!, /HTTP 500/);
    // While it waits, a send is refused at once, without a request.
    await assert.rejects(transport.send(frameOf(1)), /HTTP 500/);
    assert.equal(requests.length, 2);
    await nextState(transport, (state) => state.connected, 2000);
    assert.ok(Date.now() - failedAt >= 250, 'waited out the backoff');
    answer = () => ({ status: 202 });
    await transport.send(frameOf(3));
    assert.deepEqual(transport.state(), { connected: true, lastError: null });
  } finally {
    await transport.close();
  }
});

test('TLS, reachability and timeouts are said in words', async () => {
  const untrusted = open(httpsTarget({ ca: '' }));
  const refused = open(httpsTarget({ url: 'https://127.0.0.1:1/ingest' }));
  const slow = open(httpsTarget({ timeout_s: 1 }));
  try {
    assert.match(await untrusted.transport.test(), /^Failed: TLS failed: the certificate of 127\.0\.0\.1:\d+ is not trusted .* \/ 失败：TLS 失败/);
    assert.match(await refused.transport.test(), /^Failed: connection refused by 127\.0\.0\.1:1 .* \/ 失败：127\.0\.0\.1:1 拒绝连接/);
    answer = () => null;
    const started = Date.now();
    await assert.rejects(slow.transport.send(frameOf(1)), /127\.0\.0\.1:\d+: no answer within 1 s \/ .*1 秒内无响应/);
    assert.ok(Date.now() - started < 2500);
    // A URL that passes the schema's pattern but is no URL: said in words, nothing throws.
    const nowhere = open(httpsTarget({ url: 'https://' }));
    assert.equal(await nowhere.transport.test(), 'Failed: the target URL is not a valid URL / 失败：目标地址不是有效的 URL');
    await assert.rejects(nowhere.transport.send(frameOf(1)), /the target URL is not a valid URL/);
    await nowhere.transport.close();
  } finally {
    await Promise.all([untrusted.transport.close(), refused.transport.close(), slow.transport.close()]);
  }
});

test('cloud commands in an answer reach the handler only when the target accepts commands', async () => {
  const resend = { cmd: 'resend', from: T0, to: T0 + 60_000 };
  for (const cloudCommands of [true, false]) {
    const { transport } = open(httpsTarget({ cloud_commands: cloudCommands }));
    const commands: unknown[] = [];
    transport.onCommand((command) => commands.push(command));
    answer = () => ({ status: 200, body: JSON.stringify({ commands: [resend] }) });
    try {
      await transport.send(frameOf(1));
      assert.deepEqual(commands, cloudCommands ? [resend] : []);
    } finally {
      await transport.close();
    }
  }
});

// ALM-5/ALM-6: e-mail through a real SMTP server (smtp-server) on loopback, plain and STARTTLS.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { generate } from 'selfsigned';
import { CHANNELS, testSend } from '../../appliance/notify/channels/index.ts';
import { renderAlarmMessage } from '../../appliance/notify/message.ts';
import { assertAppError, closedPort, notice } from './support.ts';

interface Delivered {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  user: unknown;
}

interface LocalSmtp {
  port: number;
  delivered: Delivered[];
  close(): Promise<void>;
}

const USERS: Record<string, string> = { alarm: 'right-password' };

async function startSmtp(options: SMTPServerOptions): Promise<LocalSmtp> {
  const delivered: Delivered[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    onAuth(auth, _session, callback) {
      if (USERS[auth.username ?? ''] === auth.password) return callback(null, { user: auth.username });
      const err = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
      callback(err);
    },
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith('@nowhere.example')) {
        return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        delivered.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: session.user,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, delivered, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const rendered = renderAlarmMessage(notice, { language: 'en', timezone: 'Asia/Shanghai' });
const recipients = ['safety@factory.example', 'admin@factory.example'];
let plain: LocalSmtp;
let starttls: LocalSmtp;

before(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec' });
  plain = await startSmtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
  starttls = await startSmtp({ key: pems.private, cert: pems.cert });
});
after(async () => {
  await plain.close();
  await starttls.close();
});

const settingsFor = (port: number, overrides: Record<string, unknown> = {}) =>
  CHANNELS.email.validate({ host: '127.0.0.1', port, from: 'MCS Edge <alarm@factory.example>', recipients, ...overrides });

describe('e-mail', () => {
  test('the message reaches every recipient with the alarm title as subject', async () => {
    const ascii = { ...notice, deviceName: 'Boiler room', location: 'Hall 1' };
    const message = renderAlarmMessage(ascii, { language: 'en', timezone: 'Asia/Shanghai' });
    const result = await CHANNELS.email.send(ascii, message, settingsFor(plain.port), { timeoutMs: 1000 });
    assert.equal(result.ok, true, result.detail);
    assert.match(result.detail, /^250 /);
    const mail = plain.delivered.at(-1)!;
    assert.equal(mail.from, 'alarm@factory.example');
    assert.deepEqual(mail.to, recipients);
    const headers = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
    assert.match(headers, /^Subject: \[ALARM\] High gas concentration - Boiler room \(A001\)$/m);
    assert.match(headers, /^To: safety@factory\.example, admin@factory\.example$/m);
    assert.match(mail.raw, /Location: Hall 1\r\n/);
    assert.match(mail.raw, /Value: 3516\.1 ppm\r\n/);
  });

  test('with STARTTLS required and a login, the message goes over TLS as the logged-in user', async () => {
    const settings = settingsFor(starttls.port, { starttls: true, tls_verify: false, user: 'alarm', pass: 'right-password' });
    const result = await CHANNELS.email.send(notice, rendered, settings, { timeoutMs: 1500 });
    assert.equal(result.ok, true, result.detail);
    const mail = starttls.delivered.at(-1)!;
    assert.equal(mail.secure, true, 'upgraded with STARTTLS');
    assert.equal(mail.user, 'alarm');
    assert.deepEqual(mail.to, recipients);
  });

  test('a wrong password is a failure with the server reason that does not retry', async () => {
    const settings = settingsFor(starttls.port, { starttls: true, tls_verify: false, user: 'alarm', pass: 'wrong' });
    const result = await CHANNELS.email.send(notice, rendered, settings, { timeoutMs: 1500 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /^EAUTH: 535 Invalid username or password/);
    assert.equal(!result.ok && result.retryable, false);
  });

  test("a self-signed certificate is refused while tls_verify is on (the default), and that does not retry", async () => {
    const settings = settingsFor(starttls.port, { starttls: true });
    const result = await CHANNELS.email.send(notice, rendered, settings, { timeoutMs: 1500 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/i);
    assert.doesNotMatch(result.detail, /--use-system-ca/, "no Node.js command-line hint an operator cannot act on");
    assert.equal(!result.ok && result.retryable, false);
  });

  test('TLS from the first byte against a plain SMTP port is a failure that does not retry', async () => {
    const result = await CHANNELS.email.send(notice, rendered, settingsFor(plain.port, { secure: true }), { timeoutMs: 1000 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /ERR_SSL_/);
    assert.equal(!result.ok && result.retryable, false, result.detail);
  });

  test('STARTTLS required from a server that does not offer it is a failure that does not retry', async () => {
    const result = await CHANNELS.email.send(notice, rendered, settingsFor(plain.port, { starttls: true }), { timeoutMs: 1000 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /^ETLS: /);
    assert.equal(!result.ok && result.retryable, false, result.detail);
  });

  test('recipients the server refuses make a failure that does not retry', async () => {
    const settings = settingsFor(plain.port, { recipients: ['ghost@nowhere.example'] });
    const result = await CHANNELS.email.send(notice, rendered, settings, { timeoutMs: 1000 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /550 No such user here/);
    assert.equal(!result.ok && result.retryable, false);
  });

  test('a server that is down gives a retryable failure at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await CHANNELS.email.send(notice, rendered, settingsFor(port), { timeoutMs: 1000 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /ECONNREFUSED/);
    assert.equal(!result.ok && result.retryable, true);
    assert.ok(Date.now() - started < 500, 'refused, not timed out');
  });

  test('a server that accepts the connection but never greets gives a retryable failure after the timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      const result = await CHANNELS.email.send(notice, rendered, settingsFor(port), { timeoutMs: 300 });
      const elapsed = Date.now() - started;
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.retryable, true, result.detail);
      assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('e-mail settings', () => {
  test('invalid settings list every problem under AppError 50001', () => {
    assert.throws(
      () =>
        CHANNELS.email.validate({
          host: '',
          port: 70000,
          from: 'not-an-address',
          recipients: ['ok@factory.example', 'bob', 'eve@'],
          user: 'alarm',
          secure: true,
          starttls: true,
        }),
      (err) => assertAppError(err, 50001, ['host', 'port', 'from', 'recipients.1', 'recipients.2', 'pass', 'starttls']),
    );
    assert.throws(
      () => CHANNELS.email.validate({ host: 'smtp.qq.com', from: 'alarm@factory.example', recipients: [] }),
      (err) => assertAppError(err, 50001, ['recipients']),
    );
    assert.throws(() => CHANNELS.email.validate({ host: 'smtp.qq.com' }), (err) => assertAppError(err, 50001, ['from', 'recipients']));
  });

  test('defaults: port 587, opportunistic STARTTLS, certificate checked, no login', () => {
    const settings = CHANNELS.email.validate({ host: 'smtp.qq.com', from: 'alarm@factory.example', recipients: ['a@factory.example'] });
    assert.equal(settings.port, 587);
    assert.equal(settings.secure, false);
    assert.equal(settings.starttls, false);
    assert.equal(settings.tls_verify, true);
    assert.equal(settings.user, undefined);
    assert.deepEqual(CHANNELS.email.secretFields, ['pass']);
  });

  test('test send delivers a test message, and maps a failure to AppError 50002 with the server reason', async () => {
    const ok = await testSend(
      'email',
      { host: '127.0.0.1', port: plain.port, from: 'alarm@factory.example', recipients: ['safety@factory.example'] },
      { language: 'zh-CN', timezone: 'Asia/Shanghai', timeoutMs: 1000 },
    );
    assert.equal(ok.ok, true);
    assert.match(plain.delivered.at(-1)!.raw, /^Subject: =\?UTF-8\?/m, 'a Chinese subject is MIME-encoded');

    await assert.rejects(
      testSend(
        'email',
        { host: '127.0.0.1', port: starttls.port, starttls: true, tls_verify: false, user: 'alarm', pass: 'nope', from: 'alarm@factory.example', recipients: ['a@factory.example'] },
        { language: 'en', timezone: 'UTC', timeoutMs: 1500 },
      ),
      (err) => assertAppError(err, 50002) && /535 Invalid username or password/.test(String((err as { detail: unknown }).detail)),
    );
  });
});

// API-1/API-5/API-7 settings through the API: alarm channels with masked secrets (never in clear
// in the database file either), a test send to a real SMTP server, the kiosk settings and its
// floor-plan upload checked by content, and audit entries for channel, user and ack changes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { reportSystemAlarm } from '../helpers/appliance.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

let api: ApiApp;
let smtp: TestSmtp;
let admin: string;
const SMTP_PASS = 'very-secret-smtp-pass-1234';
const SMS_SECRET = 'sms-signing-secret-5678';

before(async () => {
  api = await startApi();
  admin = api.tokens.admin;
  smtp = await startSmtp();
});
after(async () => {
  await api.stop();
  await smtp.close();
});

const email = () => ({ host: '127.0.0.1', port: smtp.port, user: 'alarm', pass: SMTP_PASS, from: 'alarm@plant.example', recipients: ['safety@plant.example'] });

test('channel secrets are masked when read back, kept when sent back masked, and never in clear in the database file', async () => {
  const saved = await api.call('PUT', '/api/config/alarm', { token: admin, body: { debounce_min: 5, channels: { email: { enabled: true, settings: email() } } } });
  assert.equal(saved.status, 200, saved.text);
  assert.equal(saved.body.channels.email.settings.pass, '******');
  assert.equal(saved.body.debounce_min, 5);
  const read = await api.call('GET', '/api/config/alarm', { token: admin });
  assert.equal(read.body.channels.email.settings.pass, '******');
  assert.doesNotMatch(read.text, new RegExp(SMTP_PASS));
  // The UI sends the form back as it got it: the stored password stays.
  const { updated_at: _u, ...form } = read.body;
  form.debounce_min = 7;
  assert.equal((await api.call('PUT', '/api/config/alarm', { token: admin, body: form })).status, 200);
  assert.equal(api.app.testApi.alarmSettings().channels.email!.settings.pass, SMTP_PASS);
  for (const file of readdirSync(api.dataDir).filter((f) => f.startsWith('mcs-edge.db'))) {
    assert.doesNotMatch(readFileSync(join(api.dataDir, file)).toString('latin1'), new RegExp(SMTP_PASS), file);
  }
  const logs = await api.call('GET', '/api/system/logs?action=config.alarm', { token: admin });
  assert.ok(logs.body.total >= 2);
  assert.equal(logs.body.data[0].before.debounce_min, 5);
  assert.equal(logs.body.data[0].after.debounce_min, 7);
  assert.doesNotMatch(JSON.stringify(logs.body), new RegExp(SMTP_PASS), 'the audit log keeps secrets masked');
});

test('invalid alarm settings get 400 with 50001 and the stored ones stay', async () => {
  const response = await api.call('PUT', '/api/config/alarm', { token: admin, body: { debounce_min: -1, channels: { email: { enabled: true, settings: { host: '' } } } } });
  assert.equal(response.status, 400);
  assert.equal(response.body.code, 50001);
  assert.equal((await api.call('GET', '/api/config/alarm', { token: admin })).body.debounce_min, 7);
});

test('a test send goes through the real SMTP server; an unreachable one answers 50002', async () => {
  const sent = await api.call('POST', '/api/config/alarm/test', { token: admin, body: { channel: 'email' } });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(smtp.mails.length, 1);
  assert.deepEqual(smtp.mails[0].to, ['safety@plant.example']);
  const unreachable = await api.call('POST', '/api/config/alarm/test', { token: admin, body: { channel: 'email', settings: { ...email(), port: 1, pass: '******' } } });
  assert.equal(unreachable.status, 502);
  assert.equal(unreachable.body.code, 50002);
  const unsaved = await api.call('POST', '/api/config/alarm/test', { token: admin, body: { channel: 'sms' } });
  assert.equal(unsaved.body.code, 50001);
});

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);

function multipart(content: Buffer, filename: string, type: string) {
  const boundary = '----mcs-test-boundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

test('the floor plan is uploaded as PNG or JPEG checked by content, served back, and refused otherwise', async () => {
  const uploaded = await api.call('POST', '/api/config/dashboard/bg', { token: admin, ...multipart(PNG, '../../evil.png', 'image/png') });
  assert.equal(uploaded.status, 200, uploaded.text);
  assert.equal(uploaded.body.background.content_type, 'image/png');
  assert.deepEqual(readdirSync(join(api.dataDir, 'dashboard')), ['background.png'], 'the client file name is not used');
  const image = await api.app.api.inject({ method: 'GET', url: `${uploaded.body.background.url}&token=${api.tokens.viewer}` });
  assert.equal(image.statusCode, 200);
  assert.equal(image.headers['content-type'], 'image/png');
  assert.deepEqual(image.rawPayload, PNG);

  const fake = await api.call('POST', '/api/config/dashboard/bg', { token: admin, ...multipart(Buffer.from('<svg onload=alert(1)>'), 'plan.png', 'image/png') });
  assert.equal(fake.status, 400);
  assert.match(fake.body.message, /not a PNG or JPEG/);
  const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(5 * 1024 * 1024 + 10)]);
  const tooBig = await api.call('POST', '/api/config/dashboard/bg', { token: admin, ...multipart(big, 'plan.jpg', 'image/jpeg') });
  assert.equal(tooBig.status, 400);
  assert.match(tooBig.body.message, /5 MB/);
  assert.equal((await api.call('GET', '/api/config/dashboard', { token: admin })).body.background.content_type, 'image/png', 'the refused uploads changed nothing');
});

test('kiosk settings are validated and saved', async () => {
  const saved = await api.call('PUT', '/api/config/dashboard', { token: admin, body: { title: 'Plant 1', stale_after_s: 60 } });
  assert.equal(saved.status, 200);
  assert.equal(saved.body.title, 'Plant 1');
  assert.equal(saved.body.connection_timeout_s, 5);
  assert.equal((await api.call('PUT', '/api/config/dashboard', { token: admin, body: { stale_after_s: 1 } })).status, 400);
  assert.equal((await api.call('PUT', '/api/config/dashboard', { token: admin, body: { script: 'x' } })).status, 400);
});

test('user changes and acknowledgements are audited with before and after', async () => {
  await api.call('POST', '/api/users', { token: admin, body: { username: 'audited', role: 'viewer', password: 'audited-pass-1' } });
  await api.call('PUT', '/api/users/audited', { token: admin, body: { role: 'operator' } });
  const users = await api.call('GET', '/api/system/logs?target=audited', { token: admin });
  const [update, create] = users.body.data;
  assert.equal(update.action, 'user.update');
  assert.deepEqual([update.before.role, update.after.role], ['viewer', 'operator']);
  assert.equal(create.action, 'user.create');
  assert.doesNotMatch(JSON.stringify(users.body), /audited-pass-1|scrypt/);

  const alarm = await reportSystemAlarm(api.app, 'DISK', 'disk', 'low');
  await api.call('POST', '/api/alarms/ack', { token: api.tokens.operator, body: { ids: [alarm.id], comment: 'cleaning up' } });
  const acks = await api.call('GET', `/api/system/logs?action=alarm.ack&target=${alarm.id}`, { token: admin });
  assert.equal(acks.body.data[0].username, 'operator');
  assert.deepEqual(acks.body.data[0].after, { ack_by: 'operator', ack_comment: 'cleaning up' });
});

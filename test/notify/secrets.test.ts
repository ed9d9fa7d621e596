// Issue 16.6 (API-7) through the real parts: the WeCom key, the DingTalk access_token, the Feishu
// hook id and the webhook's Authorization/X-Api-Key headers saved through the API are in neither
// the database file, its -wal file, a backup on disk nor the backup in a real S3-compatible
// bucket; the API and the audit log show them masked; the notices still carry the real keys to a
// real local HTTP server. And a database written by an older version (keys in clear) is sealed at
// start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createS3 } from '../../appliance/archive/s3.ts';
import { REDACTED } from '../../appliance/core/secrets.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { eventually, reportSystemAlarm, startApp, tempDir } from '../helpers/appliance.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { startS3 } from '../helpers/s3.ts';
import { startHttpServer, type Received } from './support.ts';

const WECOM_KEY = '7c1e2a90-wecom-key-4b8f-9d3e5a6b7c8d';
const DINGTALK_TOKEN = 'd1n9t4lk0acc355t0k3n8f7e6d5c4b3a2918';
const DINGTALK_SECRET = 'SECd1n9s1gn5ecr3t0123456789abcdef';
const FEISHU_HOOK = 'f3a1b2c4-fe15-4b00-8c1d-0a9b8c7d6e5f';
const WEBHOOK_TOKEN = 'wh-url-token-5a4b3c2d1e0f';
const WEBHOOK_AUTH = 'Bearer wh-authorization-9f8e7d6c5b4a';
const WEBHOOK_API_KEY = 'wh-api-key-0a1b2c3d4e5f';
const SECRETS = [WECOM_KEY, DINGTALK_TOKEN, DINGTALK_SECRET, FEISHU_HOOK, WEBHOOK_TOKEN, WEBHOOK_AUTH, WEBHOOK_API_KEY];

/** The robots answer as the real ones do when the message is accepted. */
const robots = () =>
  startHttpServer((request: Received) =>
    request.url.pathname.startsWith('/open-apis') ? { json: { code: 0, msg: 'success' } }
    : request.url.pathname.startsWith('/hook') ? { status: 204 }
    : { json: { errcode: 0, errmsg: 'ok' } });

function channels(base: string) {
  return {
    wecom: { enabled: true, settings: { url: `${base}/cgi-bin/webhook/send?key=${WECOM_KEY}` } },
    dingtalk: { enabled: true, settings: { url: `${base}/robot/send?access_token=${DINGTALK_TOKEN}`, secret: DINGTALK_SECRET } },
    feishu: { enabled: true, settings: { url: `${base}/open-apis/bot/v2/hook/${FEISHU_HOOK}` } },
    webhook: {
      enabled: true,
      settings: { url: `${base}/hook?site=east&token=${WEBHOOK_TOKEN}`, headers: { Authorization: WEBHOOK_AUTH, 'X-Api-Key': WEBHOOK_API_KEY } },
    },
  };
}

/** Which of the secrets occur in `bytes` (as text: JSON in SQLite pages is stored as UTF-8). */
const found = (bytes: Buffer) => SECRETS.filter((secret) => bytes.toString('latin1').includes(secret));

function databaseFiles(api: ApiApp): string[] {
  return readdirSync(api.dataDir).filter((name) => name.startsWith('mcs-edge.db')).map((name) => join(api.dataDir, name));
}

/** The masked view the API must give for `channels(base)`. */
function masked(base: string) {
  return {
    wecom: `${base}/cgi-bin/webhook/send?key=${REDACTED}`,
    dingtalk: `${base}/robot/send?access_token=${REDACTED}`,
    feishu: `${base}/open-apis/bot/v2/hook/${REDACTED}`,
    webhook: `${base}/hook?site=east&token=${REDACTED}`,
  };
}

function assertDelivered(requests: Received[], base: string) {
  const byPath = (prefix: string) => requests.find((r) => r.url.pathname.startsWith(prefix));
  assert.equal(byPath('/cgi-bin/webhook/send')?.url.searchParams.get('key'), WECOM_KEY, 'WeCom got the real key');
  const dingtalk = byPath('/robot/send');
  assert.equal(dingtalk?.url.searchParams.get('access_token'), DINGTALK_TOKEN, 'DingTalk got the real access_token');
  assert.ok(dingtalk?.url.searchParams.get('sign'), 'and a signature made with the real secret');
  assert.equal(byPath('/open-apis/bot/v2/hook/')?.url.pathname, `/open-apis/bot/v2/hook/${FEISHU_HOOK}`, 'Feishu got the real hook id');
  const hook = byPath('/hook');
  assert.equal(hook?.url.searchParams.get('token'), WEBHOOK_TOKEN);
  assert.equal(hook?.headers.authorization, WEBHOOK_AUTH, 'the webhook got the real Authorization header');
  assert.equal(hook?.headers['x-api-key'], WEBHOOK_API_KEY);
  assert.ok(base);
}

test('keys in URLs and header values saved through the API: sealed in the database, its WAL and the backups (local and S3), masked in the API and the audit log, real in the notices', async () => {
  const server = await robots();
  const s3 = await startS3();
  const api = await startApi();
  const admin = api.tokens.admin;
  try {
    assert.equal((await api.call('PUT', '/api/config/storage', { token: admin, body: s3.settings() })).status, 200);
    const saved = await api.call('PUT', '/api/config/alarm', { token: admin, body: { channels: channels(server.url) } });
    assert.equal(saved.status, 200, saved.text);

    // The API: masked where the key was, the rest readable; header names readable, values masked.
    const read = await api.call('GET', '/api/config/alarm', { token: admin });
    const shown = masked(server.url);
    for (const kind of ['wecom', 'dingtalk', 'feishu', 'webhook'] as const) assert.equal(read.body.channels[kind].settings.url, shown[kind], kind);
    assert.deepEqual(read.body.channels.webhook.settings.headers, { Authorization: REDACTED, 'X-Api-Key': REDACTED });
    assert.equal(read.body.channels.dingtalk.settings.secret, REDACTED);
    assert.deepEqual(SECRETS.filter((s) => read.text.includes(s) || saved.text.includes(s)), []);

    // The form sent back as it came keeps every stored key; a changed path keeps the key too.
    const { updated_at: _u, ...form } = read.body;
    form.debounce_min = 9;
    form.channels.wecom.settings.url = `${server.url}/cgi-bin/webhook/send?debug=0&key=${REDACTED}`;
    const again = await api.call('PUT', '/api/config/alarm', { token: admin, body: form });
    assert.equal(again.status, 200, again.text);
    const current = api.app.testApi.alarmSettings().channels;
    assert.equal(current.wecom!.settings.url, `${server.url}/cgi-bin/webhook/send?debug=0&key=${WECOM_KEY}`);
    assert.equal(current.dingtalk!.settings.url, channels(server.url).dingtalk.settings.url);
    assert.equal(current.feishu!.settings.url, channels(server.url).feishu.settings.url);
    assert.deepEqual(current.webhook!.settings, { ...channels(server.url).webhook.settings, url: channels(server.url).webhook.settings.url });

    // Another host with the key still masked: refused (the key would go to a server it was not typed for).
    const moved = structuredClone(form);
    moved.channels.wecom.settings.url = `http://attacker.invalid/cgi-bin/webhook/send?key=${REDACTED}`;
    const refused = await api.call('PUT', '/api/config/alarm', { token: admin, body: moved });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 50001);
    assert.match(refused.text, /wecom.url: still holds/);
    const testMoved = await api.call('POST', '/api/config/alarm/test', { token: admin, body: { channel: 'wecom', settings: moved.channels.wecom.settings } });
    assert.equal(testMoved.body.code, 50001, 'nor is it tried in a test send');
    assert.equal(api.app.testApi.alarmSettings().channels.wecom!.settings.url, current.wecom!.settings.url);

    // A test send of the form with a masked key goes out with the real one.
    const before = server.received.length;
    const tried = await api.call('POST', '/api/config/alarm/test', { token: admin, body: { channel: 'webhook', settings: read.body.channels.webhook.settings } });
    assert.equal(tried.status, 200, tried.text);
    assert.equal(server.received[before].headers.authorization, WEBHOOK_AUTH);

    // A real alarm: its notices go through the outbox to every channel with the real keys.
    const sent = server.received.length;
    await reportSystemAlarm(api.app, 'DISK', 'secrets-test', 'disk nearly full');
    await eventually(() => server.received.length >= sent + 4, 10_000, 'the four notices');
    assertDelivered(server.received.slice(sent), server.url);

    // The audit log shows the changes masked.
    const logs = await api.call('GET', '/api/system/logs?action=config.alarm', { token: admin });
    assert.equal(logs.body.total, 2);
    assert.deepEqual(SECRETS.filter((s) => logs.text.includes(s)), []);
    assert.equal(logs.body.data[1].after.channels.wecom.settings.url, shown.wecom, 'the audit entry shows where the key was');

    // At rest: the database file and its WAL (while running), then a backup on disk and in the bucket.
    const files = databaseFiles(api);
    assert.ok(files.some((file) => file.endsWith('-wal')), 'the WAL is there to be checked');
    for (const file of files) assert.deepEqual(found(readFileSync(file)), [], file);
    const backup = await api.call('POST', '/api/system/backups', { token: admin });
    assert.equal(backup.status, 200, backup.text);
    assert.ok(backup.body.uploaded_key, `uploaded: ${backup.body.upload_error}`);
    const local = gunzipSync(readFileSync(join(api.dataDir, 'backups', backup.body.file)));
    assert.ok(local.toString('latin1').includes('enc:v1:'), 'the backup holds the sealed settings');
    assert.deepEqual(found(local), [], 'the local backup');
    const bucket = createS3(api.app.testApi.storageSettings());
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await bucket.get(backup.body.uploaded_key)) chunks.push(chunk as Buffer);
      const uploaded = gunzipSync(Buffer.concat(chunks));
      assert.equal(uploaded.length, local.length);
      assert.deepEqual(found(uploaded), [], 'the backup in the bucket');
    } finally {
      bucket.destroy();
    }
  } finally {
    await api.stop();
    await s3.stop();
    await server.close();
  }
});

test('a database an older version wrote with the keys in clear is sealed at start, its old audit entries masked, and nothing of it stays in the file or the WAL', async () => {
  const server = await robots();
  const data = tempDir();
  try {
    // What an older version stored: the settings and the audit entry of their save, in clear.
    const old = openDb(dbFileIn(data.dir));
    const settings = { channels: channels(server.url) };
    old.prepare("INSERT INTO system_config (key, value, updated_at) VALUES ('alarm', ?, 1)").run(JSON.stringify(settings));
    old.prepare("INSERT INTO audit_log (at, username, ip, action, target, before, after) VALUES (1, 'admin', '127.0.0.1', 'config.alarm', 'alarm', NULL, ?)")
      .run(JSON.stringify(settings));
    old.close();
    assert.deepEqual(found(readFileSync(dbFileIn(data.dir))).sort(), [...SECRETS].sort(), 'the old file holds them all in clear');

    const api = await startApi({}, { dataDir: data.dir });
    try {
      for (const file of databaseFiles(api)) assert.deepEqual(found(readFileSync(file)), [], file);
      assert.ok(api.logs.some((line) => /now sealed \(issue 16\.6\)/.test(line.msg)), 'the upgrade says what it did');
      const read = await api.call('GET', '/api/config/alarm', { token: api.tokens.admin });
      assert.equal(read.body.channels.wecom.settings.url, masked(server.url).wecom);
      const logs = await api.call('GET', '/api/system/logs?action=config.alarm', { token: api.tokens.admin });
      assert.equal(logs.body.total, 1);
      assert.equal(logs.body.data[0].after.channels.dingtalk.settings.url, masked(server.url).dingtalk);
      assert.deepEqual(logs.body.data[0].after.channels.webhook.settings.headers, { Authorization: REDACTED, 'X-Api-Key': REDACTED });

      const sent = server.received.length;
      await reportSystemAlarm(api.app, 'DISK', 'secrets-upgrade', 'disk nearly full');
      await eventually(() => server.received.length >= sent + 4, 10_000, 'the four notices');
      assertDelivered(server.received.slice(sent), server.url);

      const backup = await api.call('POST', '/api/system/backups', { token: api.tokens.admin });
      assert.deepEqual(found(gunzipSync(readFileSync(join(api.dataDir, 'backups', backup.body.file)))), [], 'the backup');
    } finally {
      await api.stop();
    }
    // A second start finds nothing left to seal.
    const again = await startApp({}, { dataDir: data.dir });
    try {
      assert.ok(!again.logs.some((line) => /now sealed \(issue 16\.6\)/.test(line.msg)));
    } finally {
      await again.stop();
    }
  } finally {
    data.remove();
    await server.close();
  }
});

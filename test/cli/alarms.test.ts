// `mcs-edge alarms …` on a real data dir, with a local webhook receiver for the test send.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAlarmsCommand } from '../../appliance/cli/alarms.ts';
import { createAlarmWriteRepository } from '../../appliance/storage/alarms.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { tempDir, testConfig } from '../helpers/appliance.ts';
import { startHttpServer } from '../notify/support.ts';

let temp: ReturnType<typeof tempDir>;
let lines: string[];
const run = (...argv: string[]) => runAlarmsCommand(argv, testConfig(temp.dir, { site: { language: 'en', timezone: 'UTC' } }), (l) => lines.push(l));

beforeEach(() => {
  temp = tempDir();
  lines = [];
});
afterEach(() => temp.remove());

function settingsFile(settings: unknown): string {
  const file = join(temp.dir, 'alarm.json');
  writeFileSync(file, JSON.stringify(settings));
  return file;
}

test('settings set stores validated settings and show prints them with secrets hidden', async () => {
  const file = settingsFile({ debounce_min: 5, channels: { webhook: { enabled: true, settings: { url: 'http://127.0.0.1:9/hook', secret: 'hmac-secret' } } } });
  assert.equal(await run('settings', 'set', file), 0);
  assert.match(lines.join('\n'), /channels on: webhook/);
  lines = [];
  assert.equal(await run('settings', 'show'), 0);
  const shown = JSON.parse(lines.join('\n'));
  assert.equal(shown.debounce_min, 5);
  assert.equal(shown.channels.webhook.settings.secret, '******');
});

test('invalid settings are refused with 50001 and nothing is saved', async () => {
  const file = settingsFile({ channels: { email: { enabled: true, settings: { host: '', from: 'x', recipients: [] } } } });
  assert.equal(await run('settings', 'set', file), 1);
  lines = [];
  await run('settings', 'show');
  assert.deepEqual(JSON.parse(lines.join('\n')).channels, {});
});

test('list shows the alarms and ack acknowledges them once', async () => {
  const db = openDb(dbFileIn(temp.dir));
  const alarms = createAlarmWriteRepository(db);
  const { id } = alarms.insert({ sn: 'GAS-1', source: 'GAS-1', type: 'HIGH', value: 1500, threshold: 1000, detail: null, at: Date.UTC(2026, 0, 1) });
  db.close();
  assert.equal(await run('list', '--active'), 0);
  assert.match(lines[0], /#1\t2026-01-01T00:00:00.000Z\tGAS-1\tHIGH\tactive\t1500\tunacknowledged/);
  lines = [];
  assert.equal(await run('ack', String(id), '--by', 'operator', '--comment', 'ventilated'), 0);
  assert.equal(await run('ack', String(id), '--by', 'someone'), 0);
  assert.deepEqual(lines, ['acknowledged 1 of 1', 'acknowledged 0 of 1']);
  assert.equal(await run('ack', String(id)), 1, '--by is required');
});

test('test sends through a configured channel and reports the server reason when it fails', async () => {
  const receiver = await startHttpServer((request) => (request.url.pathname === '/ok' ? { json: { ok: true } } : { status: 403, text: 'forbidden by policy' }));
  try {
    assert.equal(await run('settings', 'set', settingsFile({ channels: { webhook: { enabled: true, settings: { url: `${receiver.url}/ok` } } } })), 0);
    assert.equal(await run('test', 'webhook'), 0);
    assert.equal(receiver.received.length, 1);
    assert.equal(await run('settings', 'set', settingsFile({ channels: { webhook: { enabled: true, settings: { url: `${receiver.url}/denied` } } } })), 0);
    assert.equal(await run('test', 'webhook'), 1);
    assert.equal(await run('test', 'sms'), 1, 'not configured');
  } finally {
    await receiver.close();
  }
});

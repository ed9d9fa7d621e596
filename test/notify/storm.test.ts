// Issue 15.4: an OFFLINE storm is one grouped notice per channel. The decision (pure), the
// rendering in both languages, and the outbox grouping on a real SQLite file with a hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { AlarmSettingsSchema, DEFAULT_ALARM_SETTINGS } from '../../appliance/contract/alarm.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { templateParam } from '../../appliance/notify/channels/sms.ts';
import { countedList, renderAlarmMessage, STORM_MARKDOWN_LIST, type AlarmNotice, type OfflineDetector } from '../../appliance/notify/message.ts';
import { createOutbox, type Deliver, type DeliveryResult, type OutboxRow } from '../../appliance/notify/outbox.ts';
import { inOfflineStorm, planOfflineDelivery, type OfflineStorm, type StormCandidate } from '../../appliance/notify/policy.ts';
import { dbAndClockForEachTest, drainOutbox, notificationJournal } from './support.ts';

const STORM: OfflineStorm = { enabled: true, threshold: 5, window_s: 60, hold_s: 10 };
const T0 = Date.UTC(2026, 0, 1, 8);

// ---- the decision -------------------------------------------------------------------------------

test('more than the threshold within the window is a storm; the threshold itself is not', () => {
  const five = [0, 1, 2, 3, 4].map((s) => T0 + s * 1000);
  const six = [...five, T0 + 5000];
  assert.equal(inOfflineStorm(T0, five, STORM), false, '5 is not more than 5');
  assert.equal(inOfflineStorm(T0, six, STORM), true);
  assert.equal(inOfflineStorm(T0 + 5000, six, STORM), true, 'the last of them too');
  assert.equal(inOfflineStorm(T0, six, { ...STORM, enabled: false }), false, 'switched off');
});

test('six spread over more than the window is no storm; a window holding the alarm must hold the others', () => {
  const spread = [0, 20, 40, 61, 80, 100].map((s) => T0 + s * 1000);
  assert.equal(inOfflineStorm(T0 + 61_000, spread, STORM), false);
  // Six within a minute, then one two minutes later: the late one is on its own.
  const storm = [0, 1, 2, 3, 4, 5].map((s) => T0 + s * 1000);
  const late = T0 + 125_000;
  assert.equal(inOfflineStorm(late, [...storm, late], STORM), false);
  assert.equal(inOfflineStorm(T0 + 3000, [...storm, late], STORM), true);
  // A storm going on: the 7th, 50 s after the first, still falls in a window with the others.
  assert.equal(inOfflineStorm(T0 + 50_000, [...storm, T0 + 50_000], STORM), true);
});

const candidate = (id: number, s: number, status: StormCandidate['status'] = 'pending'): StormCandidate => ({ id, created_at: T0 + s * 1000, status });

test('a storm row goes with every pending row around it, itself first; sent ones count but are not sent again', () => {
  const rows = [candidate(1, 0, 'sent'), candidate(2, 0, 'sent'), candidate(3, 1), candidate(4, 1), candidate(5, 2), candidate(6, 2)];
  assert.deepEqual(planOfflineDelivery(rows[3], rows, STORM), { group: true, ids: [4, 3, 5, 6] });
  assert.deepEqual(planOfflineDelivery(rows[3], rows.slice(0, 5), STORM), { group: false }, 'five: no storm, sent alone');
  const lastOne = rows.map((r) => (r.id === 6 ? r : { ...r, status: 'sent' as const }));
  assert.deepEqual(planOfflineDelivery(lastOne[5], lastOne, STORM), { group: false }, 'alone in its group: its own message');
  const many = Array.from({ length: 30 }, (_, i) => candidate(i + 1, 0));
  const capped = planOfflineDelivery(many[0], many, STORM, 10);
  assert.ok(capped.group && capped.ids.length === 10 && capped.ids[0] === 1, 'at most maxGroup rows');
});

test('the storm settings have defaults and are validated', () => {
  assert.deepEqual(DEFAULT_ALARM_SETTINGS.offline_storm, { enabled: true, threshold: 5, window_s: 60, hold_s: 10 });
  const errors = (storm: unknown) => [...Value.Errors(AlarmSettingsSchema, Value.Default(AlarmSettingsSchema, { offline_storm: storm }))].map((e) => e.path);
  assert.deepEqual(errors({ threshold: 20, window_s: 120 }), []);
  assert.deepEqual(errors({ threshold: 0 }), ['/offline_storm/threshold']);
  assert.deepEqual(errors({ window_s: 0 }), ['/offline_storm/window_s']);
  assert.deepEqual(errors({ hold_s: 301 }), ['/offline_storm/hold_s']);
  assert.deepEqual(errors({ spread: 3 }), ['/offline_storm/spread']);
});

// ---- the message ----------------------------------------------------------------------------------

function stormNotice(n: number): AlarmNotice {
  const group: OfflineDetector[] = Array.from({ length: n }, (_, i) => ({
    sn: `GD${String(i + 1).padStart(4, '0')}`, deviceName: `Detector ${i + 1}`, location: i % 2 ? 'Hall 2' : 'Tank farm', at: T0 + i * 100,
  }));
  return {
    alarmId: 1, event: 'raised', type: 'OFFLINE', sn: group[0].sn, deviceName: group[0].deviceName, location: group[0].location,
    value: null, limit: null, unit: '', at: T0, priority: 'medium', group,
  };
}

test('a grouped notice lists every detector with name, serial and location, in both languages', () => {
  const en = renderAlarmMessage(stormNotice(500), { language: 'en', timezone: 'Asia/Shanghai' });
  assert.equal(en.title, '[ALARM] [medium] Device offline - 500 detectors');
  assert.match(en.text, /^- Detector 1 \(GD0001\), Tank farm$/m);
  assert.match(en.text, /^- Detector 500 \(GD0500\), Hall 2$/m);
  assert.equal(en.text.split('\n').filter((l) => l.startsWith('- ')).length, 500, 'the e-mail lists them all');
  assert.match(en.text, /Time: 2026-01-01 16:00:00 UTC\+8 – 2026-01-01 16:00:49 UTC\+8$/m, 'first and last, site time');
  const listed = en.markdown.split('\n').filter((l) => l.startsWith('- '));
  assert.equal(listed.length, STORM_MARKDOWN_LIST, 'robots get the first ones');
  assert.match(en.markdown, /… and 480 more/);
  const zh = renderAlarmMessage(stormNotice(500), { language: 'zh-CN', timezone: 'Asia/Shanghai' });
  assert.equal(zh.title, '【报警】[中] 设备离线 - 500台设备');
  assert.match(zh.text, /数量：500台设备/);
  assert.match(zh.text, /^- Detector 2 \(GD0002\)、Hall 2$/m);
  assert.match(zh.markdown, /……另有480台/);
});

test('for SMS each fact fits an Aliyun template variable and keeps the count', () => {
  for (const language of ['en', 'zh-CN'] as const) {
    const { facts } = renderAlarmMessage(stormNotice(500), { language, timezone: 'UTC' });
    for (const [name, value] of Object.entries(facts)) assert.ok(value.length <= 35, `${language} ${name}: ${value}`);
    assert.match(facts.device, /^500/);
    assert.ok(facts.device.endsWith('…'));
    const param = JSON.parse(templateParam({ device: 'device', where: 'location' }, facts));
    assert.equal(param.device, facts.device, 'not cut again by the channel');
    assert.equal(param.where, language === 'en' ? 'Tank farm, Hall 2' : 'Tank farm、Hall 2');
  }
  assert.equal(countedList('3: ', ['a', 'b', 'c'], ', '), '3: a, b, c');
  assert.equal(countedList('9: ', ['a-very-long-name-indeed-longer-than-all'], ', ', 20), '9: a-very-long-name…');
  assert.equal(countedList('9: ', ['aaaaaaa', 'bbbbbbb', 'ccccccc'], ', ', 20), '9: aaaaaaa, bbbbbbb…');
});

test('a notice without a group renders as before', () => {
  const single = { ...stormNotice(1), group: undefined };
  const rendered = renderAlarmMessage(single, { language: 'en', timezone: 'UTC' });
  assert.equal(rendered.title, '[ALARM] [medium] Device offline - Detector 1 (GD0001)');
  assert.equal(rendered.facts.device, 'Detector 1');
});

// ---- the outbox on real SQLite --------------------------------------------------------------------

const fixture = dbAndClockForEachTest(T0);
const { clock } = fixture;

const insertAlarm = () => fixture.db.prepare(`
  INSERT INTO alarms (sn, source, type, state, triggered_at, updated_at) VALUES (@sn, @sn, @type, 'active', @at, @at)`);
const insertRow = () => fixture.db.prepare(`
  INSERT INTO notification_outbox (alarm_id, event, channel, status, next_attempt_at, created_at, updated_at)
  VALUES (@alarmId, 'raised', @channel, 'pending', @at, @at, @at)`);

/** Alarms of `type` raised now, each with a row per channel, as the writer commits them. */
let serial = 0;
function raise(type: string, count: number, channels = ['email', 'webhook']): { alarms: number[]; rows: number[] } {
  const alarms: number[] = [];
  const rows: number[] = [];
  fixture.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const alarmId = Number(insertAlarm().run({ sn: `SN-${++serial}`, type, at: clock.now() }).lastInsertRowid);
      alarms.push(alarmId);
      for (const channel of channels) rows.push(Number(insertRow().run({ alarmId, channel, at: clock.now() }).lastInsertRowid));
    }
  })();
  return { alarms, rows };
}

interface Call { channel: string; alarms: (number | null)[] }
function recording(answer: (call: Call) => DeliveryResult = () => ({ ok: true, detail: '250 queued' })): Deliver & { calls: Call[] } {
  const calls: Call[] = [];
  const fn: Deliver = async (row, _signal, group?: OutboxRow[]) => {
    const call = { channel: row.channel, alarms: (group ?? [row]).map((r) => r.alarm_id) };
    calls.push(call);
    return answer(call);
  };
  return Object.assign(fn, { calls });
}

const outboxWith = (deliver: Deliver, storm: OfflineStorm | undefined = STORM) =>
  createOutbox({ db: fixture.db, clock, log: silentLogger(), deliver, baseBackoffMs: 1000, maxBackoffMs: 8000, maxAttempts: 3, storm: () => storm });

const journalOf = (alarmId: number) => notificationJournal(fixture.db, alarmId);

test('an OFFLINE storm waits the hold, then goes as one delivery per channel; every row and journal gets the result', async () => {
  const deliver = recording();
  const box = outboxWith(deliver);
  const { alarms } = raise('OFFLINE', 40);
  clock.advance(3000);
  raise('OFFLINE', 10); // more join while the first ones wait
  await drainOutbox(box);
  assert.equal(deliver.calls.length, 0, 'held');
  clock.advance(7000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => [c.channel, c.alarms.length]).sort(), [['email', 50], ['webhook', 50]]);
  assert.equal(fixture.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM notification_outbox WHERE status = 'sent'").get()!.n, 100);
  assert.equal(box.backlog(), 0);
  const journal = journalOf(alarms[17]);
  assert.deepEqual(journal.map((j) => j.actor).sort(), ['email', 'webhook']);
  assert.match(journal[0].detail, /^raised \(one grouped notice for 50 offline detectors\): sent: 250 queued$/);
});

test('a single OFFLINE waits the hold and goes alone; other types are never held, even behind a storm', async () => {
  const deliver = recording();
  const box = outboxWith(deliver);
  raise('OFFLINE', 600, ['email']); // more than the 500 due rows looked at each round
  raise('HIGH', 1, ['email']);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => c.alarms.length), [1], 'the gas alarm at once');
  clock.advance(10_000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.slice(1).map((c) => c.alarms.length), [600], `one grouped e-mail (${MAX_GROUP_NOTE})`);

  clock.advance(10 * 60_000);
  const lone = raise('OFFLINE', 1, ['email']);
  await drainOutbox(box);
  assert.equal(deliver.calls.length, 2);
  clock.advance(10_000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls[2].alarms, lone.alarms, 'its own one-detector message');
  assert.match(journalOf(lone.alarms[0])[0].detail, /^raised: sent/);
});
const MAX_GROUP_NOTE = 'up to 1000 a notice';

test('a storm going on after its notice is grouped again; without storm settings nothing is held or grouped', async () => {
  const deliver = recording();
  const box = outboxWith(deliver);
  raise('OFFLINE', 8, ['sms']);
  clock.advance(10_000);
  await drainOutbox(box);
  clock.advance(20_000);
  raise('OFFLINE', 3, ['sms']); // 30 s later: part of the same storm
  clock.advance(10_000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => c.alarms.length), [8, 3]);

  const plain = recording();
  const unstormy = createOutbox({ db: fixture.db, clock, log: silentLogger(), deliver: plain });
  clock.advance(10 * 60_000);
  raise('OFFLINE', 8, ['webhook']);
  await drainOutbox(unstormy);
  assert.equal(plain.calls.length, 8, 'one per row, at once');
  assert.ok(plain.calls.every((c) => c.alarms.length === 1));
  const off = recording();
  const switchedOff = outboxWith(off, { ...STORM, enabled: false });
  raise('OFFLINE', 8, ['webhook']);
  await drainOutbox(switchedOff);
  assert.deepEqual(off.calls.map((c) => c.alarms.length), [1, 1, 1, 1, 1, 1, 1, 1], 'switched off: as before');
});

test('a grouped failure marks every row, retries them together with backoff, and gives up on all of them', async () => {
  let answer: DeliveryResult = { ok: false, detail: 'connection refused', retryable: true };
  const deliver = recording(() => answer);
  const box = outboxWith(deliver);
  const { alarms, rows } = raise('OFFLINE', 12, ['email']);
  clock.advance(10_000);
  await drainOutbox(box);
  const statuses = () => rows.map((id) => { const r = box.get(id)!; return `${r.status}/${r.attempts}`; });
  assert.deepEqual(new Set(statuses()), new Set(['pending/1']));
  assert.ok(rows.every((id) => box.attempts(id).length === 1 && box.get(id)!.last_error === 'connection refused'));
  clock.advance(999);
  await drainOutbox(box);
  assert.equal(deliver.calls.length, 1, 'not before the backoff');
  clock.advance(1);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => c.alarms.length), [12, 12], 'retried as one group');
  assert.deepEqual(new Set(statuses()), new Set(['pending/2']));
  assert.match(journalOf(alarms[5])[1].detail, /one grouped notice for 12 offline detectors\): failed \(attempt 2, retried\)/);
  answer = { ok: false, detail: '550 relay denied', retryable: false };
  clock.advance(2000);
  await drainOutbox(box);
  assert.deepEqual(new Set(statuses()), new Set(['failed/3']));
  assert.match(journalOf(alarms[11])[2].detail, /failed for good after 3 attempts: 550 relay denied/);

  // And a group that fails once then passes: every row sent.
  answer = { ok: false, detail: 'timeout', retryable: true };
  clock.advance(10 * 60_000);
  const second = raise('OFFLINE', 7, ['email']);
  clock.advance(10_000);
  await drainOutbox(box);
  answer = { ok: true, detail: '250 ok' };
  clock.advance(1000);
  await drainOutbox(box);
  assert.ok(second.rows.every((id) => box.get(id)!.status === 'sent' && box.attempts(id).map((a) => a.ok).join() === '0,1'));
});

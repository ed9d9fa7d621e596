// Issue 15.4, the returns after an OFFLINE storm: the 'cleared' notices of OFFLINE alarms are held
// and grouped per channel like the storm itself, judged on the clearing times alone, never mixed
// with 'raised' notices. The decision (pure), the rendering in both languages, and the outbox on a
// real SQLite file with a hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../appliance/core/log.ts';
import { renderAlarmMessage, type AlarmNotice, type OfflineDetector } from '../../appliance/notify/message.ts';
import { createOutbox, type Deliver, type OutboxRow } from '../../appliance/notify/outbox.ts';
import { stormEventOf, type OfflineStorm } from '../../appliance/notify/policy.ts';
import { dbAndClockForEachTest, drainOutbox, notificationJournal } from './support.ts';

const STORM: OfflineStorm = { enabled: true, threshold: 5, window_s: 60, hold_s: 10 };
const T0 = Date.UTC(2026, 0, 1, 8);

test('the storm groups the raised and the cleared notices of OFFLINE alarms only, never an escalation step', () => {
  const row = (event: string, escalation_step: number | null = null) => ({ event, escalation_step });
  assert.equal(stormEventOf(row('raised'), 'OFFLINE'), 'raised');
  assert.equal(stormEventOf(row('cleared'), 'OFFLINE'), 'cleared');
  assert.equal(stormEventOf(row('level'), 'OFFLINE'), null);
  assert.equal(stormEventOf(row('raised', 1), 'OFFLINE'), null, 'an escalation step goes alone');
  assert.equal(stormEventOf(row('cleared'), 'HIGH'), null, 'gas returns are never held');
  assert.equal(stormEventOf(row('cleared'), null), null);
});

// ---- the message ----------------------------------------------------------------------------------

function returnsNotice(n: number): AlarmNotice {
  const group: OfflineDetector[] = Array.from({ length: n }, (_, i) => ({
    sn: `GD${String(i + 1).padStart(4, '0')}`, deviceName: `Detector ${i + 1}`, location: 'Hall 2', at: T0 + i * 1000,
  }));
  return {
    alarmId: 1, event: 'cleared', type: 'OFFLINE', sn: group[0].sn, deviceName: group[0].deviceName, location: group[0].location,
    value: null, limit: null, unit: '', at: T0, priority: 'medium', group,
  };
}

test('a grouped notice of returns says cleared and back online, with the return times, in both languages', () => {
  const en = renderAlarmMessage(returnsNotice(120), { language: 'en', timezone: 'Asia/Shanghai' });
  assert.equal(en.title, '[CLEARED] [medium] Device offline - 120 detectors');
  assert.match(en.text, /^State: cleared$/m);
  assert.match(en.text, /came back online together/);
  assert.doesNotMatch(en.text, /went offline together/);
  assert.match(en.text, /^Time: 2026-01-01 16:00:00 UTC\+8 – 2026-01-01 16:01:59 UTC\+8$/m);
  assert.equal(en.text.split('\n').filter((l) => l.startsWith('- ')).length, 120);
  assert.equal(en.facts.state, 'cleared');
  assert.match(en.facts.device, /^120 detectors: /);
  const zh = renderAlarmMessage(returnsNotice(120), { language: 'zh-CN', timezone: 'Asia/Shanghai' });
  assert.equal(zh.title, '【恢复】[中] 设备离线 - 120台设备');
  assert.match(zh.text, /状态：已恢复/);
  assert.match(zh.text, /同时恢复在线/);
  const raised = renderAlarmMessage({ ...returnsNotice(120), event: 'raised' }, { language: 'en', timezone: 'UTC' });
  assert.equal(raised.title, '[ALARM] [medium] Device offline - 120 detectors', 'the storm itself as before');
});

// ---- the outbox on real SQLite --------------------------------------------------------------------

const fixture = dbAndClockForEachTest(T0);
const { clock } = fixture;

let serial = 0;
/** OFFLINE (or `type`) alarms raised now, each with a 'raised' row per channel, as the writer commits them. */
function raise(count: number, channels: string[], type = 'OFFLINE'): number[] {
  const alarm = fixture.db.prepare(`INSERT INTO alarms (sn, source, type, state, triggered_at, updated_at) VALUES (@sn, @sn, @type, 'active', @at, @at)`);
  const alarms: number[] = [];
  fixture.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = Number(alarm.run({ sn: `SN-${++serial}`, type, at: clock.now() }).lastInsertRowid);
      alarms.push(id);
      queue(id, 'raised', channels);
    }
  })();
  return alarms;
}
/** The alarms clear now, each with a 'cleared' row per channel. */
function clear(alarms: number[], channels: string[]) {
  fixture.db.transaction(() => {
    for (const id of alarms) {
      fixture.db.prepare("UPDATE alarms SET state = 'cleared', cleared_at = ?, updated_at = ? WHERE id = ?").run(clock.now(), clock.now(), id);
      queue(id, 'cleared', channels);
    }
  })();
}
function queue(alarmId: number, event: string, channels: string[]) {
  for (const channel of channels) {
    fixture.db.prepare(`INSERT INTO notification_outbox (alarm_id, event, channel, status, next_attempt_at, created_at, updated_at)
      VALUES (?, ?, ?, 'pending', ?, ?, ?)`).run(alarmId, event, channel, clock.now(), clock.now(), clock.now());
  }
}

interface Call { channel: string; event: string; alarms: (number | null)[] }
function recording(): Deliver & { calls: Call[] } {
  const calls: Call[] = [];
  const fn: Deliver = async (row, _signal, group?: OutboxRow[]) => {
    const rows = group ?? [row];
    assert.ok(rows.every((r) => r.event === row.event), 'one event per delivery');
    calls.push({ channel: row.channel, event: row.event, alarms: rows.map((r) => r.alarm_id) });
    return { ok: true, detail: '250 queued' };
  };
  return Object.assign(fn, { calls });
}
const outboxWith = (deliver: Deliver, storm: OfflineStorm = STORM) => createOutbox({ db: fixture.db, clock, log: silentLogger(), deliver, storm: () => storm });
const journalOf = (alarmId: number) => notificationJournal(fixture.db, alarmId);

test('the returns of a storm wait the hold and go as one "cleared" delivery per channel, each journal noting it', async () => {
  const deliver = recording();
  const box = outboxWith(deliver);
  const alarms = raise(40, ['email', 'sms']);
  clock.advance(10_000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => `${c.channel}:${c.event}:${c.alarms.length}`).sort(), ['email:raised:40', 'sms:raised:40']);

  clock.advance(5 * 60_000);
  clear(alarms.slice(0, 30), ['email', 'sms']);
  clock.advance(4000);
  clear(alarms.slice(30), ['email', 'sms']); // more come back while the first ones wait
  await drainOutbox(box);
  assert.equal(deliver.calls.length, 2, 'held');
  clock.advance(6000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.slice(2).map((c) => `${c.channel}:${c.event}:${c.alarms.length}`).sort(), ['email:cleared:40', 'sms:cleared:40']);
  assert.equal(box.backlog(), 0);
  const journal = journalOf(alarms[33]).filter((j) => j.detail.startsWith('cleared'));
  assert.deepEqual(journal.map((j) => j.actor).sort(), ['email', 'sms']);
  assert.match(journal[0].detail, /^cleared \(one grouped notice for 40 detectors back online\): sent: 250 queued$/);
});

test('returns spread out are no storm: each its own clearing; raised and cleared rows never share a notice', async () => {
  const deliver = recording();
  const box = outboxWith(deliver);
  const alarms = raise(8, ['email']);
  clock.advance(10_000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => c.alarms.length), [8]);

  // Six come back one every 20 s: at most four within any minute, not more than the threshold of five.
  for (const id of alarms.slice(0, 6)) {
    clock.advance(20_000);
    clear([id], ['email']);
    await drainOutbox(box);
  }
  clock.advance(10_000);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.slice(1).map((c) => `${c.event}:${c.alarms.length}`), Array(6).fill('cleared:1'), 'one clearing each');

  // A new storm raised while the last two come back in the same minute: two groups, one per event.
  clock.advance(10 * 60_000);
  const more = raise(6, ['email']);
  clear(alarms.slice(6), ['email']);
  clock.advance(10_000);
  await drainOutbox(box);
  const last = deliver.calls.slice(7).map((c) => `${c.event}:${c.alarms.length}`).sort();
  assert.deepEqual(last, ['cleared:1', 'cleared:1', 'raised:6'], 'two returns are no storm; the six raised are');
  assert.deepEqual(deliver.calls.find((c) => c.event === 'raised' && c.alarms.length === 6)!.alarms, more);
});

test('a storm of gas clearings is never held or grouped; with the storm switched off returns go one by one at once', async () => {
  const deliver = recording();
  const box = outboxWith(deliver);
  const gas = raise(8, ['email'], 'HIGH');
  await drainOutbox(box);
  clear(gas, ['email']);
  await drainOutbox(box);
  assert.deepEqual(deliver.calls.map((c) => `${c.event}:${c.alarms.length}`), [...Array(8).fill('raised:1'), ...Array(8).fill('cleared:1')]);

  const off = recording();
  const switchedOff = outboxWith(off, { ...STORM, enabled: false });
  const offline = raise(8, ['webhook']);
  clear(offline, ['webhook']);
  await drainOutbox(switchedOff);
  assert.equal(off.calls.filter((c) => c.event === 'cleared').length, 8, 'switched off: one clearing per detector, not held');
  assert.ok(off.calls.every((c) => c.alarms.length === 1));
});

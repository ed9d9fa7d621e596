// Pure parts of the UI, without a browser: the kiosk's fleet model (API-6 messages → what the
// screen shows), the channel form's round trip of settings (secrets stay "******"), how an
// alarm's value reads in the kiosk list and the admin records, and the kiosk's alarm rules
// (UI-5): list membership, priority order, first alarm, totals, the sound pattern and SILENCE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmView, LiveDeviceInfo } from '../../appliance/contract/live.ts';
import { Fleet } from '../../ui/src/kiosk/fleet.ts';
import { fromForm, toForm } from '../../ui/src/admin/channel-fields.ts';
import { alarmLimitText, alarmValueText } from '../../ui/src/lib/alarm-value.ts';
import { alarmTotals, byPriority, firstAlarm, isListed, priorityRank } from '../../ui/src/lib/alarm-order.ts';
import { alarmSource, Annunciator, LINK_SOURCE, loudest, patternOf } from '../../ui/src/kiosk/annunciator.ts';
import { PATTERNS, renderPattern } from '../../ui/src/kiosk/sound.ts';
import { tokenSubject } from '../../ui/src/lib/kiosk-name.ts';
import { lookOf, valueText } from '../../ui/src/kiosk/look.ts';

const device = (sn: string, fields: Partial<LiveDeviceInfo> = {}): LiveDeviceInfo => ({
  sn, name: sn, location: '', gas: 'CH4', unit: 'ppm', pos_x: 10, pos_y: 10, high_limit: 1000, high2_limit: null, low_limit: null,
  ppm: 10, temp: null, humi: null, bat: null, rssi: null, err: null, ts: '2026-11-24T10:00:00.000Z', status: 'ok', online: true, alarms: [], ...fields,
});
const alarm = (id: number, fields: Partial<AlarmView> = {}): AlarmView => ({
  id, sn: 'A', source: 'A', type: 'HIGH', state: 'active', level: 1, priority: 'high', latched: 0, isa_state: 'active_unacknowledged', value: 1500, threshold: 1000, peak: 1500, detail: null,
  triggered_at: `2026-11-24T10:0${id}:00.000Z`, cleared_at: null, repeat_count: 0, notified_at: null, ack_at: null, ack_by: null, ack_comment: null,
  updated_at: '2026-11-24T10:00:00.000Z', ...fields,
});
const counts = { total: 2, online: 2, offline: 0, alarm: 0 };

test('the fleet follows snapshot, realtime, device_status and alarm messages; unknown serials are noted for a fetch', () => {
  const fleet = new Fleet();
  fleet.apply({ type: 'snapshot', data: { devices: [device('A'), device('B')], alarms: [alarm(1)], counts }, ts: new Date(Date.now() + 60_000).toISOString() });
  assert.ok(Math.abs(fleet.clockOffsetMs - 60_000) < 1000, 'staleness is judged on the server clock');
  fleet.apply({ type: 'realtime', data: [{ sn: 'A', ppm: 1500, status: 'alarm', ts: '2026-11-24T10:00:05.000Z' }, { sn: 'NEW', ppm: 1, status: 'ok', ts: null }], counts: { ...counts, alarm: 1 }, ts: new Date().toISOString() });
  assert.equal(fleet.devices.get('A')!.ppm, 1500);
  assert.equal(fleet.devices.get('A')!.status, 'alarm');
  assert.equal(fleet.counts.alarm, 1);
  assert.deepEqual([...fleet.unknown], ['NEW']);

  fleet.apply({ type: 'device_status', data: [{ sn: 'B', status: 'offline', reason: 'will', at: '2026-11-24T10:00:06.000Z' }], ts: '' });
  assert.equal(fleet.devices.get('B')!.status, 'offline');
  assert.equal(fleet.devices.get('B')!.online, false);

  fleet.apply({ type: 'alarm', kind: 'raised', data: alarm(2, { updated_at: '2026-11-24T10:02:00.000Z' }), ts: '' });
  const acked = { isa_state: 'active_acknowledged' as const, ack_at: '2026-11-24T10:09:00.000Z', ack_by: 'wang', ack_comment: 'ok', updated_at: '2026-11-24T10:09:00.000Z' };
  fleet.apply({ type: 'alarm', kind: 'acknowledged', data: alarm(1, acked), ts: '' });
  assert.deepEqual(fleet.alarmList().map((a) => [a.id, a.ack_by]), [[1, 'wang'], [2, null]], 'same priority: the latest transition first');
  fleet.apply({ type: 'alarm', kind: 'level', data: alarm(2, { level: 2, priority: 'critical', updated_at: '2026-11-24T10:03:00.000Z' }), ts: '' });
  assert.deepEqual(fleet.alarmList().map((a) => a.id), [2, 1], 'critical before high');
  // ALM-11: a gas alarm that cleared unacknowledged latches; acknowledged, it leaves the list.
  fleet.apply({ type: 'alarm', kind: 'cleared', data: alarm(2, { state: 'cleared', isa_state: 'returned_unacknowledged', cleared_at: '2026-11-24T10:10:00.000Z' }), ts: '' });
  assert.deepEqual(fleet.alarmList().map((a) => [a.id, a.isa_state]), [[1, 'active_acknowledged'], [2, 'returned_unacknowledged']]);
  fleet.apply({ type: 'alarm', kind: 'acknowledged', data: alarm(2, { state: 'cleared', isa_state: 'normal', ack_at: '2026-11-24T10:11:00.000Z' }), ts: '' });
  assert.deepEqual(fleet.alarmList().map((a) => a.id), [1]);
  fleet.apply({ type: 'alarm', kind: 'cleared', data: alarm(1, { ...acked, state: 'cleared', isa_state: 'normal' }), ts: '' });
  assert.deepEqual(fleet.alarmList(), []);
  fleet.apply({ type: 'snapshot', data: { devices: [], alarms: [alarm(3), alarm(4, { state: 'cleared', isa_state: 'normal' })], counts }, ts: new Date().toISOString() });
  assert.deepEqual([...fleet.alarms.keys()], [3], 'a snapshot keeps only the listed records');

  const before = fleet.version;
  assert.equal(fleet.apply({ type: 'pong', ts: '' }), false, 'nothing to redraw');
  assert.equal(fleet.version, before);
});

test('channel settings round-trip through the form; "******" goes back as it came; tls_verify defaults to on', () => {
  const stored = { url: 'https://hook.example/x', headers: { 'X-Token': 'a' }, secret: '******' };
  const form = toForm('webhook', stored);
  assert.deepEqual(form, { url: 'https://hook.example/x', headers: '{"X-Token":"a"}', secret: '******', escalation_url: '' });
  assert.deepEqual(fromForm('webhook', form), stored);
  assert.throws(() => fromForm('webhook', { ...form, headers: '{nope' }), /headers: not valid JSON/);

  const email = toForm('email', undefined);
  assert.equal(email.tls_verify, true);
  assert.equal(email.secure, false);
  assert.deepEqual(fromForm('email', { ...email, host: 'smtp.x', port: '465', from: 'a@x', recipients: 'a@x\nb@x, c@x' }), {
    host: 'smtp.x', port: 465, secure: false, starttls: false, tls_verify: true, from: 'a@x', recipients: ['a@x', 'b@x', 'c@x'],
  });
});

test("an alarm's value and limit read in its own terms in both languages; only a concentration carries the gas unit", () => {
  const shown = (fields: Partial<AlarmView>, unit = 'ppm') => {
    const a = alarm(1, fields);
    return {
      en: [alarmValueText(a, 'en', unit), alarmLimitText(a, 'en', unit)],
      zh: [alarmValueText(a, 'zh-CN', unit), alarmLimitText(a, 'zh-CN', unit)],
    };
  };
  assert.deepEqual(shown({ value: 1500, peak: 3516.14, threshold: 1000 }), { en: ['peak 3,516.1 ppm', '1,000 ppm'], zh: ['峰值 3,516.1 ppm', '1,000 ppm'] });
  assert.deepEqual(shown({ value: 1500, peak: null, threshold: 1000 }, '% LEL').en, ['peak 1,500 % LEL', '1,000 % LEL']);
  assert.deepEqual(shown({ type: 'LOW_BAT', value: 12, peak: 9, threshold: 20 }), { en: ['battery 9 %', '20 %'], zh: ['电量 9 %', '20 %'] });
  assert.deepEqual(shown({ type: 'FAULT', value: 50, peak: 50, threshold: null, detail: 'err 50: calibration lost' }), {
    en: ['err 50: calibration lost', ''], zh: ['故障码 50：校准数据丢失', ''],
  });
  assert.equal(alarmValueText(alarm(1, { type: 'FAULT', value: 77, peak: 77, detail: 'err 77' }), 'zh-CN'), '故障码 77', 'an unknown code shows as it is');
  assert.deepEqual(shown({ type: 'FAULT', value: 50000, peak: 50000, threshold: null, detail: 'over range (sensor saturated)' }), {
    en: ['50,000 ppm (over range)', ''], zh: ['50,000 ppm（超量程）', ''],
  });
  assert.deepEqual(shown({ type: 'OFFLINE', value: null, peak: null, threshold: null }), { en: ['', ''], zh: ['', ''] });
  assert.deepEqual(shown({ type: 'OFFLINE', value: 0, peak: 0, threshold: 5 }), { en: ['', ''], zh: ['', ''] }, 'whatever the record holds');
  assert.deepEqual(shown({ type: 'DISK', sn: null, source: 'disk', value: 812, peak: 812, threshold: null }, ''), { en: ['free 812 MB', ''], zh: ['剩余 812 MB', ''] });
  assert.deepEqual(shown({ type: 'CHANNEL', sn: null, source: 'channel:email', value: 3, peak: 3, threshold: null }, ''), { en: ['', ''], zh: ['', ''] });
});

test('ALM-10/ALM-11 on the kiosk: list membership, priority order, first alarm (首警) and totals by state', () => {
  assert.equal(isListed(alarm(1)), true);
  assert.equal(isListed(alarm(1, { isa_state: 'active_acknowledged' })), true);
  assert.equal(isListed(alarm(1, { state: 'cleared', isa_state: 'returned_unacknowledged' })), true, 'a latched gas alarm stays listed');
  assert.equal(isListed(alarm(1, { state: 'cleared', isa_state: 'normal' })), false);
  assert.deepEqual(['low', 'critical', 'medium', 'high', 'bogus'].map(priorityRank), [3, 0, 2, 1, 4]);

  const at = (minute: number) => `2026-11-24T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const list = [
    alarm(1, { type: 'LOW_BAT', priority: 'low', level: null, updated_at: at(50), triggered_at: at(1) }),
    alarm(2, { type: 'OFFLINE', priority: 'medium', level: null, updated_at: at(40), triggered_at: at(2) }),
    alarm(3, { priority: 'high', updated_at: at(10), triggered_at: at(3) }),
    alarm(4, { priority: 'critical', level: 2, updated_at: at(20), triggered_at: at(12) }),
    alarm(5, { priority: 'high', updated_at: at(30), triggered_at: at(5), state: 'cleared', isa_state: 'returned_unacknowledged' }),
    alarm(6, { type: 'FAULT', priority: 'medium', level: null, updated_at: at(40), triggered_at: at(0) }),
    alarm(7, { priority: 'critical', level: 2, updated_at: at(20), triggered_at: at(4) }),
  ];
  assert.deepEqual([...list].sort(byPriority).map((a) => a.id), [7, 4, 5, 3, 6, 2, 1],
    'critical, high, medium, low; within one, the latest transition first (then the newer record)');
  assert.equal(firstAlarm(list)?.id, 3, 'the earliest gas alarm still listed, whatever its priority; a fault never is the first alarm');
  assert.equal(firstAlarm(list.filter((a) => a.id !== 3))?.id, 7);
  assert.equal(firstAlarm([list[0], list[1], list[5]]), null, 'no gas alarm, no first alarm');
  assert.deepEqual(alarmTotals(list), { alarm: 3, returned: 1, fault: 1, offline: 1, other: 1 }, 'one bucket per record: they add up to the list');
});

test('UI-5 sound: the pattern each record calls for, the loudest wins; the patterns are distinct', () => {
  assert.equal(patternOf(alarm(1)), 'level1');
  assert.equal(patternOf(alarm(1, { level: 2, priority: 'critical' })), 'level2');
  assert.equal(patternOf(alarm(1, { type: 'LOW', level: null, priority: 'critical' })), 'level2', 'oxygen deficiency is critical');
  assert.equal(patternOf(alarm(1, { state: 'cleared', isa_state: 'returned_unacknowledged' })), 'level1', 'a latched gas alarm sounds until silenced');
  assert.equal(patternOf(alarm(1, { type: 'FAULT', level: null, priority: 'medium' })), 'fault');
  assert.equal(patternOf(alarm(1, { type: 'FAULT', level: null, priority: 'critical' })), 'fault', 'a fault never sounds like gas');
  assert.equal(patternOf(alarm(1, { type: 'OFFLINE', level: null, priority: 'medium' })), 'fault');
  assert.equal(patternOf(alarm(1, { type: 'LOW_BAT', level: null, priority: 'low' })), null);
  assert.equal(patternOf(alarm(1, { state: 'cleared', isa_state: 'normal' })), null);
  assert.equal(loudest(['fault', null, 'level1']), 'level1');
  assert.equal(loudest(['fault', 'level2', 'level1']), 'level2');
  assert.equal(loudest([null]), null);

  // Level 2 faster and higher than level 1; fault a short beep, quiet most of the time.
  const rate = 8000;
  const busy = (name: keyof typeof PATTERNS) => {
    const samples = renderPattern(PATTERNS[name], rate);
    return samples.filter((v) => Math.abs(v) > 0.01).length / samples.length;
  };
  const tonesPerSecond = (name: keyof typeof PATTERNS) => PATTERNS[name].tones.length / PATTERNS[name].period;
  const highest = (name: keyof typeof PATTERNS) => Math.max(...PATTERNS[name].tones.map((tone) => tone.hz));
  assert.ok(tonesPerSecond('level2') > 2 * tonesPerSecond('level1') && highest('level2') > highest('level1'));
  assert.ok(busy('level1') > 0.8, 'level 1: a nearly continuous two-tone');
  assert.ok(busy('fault') < 0.1 && PATTERNS.fault.period >= 3, 'fault: a short beep every few seconds');
  assert.ok(Math.max(...renderPattern(PATTERNS.level2, rate).map(Math.abs)) <= 1, 'no clipping');
});

test('UI-5 SILENCE: quiet until a new alarm — a new record, a level going up, a repeat; an acknowledgement quiets too', () => {
  const box = new Annunciator();
  const sources = (list: AlarmView[]) => list.map(alarmSource);
  const a1 = alarm(1);
  assert.equal(box.take({ type: 'snapshot', data: { devices: [], alarms: [a1], counts }, ts: '' }), null, 'what is there when the screen opens does not flash');
  let list = [a1];
  assert.equal(box.pattern(sources(list)), 'level1');
  assert.equal(box.soundState(sources(list)), 'sounding');
  assert.equal(box.silence(sources(list)), 1);
  assert.equal(box.pattern(sources(list)), null);
  assert.equal(box.soundState(sources(list)), 'silenced');

  // The same record getting worse within its level: still quiet.
  box.take({ type: 'alarm', kind: 'peak', data: alarm(1, { peak: 4000 }), ts: '' });
  assert.equal(box.pattern(sources(list)), null);

  // A new record sounds again; the silenced one stays quiet.
  const a2 = alarm(2, { sn: 'B' });
  box.take({ type: 'alarm', kind: 'raised', data: a2, ts: '' });
  list = [a1, a2];
  assert.equal(box.pattern(sources(list)), 'level1');
  assert.equal(box.pattern(sources([a1])), null);
  box.silence(sources(list));

  // Level 1 → 2 sounds again (louder) and flashes; 2 → 1 → 2 again too.
  const up = alarm(1, { level: 2, priority: 'critical' });
  assert.equal(box.take({ type: 'alarm', kind: 'level', data: up, ts: '' })?.id, 1, 'a new critical alarm flashes');
  list = [up, a2];
  assert.equal(box.pattern(sources(list)), 'level2');
  box.silence(sources(list));
  assert.equal(box.take({ type: 'alarm', kind: 'level', data: alarm(1), ts: '' }), null);
  assert.equal(box.pattern(sources([alarm(1), a2])), null, 'a level going down does not sound');
  assert.equal(box.take({ type: 'alarm', kind: 'level', data: up, ts: '' })?.id, 1);
  assert.equal(box.pattern(sources(list)), 'level2');
  box.silence(sources(list));

  // A latched record that comes back (repeat) sounds again.
  const returned = alarm(2, { sn: 'B', state: 'cleared', isa_state: 'returned_unacknowledged' });
  box.take({ type: 'alarm', kind: 'cleared', data: returned, ts: '' });
  assert.equal(box.pattern(sources([up, returned])), null);
  box.take({ type: 'alarm', kind: 'repeat', data: a2, ts: '' });
  assert.equal(box.pattern(sources([up, a2])), 'level1');

  // Acknowledging quiets a record as SILENCE does; a later rise sounds again.
  const ackedA2 = alarm(2, { sn: 'B', isa_state: 'active_acknowledged', ack_at: '2026-11-24T10:20:00.000Z', ack_by: 'li' });
  box.take({ type: 'alarm', kind: 'acknowledged', data: ackedA2, ts: '' });
  assert.equal(box.pattern(sources([up, ackedA2])), null);
  const ackedUp = { ...ackedA2, level: 2, priority: 'critical' as const };
  assert.equal(box.take({ type: 'alarm', kind: 'level', data: ackedUp, ts: '' })?.id, 2);
  assert.equal(box.pattern(sources([up, ackedUp])), 'level2');

  // Records that leave the list are forgotten: the same id listed again later sounds.
  box.silence(sources([up, ackedUp]));
  box.take({ type: 'alarm', kind: 'acknowledged', data: alarm(1, { state: 'cleared', isa_state: 'normal' }), ts: '' });
  box.take({ type: 'alarm', kind: 'repeat', data: alarm(1), ts: '' });
  assert.equal(box.pattern(sources([alarm(1), ackedUp])), 'level1');

  // A re-sync snapshot forgets what is gone and flashes a critical alarm it had not seen.
  assert.equal(box.take({ type: 'snapshot', data: { devices: [], alarms: [alarm(9, { level: 2, priority: 'critical' })], counts }, ts: '' })?.id, 9);
});

test("UI-5 the kiosk's lost link sounds the fault pattern until silenced, and again at the next loss", () => {
  const box = new Annunciator();
  box.take({ type: 'snapshot', data: { devices: [], alarms: [], counts }, ts: '' });
  const down = [LINK_SOURCE];
  box.link(true);
  assert.equal(box.pattern(down), 'fault');
  box.silence(down);
  box.link(true);
  assert.equal(box.pattern(down), null);
  box.link(false);
  box.link(true);
  assert.equal(box.pattern(down), 'fault');
  assert.equal(box.soundState([]), 'quiet');
});

test('the kiosk names itself in the journal from its token when the link has no ?kiosk=', () => {
  const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;
  assert.equal(tokenSubject(jwt({ sub: 'kiosk:3', role: 'viewer' })), 'kiosk:3');
  assert.equal(tokenSubject(jwt({ role: 'viewer' })), null);
  assert.equal(tokenSubject('not-a-jwt'), null);
  assert.equal(tokenSubject(null), null);
});

test('UI-5 marker colours: gas alarm red, fault yellow with its value invalid, unprotected yellow, offline grey, ok green', () => {
  const look = (status: LiveDeviceInfo['status'], stale = false, online = status !== 'offline') => lookOf(device('A', { status, online }), true, stale);
  assert.deepEqual(['ok', 'alarm', 'fault', 'unprotected', 'offline'].map((s) => look(s as LiveDeviceInfo['status'])), ['ok', 'alarm', 'fault', 'unprotected', 'offline']);
  assert.equal(look('alarm', true), 'alarm', 'an active gas alarm stays red when its value is too old to show');
  assert.equal(look('fault', true), 'fault');
  assert.equal(look('unprotected', true), 'stale');
  assert.equal(lookOf(device('A', { status: 'fault' }), false, false), 'nolink');
  assert.equal(valueText(424, 'fault'), 'ERR', 'a faulted detector never shows its number as a measurement');
  assert.equal(valueText(424, 'alarm'), '424');
  assert.equal(valueText(12.34, 'unprotected'), '12.3');
  assert.equal(valueText(12, 'stale'), '—');
});

test('issue 17.5: an acknowledgement from the cloud quiets nothing on the kiosk; a local one does', () => {
  const box = new Annunciator();
  box.take({ type: 'snapshot', data: { devices: [], alarms: [], counts }, ts: '' });
  const raised = alarm(7, { level: 2, priority: 'critical' });
  box.take({ type: 'alarm', kind: 'raised', data: raised, ts: '' });
  const cloudAck = { isa_state: 'active_acknowledged' as const, ack_at: '2026-11-24T10:09:00.000Z', ack_by: 'cloud:hq:alice', ack_comment: '' };
  box.take({ type: 'alarm', kind: 'acknowledged', data: alarm(7, { ...raised, ...cloudAck }), ts: '' });
  assert.equal(box.pattern([alarmSource(alarm(7, { ...raised, ...cloudAck }))]), 'level2', 'the new alarm still sounds in the control room');
  const localAck = { ...cloudAck, ack_at: '2026-11-24T10:10:00.000Z', ack_by: 'wang' };
  box.take({ type: 'alarm', kind: 'acknowledged', data: alarm(7, { ...raised, ...localAck }), ts: '' });
  assert.equal(box.pattern([alarmSource(alarm(7, { ...raised, ...localAck }))]), null, 'a local acknowledgement quiets it');
});

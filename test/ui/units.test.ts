// Pure parts of the UI, without a browser: the kiosk's fleet model (API-6 messages → what the
// screen shows), the channel form's round trip of settings (secrets stay "******") and how an
// alarm's value reads in the kiosk list and the admin records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmView, LiveDeviceInfo } from '../../appliance/contract/live.ts';
import { Fleet } from '../../ui/src/kiosk/fleet.ts';
import { fromForm, toForm } from '../../ui/src/admin/channel-fields.ts';
import { alarmLimitText, alarmValueText } from '../../ui/src/lib/alarm-value.ts';

const device = (sn: string, fields: Partial<LiveDeviceInfo> = {}): LiveDeviceInfo => ({
  sn, name: sn, location: '', gas: 'CH4', unit: 'ppm', pos_x: 10, pos_y: 10, high_limit: 1000, low_limit: null,
  ppm: 10, temp: null, humi: null, bat: null, rssi: null, err: null, ts: '2026-11-24T10:00:00.000Z', status: 'ok', online: true, alarms: [], ...fields,
});
const alarm = (id: number, fields: Partial<AlarmView> = {}): AlarmView => ({
  id, sn: 'A', source: 'A', type: 'HIGH', state: 'active', value: 1500, threshold: 1000, peak: 1500, detail: null,
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

  fleet.apply({ type: 'alarm', kind: 'raised', data: alarm(2), ts: '' });
  fleet.apply({ type: 'alarm', kind: 'acknowledged', data: alarm(1, { ack_at: '2026-11-24T10:09:00.000Z', ack_by: 'wang', ack_comment: 'ok' }), ts: '' });
  assert.deepEqual(fleet.alarmList().map((a) => [a.id, a.ack_by]), [[2, null], [1, 'wang']], 'unacknowledged first');
  fleet.apply({ type: 'alarm', kind: 'cleared', data: alarm(2, { state: 'cleared' }), ts: '' });
  assert.deepEqual(fleet.alarmList().map((a) => a.id), [1]);

  const before = fleet.version;
  assert.equal(fleet.apply({ type: 'pong', ts: '' }), false, 'nothing to redraw');
  assert.equal(fleet.version, before);
});

test('channel settings round-trip through the form; "******" goes back as it came; tls_verify defaults to on', () => {
  const stored = { url: 'https://hook.example/x', headers: { 'X-Token': 'a' }, secret: '******' };
  const form = toForm('webhook', stored);
  assert.deepEqual(form, { url: 'https://hook.example/x', headers: '{"X-Token":"a"}', secret: '******' });
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

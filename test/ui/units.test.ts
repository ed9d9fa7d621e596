// Pure parts of the UI, without a browser: the kiosk's fleet model (API-6 messages → what the
// screen shows) and the channel form's round trip of settings (secrets stay "******").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmView, LiveDeviceInfo } from '../../appliance/contract/live.ts';
import { Fleet } from '../../ui/src/kiosk/fleet.ts';
import { fromForm, toForm } from '../../ui/src/admin/channel-fields.ts';

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

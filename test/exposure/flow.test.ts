// ALM-16 (issue 15.3) through the real parts: startApi (real SQLite, the writer thread, the broker),
// a real MQTT CO detector whose readings are stored and rolled up, the exposure job run by the
// scheduler on an injected clock, the device-condition port to the writer, and the HTTP API.
// CO: PC-STEL 30 mg/m³ = 30 × 24.061 / 28.01 = 25.770 ppm; PC-TWA 20 mg/m³ = 17.180 ppm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, publishReading } from '../helpers/appliance.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { MOLAR_VOLUME_L } from '../../appliance/contract/gas.ts';
import type { MqttClient } from 'mqtt';

const SN = 'CO-EXPO-1';
const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const mg = (ppm: number) => (ppm * 28.01) / MOLAR_VOLUME_L;

async function judge(api: ApiApp) {
  await api.app.testApi.runJob('rollup'); // the minutes older than the roll-up grace come from readings_1m
  const outcome = await api.app.testApi.runJob('exposure');
  assert.equal(outcome.ok, true, outcome.error);
  await api.app.testApi.flush();
  return outcome.result as { watched: number; raised: string[]; cleared: string[] };
}

async function stelAlarms(api: ApiApp) {
  const { status, body, text } = await api.call('GET', `/api/alarms?sn=${SN}&type=EXPOSURE_STEL`, { token: api.tokens.viewer });
  assert.equal(status, 200, text);
  return body.data as { state: string; priority: string; value: number; detail: string }[];
}

test('EXPOSURE_STEL is raised once the stored 15-minute average passes PC-STEL, and cleared when it falls below the deadband; the API shows the figures', async () => {
  const clock = manualClock(T0);
  const api = await startApi({}, { clock });
  let device: MqttClient | undefined;
  try {
    const created = await api.call('POST', '/api/devices', {
      token: api.tokens.admin, body: { sn: SN, name: 'Boiler', location: 'B1', gas: 'CO', unit: 'ppm', high_limit: 17, high2_limit: 34, calib: { k: 1, b: 0 } },
    });
    assert.equal(created.status, 201, created.text);
    device = await connectDevice(api.url, SN, created.body.password);
    let seq = 0;
    // One reading a minute at the minute's start (ppm = v_raw with k = 1, b = 0); the clock follows.
    const minute = async (m: number, ppm: number) => {
      clock.set(T0 + m * MIN);
      await publishReading(device!, SN, { ts: (T0 + m * MIN) / 1000, seq: ++seq, v_raw: ppm, temp: 25 }); // PUBACK: stored
    };
    const judgeAt = async (m: number) => {
      clock.set(T0 + m * MIN);
      return judge(api);
    };

    // Minutes 0–14 at 20 ppm: STEL at 15:00 = 15 × 20 / 15 = 20 ppm = 23.28 mg/m³ < 30.
    for (let m = 0; m < 15; m++) await minute(m, 20);
    assert.deepEqual((await judgeAt(15)).raised, []);

    // Minutes 15–22 at 30 ppm. At 23: window [8, 23) = 7 × 20 + 8 × 30 = 380 ppm·min / 15 = 25.333 ppm = 29.49 mg/m³: not yet.
    for (let m = 15; m < 23; m++) await minute(m, 30);
    assert.deepEqual((await judgeAt(23)).raised, []);
    assert.deepEqual(await stelAlarms(api), []);

    // Minute 23 at 30 ppm. At 24: window [9, 24) = 6 × 20 + 9 × 30 = 390 / 15 = 26 ppm = 30.27 mg/m³ > PC-STEL 30.
    await minute(23, 30);
    assert.deepEqual((await judgeAt(24)).raised, [`EXPOSURE_STEL:${SN}`]);
    const [raised] = await stelAlarms(api);
    assert.equal(raised?.state, 'active');
    assert.equal(raised.priority, 'high');
    assert.equal(raised.value, 26);
    assert.match(raised.detail, /15-minute average 30\.27 mg\/m³ is above PC-STEL 30 mg\/m³/);
    assert.deepEqual((await judgeAt(24)).raised, [], 'a steady state reports nothing again');

    // The API answer at 24:00.
    const { status, body, text } = await api.call('GET', `/api/devices/${SN}/exposure`, { token: api.tokens.viewer });
    assert.equal(status, 200, text);
    assert.equal(body.unit, 'ppm');
    assert.equal(body.watched, true);
    assert.deepEqual(body.limits, { pc_twa: 20, pc_stel: 30, mac: null, unit: 'mg/m3' });
    assert.equal(body.stel.start, new Date(T0 + 9 * MIN).toISOString());
    assert.equal(body.stel.end, new Date(T0 + 24 * MIN).toISOString());
    assert.equal(body.stel.window_min, 15);
    assert.equal(body.stel.average, 26);
    assert.equal(body.stel.average_mg_m3, Number(mg(26).toFixed(3))); // 30.267
    assert.equal(body.stel.limit, Number(((30 * MOLAR_VOLUME_L) / 28.01).toFixed(3))); // 25.770 ppm
    assert.deepEqual([body.stel.coverage, body.stel.over, body.stel.alarm_active], [1, true, true]);
    // TWA over the 8 hours before 08:24: only 08:00–08:24 measured: 15 × 20 + 9 × 30 = 570 ppm·min / 480 = 1.1875 ppm, 24/480 = 0.05 measured.
    assert.equal(body.twa.window_min, 480);
    assert.equal(body.twa.average, 1.188);
    assert.equal(body.twa.average_mg_m3, Number(mg(570 / 480).toFixed(3)));
    assert.deepEqual([body.twa.limit_mg_m3, body.twa.coverage, body.twa.over, body.twa.alarm_active], [20, 0.05, false, false]);
    assert.equal(body.max_hold_s, 90 + 60, 'the offline timeout plus one bucket');

    // Minute 24 at 0 ppm. At 25: [10, 25) = 5 × 20 + 9 × 30 + 0 = 370 / 15 = 24.667 ppm = 28.72 mg/m³:
    // below 30 but not below 30 − 5 % = 28.5 mg/m³ — the raised alarm holds (deadband).
    await minute(24, 0);
    assert.deepEqual((await judgeAt(25)).cleared, []);
    // Minute 25 at 0. At 26: [11, 26) = 4 × 20 + 9 × 30 = 350 / 15 = 23.333 ppm = 27.16 mg/m³ < 28.5: cleared.
    await minute(25, 0);
    assert.deepEqual((await judgeAt(26)).cleared, [`EXPOSURE_STEL:${SN}`]);
    const [cleared] = await stelAlarms(api);
    assert.equal(cleared.state, 'cleared');

    const unknown = await api.call('GET', '/api/devices/NOPE-1/exposure', { token: api.tokens.viewer });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 40001);
    assert.equal((await api.call('GET', `/api/devices/${SN}/exposure`)).status, 401);
  } finally {
    await device?.endAsync();
    await api.stop();
  }
});

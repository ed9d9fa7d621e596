import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpPayload } from '../../appliance/contract/device-payload.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { createDetector } from '../../simulator/detector.ts';
import { createManualClock } from '../../simulator/clock.ts';
import { createRng } from '../../simulator/rng.ts';
import {
  acl, fault, flapping, leak, lowbat, malformed, MALFORMED_KINDS, offline, ppmOf, skew, wrongCredentials,
} from '../../simulator/scenarios.ts';
import type { DetectorEvent, Scenario, ShapeContext } from '../../simulator/types.ts';
import { acceptsUp, FACTORY_SECRET, observe, startBroker, until } from './support.ts';

const SN = 'SIM-0007';
const START = Date.UTC(2026, 0, 1, 8, 0, 0);
const T0 = START / 1000;
const CALIB = { k: 1, b: 0, t_comp: 0 };

async function run(scenario: Scenario) {
  const broker = await startBroker();
  const obs = await observe(broker.url, ['mcs/#']);
  const clock = createManualClock(START);
  const events: DetectorEvent[] = [];
  const det = createDetector({
    sn: SN, url: broker.url, password: derivedDevicePassword(SN, FACTORY_SECRET), intervalMs: 10_000,
    clock, rng: createRng(7), scenario, reconnectDelayMs: 1000, onEvent: (e) => events.push(e),
  });
  const ups = () => obs.on(`mcs/${SN}/up`);
  const parsed = () => ups().map((m) => JSON.parse(m.payload.toString()) as UpPayload);
  /** Takes `count` readings, one interval apart, and waits until the broker has delivered them. */
  async function readings(count: number) {
    const want = ups().length + count;
    for (let i = 0; i < count; i++) clock.advance(i === 0 && det.stats().taken === 0 ? 0 : 10_000);
    await obs.waitFor(() => ups().length >= want);
  }
  const close = async () => {
    await det.stop();
    await obs.close();
    await broker.close();
  };
  return { broker, obs, clock, det, events, ups, parsed, readings, close };
}

test('the leak scenario ramps the reading above the high limit and back below it', async () => {
  const t = await run(leak({ highLimit: 1000, startS: 30, rampS: 60, holdS: 30 }));
  await t.det.start();
  await t.readings(25);
  const ppm = t.parsed().map((r) => ppmOf(r, CALIB));
  const firstAbove = ppm.findIndex((p) => p > 1000);
  assert.ok(ppm[0] < 1000, `starts at the clean-air baseline (${ppm[0]})`);
  assert.ok(firstAbove > 0, `crosses the high limit: ${ppm.map(Math.round).join(' ')}`);
  assert.ok(Math.max(...ppm) >= 1400, 'peaks well above it');
  const backBelow = ppm.findIndex((p, i) => i > firstAbove && p < 1000);
  assert.ok(backBelow > firstAbove, 'comes back down');
  assert.ok(ppm.slice(-5).every((p) => p < 1000), 'and stays down after the leak');
  assert.ok(t.ups().every((m) => acceptsUp(m.payload)), 'every leak reading is a valid DEV-2 payload');
  await t.close();
});

test('the offline scenario fires the will, then resends the buffered readings with their original seq and ts', async () => {
  const t = await run(offline({ afterS: 20, offlineS: 30 }));
  await t.det.start();
  await t.readings(2); // t = 0, 10 s: seq 0, 1 online
  await until(() => t.det.stats().acked === 2, 3000, 'the PUBACKs'); // else they are (rightly) resent too
  const statusOf = () => t.obs.on(`mcs/${SN}/status`).map((m) => JSON.parse(m.payload.toString()).status);
  t.clock.advance(10_000); // t = 20 s: the link drops (no DISCONNECT); reading seq 2 is taken
  await t.obs.waitFor(() => statusOf().includes('offline'));
  const willAt = t.obs.messages.length;
  t.clock.advance(10_000); // seq 3, buffered
  t.clock.advance(10_000); // seq 4, buffered
  assert.equal(t.det.connected, false);
  assert.ok(t.det.stats().buffered >= 2);
  const connects = t.events.filter((e) => e.type === 'connected').length;
  t.clock.advance(10_000); // t = 50 s: back online; seq 5 is taken while reconnecting
  await until(() => t.events.filter((e) => e.type === 'connected').length > connects, 3000, 'the reconnect');
  await t.obs.waitFor(() => t.ups().length >= 6);
  t.clock.advance(10_000); // seq 6, live again
  await t.obs.waitFor(() => t.parsed().some((r) => r.seq === 6));
  const ups = t.parsed();
  const seqs = [...new Set(ups.map((r) => r.seq))].sort((a, b) => a - b);
  assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5, 6]);
  for (const r of ups) assert.equal(r.ts, T0 + 10 * r.seq, `seq ${r.seq} keeps its original ts`);
  const resent = t.obs.messages.slice(willAt).filter((m) => m.topic === `mcs/${SN}/up`);
  const resentSeqs = resent.map((m) => (JSON.parse(m.payload.toString()) as UpPayload).seq);
  assert.deepEqual(resentSeqs.slice(0, 4), [2, 3, 4, 5], 'the burst after the will is the buffered readings in order');
  assert.equal(statusOf().at(-1), 'online');
  await t.close();
});

test('every payload of the malformed scenario fails DEV-2 validation', async () => {
  const t = await run(malformed());
  await t.det.start();
  await t.readings(MALFORMED_KINDS.length);
  const ups = t.ups();
  assert.equal(ups.length, MALFORMED_KINDS.length);
  for (const [i, m] of ups.entries()) assert.equal(acceptsUp(m.payload), false, `${MALFORMED_KINDS[i]}: ${m.payload.toString().slice(0, 80)}`);
  assert.ok(ups.some((m) => m.payload.length > 4096), 'one is over 4 KB');
  await t.close();
});

test('a detector with wrong credentials is refused at CONNECT and reports the refusal', async () => {
  const t = await run(wrongCredentials());
  await t.det.start();
  const refused = t.events.find((e) => e.type === 'refused');
  assert.ok(refused && refused.type === 'refused');
  assert.equal(refused.code, 4);
  assert.deepEqual(t.broker.refused, [`device_${SN}`]);
  assert.equal(t.events.some((e) => e.type === 'connected'), false);
  assert.equal(t.det.stats().refused, 1);
  await t.close();
});

test('the acl scenario publishes to another device topic and a DEV-6 broker disconnects it', async () => {
  const t = await run(acl({ otherSn: 'SIM-0008' }));
  await t.det.start();
  await until(() => t.events.some((e) => e.type === 'disconnected'), 3000, 'the ACL disconnect');
  assert.deepEqual(t.broker.aclViolations, [`${SN} -> mcs/SIM-0008/up`]);
  assert.equal(t.obs.on('mcs/SIM-0008/up').length, 0);
  await t.close();
});

test('the skew scenario stamps readings with a clock off by the given minutes', async () => {
  const t = await run(skew({ minutes: 7 }));
  await t.det.start();
  await t.readings(2);
  assert.deepEqual(t.parsed().map((r) => r.ts), [T0 + 420, T0 + 430]);
  await t.close();
});

// The value-shaping scenarios are pure: check them step by step without a broker.
const base: UpPayload = { ts: T0, seq: 0, v_raw: 400, temp: 25, humi: 50, bat: 80, rssi: -70, net: '4G', ver: 'x', err: 0 };
const shapeAll = (s: Scenario, count: number) => {
  const rng = createRng(1);
  return Array.from({ length: count }, (_, n) => {
    const ctx: ShapeContext = { n, tS: n * 10, rng, calib: CALIB };
    return s.shape!({ ...base, seq: n }, ctx);
  });
};

test('the fault scenario cycles the DEV-4 sensor fault codes 1, 2, 3 and 50 between healthy readings', () => {
  const errs = shapeAll(fault({ okReadings: 1, faultReadings: 1 }), 8).map((r) => r.err);
  assert.deepEqual(errs, [0, 1, 0, 2, 0, 3, 0, 50]);
});

test('the lowbat scenario drains the battery below 20 % (err 10) and then below 10 % (err 11)', () => {
  const rs = shapeAll(lowbat(), 25);
  assert.ok(rs.some((r) => r.bat < 20 && r.bat >= 10 && r.err === 10));
  assert.ok(rs.some((r) => r.bat < 10 && r.err === 11));
  assert.ok(rs.filter((r) => r.bat >= 20).every((r) => r.err === 0));
});

test('the flapping scenario crosses its threshold on every reading', () => {
  const ppm = shapeAll(flapping({ threshold: 2000 }), 10).map((r) => ppmOf(r, CALIB));
  ppm.forEach((p, i) => assert.equal(p > 2000, i % 2 === 0, `reading ${i}: ${p}`));
  assert.ok(ppm.every((p) => Math.abs(p - 2000) < 2000 * 0.06));
});

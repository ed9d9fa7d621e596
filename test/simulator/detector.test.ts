import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { StatusPayload, UpPayload } from '../../appliance/contract/device-payload.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { createManualClock } from '../../simulator/clock.ts';
import { createRng } from '../../simulator/rng.ts';
import { initialSensor, sampleSensor, stepSensor, toUpPayload } from '../../simulator/sensor.ts';
import type { DetectorEvent } from '../../simulator/types.ts';
import { FACTORY_SECRET, observe, startBroker, until } from './support.ts';

const SN = 'SIM-0001';
const START = Date.UTC(2026, 0, 1, 8, 0, 0);

async function setup() {
  const broker = await startBroker();
  const obs = await observe(broker.url, ['mcs/#']);
  const clock = createManualClock(START);
  const events: DetectorEvent[] = [];
  const det = createDetector({
    sn: SN,
    url: broker.url,
    password: derivedDevicePassword(SN, FACTORY_SECRET),
    intervalMs: 10_000,
    clock,
    rng: createRng(42),
    reconnectDelayMs: 1000,
    onEvent: (e) => events.push(e),
  });
  const readings = () => events.flatMap((e) => (e.type === 'reading' ? [e.reading] : []));
  const close = async (d: Detector = det) => {
    await d.stop();
    await obs.close();
    await broker.close();
  };
  return { broker, obs, clock, det, events, readings, close };
}

const upOf = (payload: Buffer) => JSON.parse(payload.toString()) as UpPayload;

test('a detector connects as device_{sn} with clientId sn, a clean session and a retained QoS 1 Last Will', async () => {
  const { broker, det, close } = await setup();
  await det.start();
  const c = broker.connects.find((p) => p.clientId === SN)!;
  assert.ok(c, 'the detector sent CONNECT');
  assert.equal(c.clientId, SN);
  assert.equal(c.username, `device_${SN}`);
  assert.equal(c.clean, true);
  assert.equal(c.protocolVersion, 4);
  assert.equal(c.will?.topic, `mcs/${SN}/status`);
  assert.equal(c.will?.qos, 1);
  assert.equal(c.will?.retain, true);
  const will = JSON.parse(c.will!.payload.toString());
  assert.ok(Value.Check(StatusPayload, will));
  assert.equal(will.status, 'offline');
  assert.equal(will.ts, START / 1000);
  await close();
});

test('a detector publishes valid DEV-2 readings every interval with increasing seq and device-time ts', async () => {
  const { obs, clock, det, close } = await setup();
  await det.start();
  clock.advance(0); // the first reading is taken at boot
  clock.advance(10_000);
  clock.advance(10_000);
  await obs.waitFor(() => obs.on(`mcs/${SN}/up`).length >= 3);
  const ups = obs.on(`mcs/${SN}/up`).map((m) => upOf(m.payload));
  for (const up of ups) assert.ok(Value.Check(UpPayload, up), JSON.stringify(up));
  assert.deepEqual(ups.map((u) => u.seq), [0, 1, 2]);
  assert.deepEqual(ups.map((u) => u.ts), [0, 10, 20].map((s) => START / 1000 + s));
  assert.equal(ups[0].net, '4G');
  assert.equal(ups[0].err, 0);
  assert.ok(Buffer.byteLength(JSON.stringify(ups[0])) < 200, 'about 150 bytes');
  await close();
});

test('a detector announces itself online with a retained status and the broker fires its will when the link drops', async () => {
  const { broker, obs, det, close } = await setup();
  await det.start();
  const late = await observe(broker.url, [`mcs/${SN}/status`]);
  await late.waitFor((m) => m.length >= 1);
  assert.equal(late.messages[0].retain, true);
  assert.equal(JSON.parse(late.messages[0].payload.toString()).status, 'online');
  det.dropConnection(); // no DISCONNECT
  await obs.waitFor(() => obs.on(`mcs/${SN}/status`).some((m) => JSON.parse(m.payload.toString()).status === 'offline'));
  await late.close();
  await close();
});

test('a debug command switches a detector to 1 s readings for its duration, then back to the interval', async () => {
  const { obs, clock, det, events, readings, close } = await setup();
  await det.start();
  clock.advance(0);
  await obs.client.publishAsync('mcs/broadcast/cmd', JSON.stringify({ cmd: 'debug', duration: 3 }), { qos: 1 });
  await until(() => events.some((e) => e.type === 'command'), 3000, 'the debug command');
  assert.equal(det.stats().intervalMs, 1000);
  const before = readings().length;
  for (let i = 0; i < 3; i++) clock.advance(1000);
  assert.equal(readings().length, before + 3);
  assert.equal(det.stats().intervalMs, 10_000);
  clock.advance(9_999);
  assert.equal(readings().length, before + 3, 'no reading until a full interval has passed');
  clock.advance(1);
  assert.equal(readings().length, before + 4);
  await close();
});

test('a debug duration above 600 s is clamped to 600 s', async () => {
  const { obs, clock, det, readings, close } = await setup();
  await det.start();
  await obs.client.publishAsync(`mcs/${SN}/cmd`, JSON.stringify({ cmd: 'debug', duration: 5000 }), { qos: 1 });
  await until(() => det.stats().intervalMs === 1000, 3000, 'debug mode');
  clock.advance(600_000);
  assert.equal(det.stats().intervalMs, 10_000);
  assert.equal(readings().length, 600);
  await close();
});

test('a calib command is remembered and a reboot reconnects after its delay with seq starting again at 0', async () => {
  const { obs, clock, det, events, readings, close } = await setup();
  await det.start();
  clock.advance(0);
  clock.advance(10_000);
  await obs.client.publishAsync(`mcs/${SN}/cmd`, JSON.stringify({ cmd: 'calib', k: 1.5, b: -10, t_comp: 0.1 }), { qos: 1 });
  await until(() => det.stats().calib.k === 1.5, 3000, 'calib');
  assert.deepEqual(det.stats().calib, { k: 1.5, b: -10, t_comp: 0.1 });
  await obs.client.publishAsync(`mcs/${SN}/cmd`, JSON.stringify({ cmd: 'reboot', delay: 5 }), { qos: 1 });
  await until(() => !det.connected, 3000, 'the reboot disconnect');
  // A clean goodbye: the retained status says offline.
  await obs.waitFor(() => obs.on(`mcs/${SN}/status`).some((m) => JSON.parse(m.payload.toString()).status === 'offline'));
  const connects = events.filter((e) => e.type === 'connected').length;
  clock.advance(4_999);
  assert.equal(det.connected, false);
  clock.advance(1);
  await until(() => events.filter((e) => e.type === 'connected').length > connects, 3000, 'the reconnect');
  clock.advance(0);
  assert.equal(readings().at(-1)?.seq, 0);
  assert.equal(det.stats().calib.k, 1.5, 'calibration survives the reboot');
  await close();
});

test('two detectors with the same seed and clock take identical readings, another seed differs', async () => {
  const run = async (seed: number) => {
    const clock = createManualClock(START);
    const seen: string[] = [];
    const det = createDetector({
      sn: SN, url: 'mqtt://127.0.0.1:1', password: 'x', intervalMs: 10_000, clock, rng: createRng(seed),
      onEvent: (e) => e.type === 'reading' && seen.push(String(e.payload)),
    });
    await det.start(); // refused at once: readings are buffered
    for (let i = 0; i < 20; i++) clock.advance(10_000);
    await det.stop();
    return seen;
  };
  const a = await run(5);
  assert.equal(a.length, 21, 'one at boot, then one per interval');
  assert.deepEqual(await run(5), a);
  assert.notDeepEqual(await run(6), a);
});

test('a week of readings at 10 s stays valid DEV-2 with a slow temperature drift and a slowly draining battery', () => {
  const rng = createRng(3);
  let s = initialSensor(rng);
  const first = sampleSensor(s, rng);
  let maxStep = 0;
  let prev = first.temp;
  for (let i = 1; i <= 7 * 8640; i++) {
    s = stepSensor(s, rng, 10, START / 1000 + i * 10);
    const v = sampleSensor(s, rng);
    assert.ok(Value.Check(UpPayload, toUpPayload(v, START / 1000 + i * 10, i & 0xffff, 'x')));
    maxStep = Math.max(maxStep, Math.abs(v.temp - prev));
    prev = v.temp;
  }
  assert.ok(maxStep < 0.5, `temperature moves slowly (largest step ${maxStep} °C)`);
  const last = sampleSensor(s, rng);
  assert.ok(last.bat < first.bat && first.bat - last.bat < 15, `battery ${first.bat} → ${last.bat} % in a week`);
});

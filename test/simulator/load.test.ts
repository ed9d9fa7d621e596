import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { createLoad } from '../../simulator/load.ts';
import { bucketOf, bucketRange, createHistogram } from '../../simulator/histogram.ts';
import { serials } from '../../simulator/cli.ts';
import { acceptsUp, FACTORY_SECRET, startBroker } from './support.ts';

test('load mode at 20 devices and 500 readings/s for 2 s gets every reading acked and logs each one', async () => {
  const broker = await startBroker();
  const dir = await mkdtemp(join(tmpdir(), 'sim-load-'));
  const seen = new Set<string>();
  let invalid = 0;
  broker.aedes.on('publish', (packet, client) => {
    if (!client || !packet.topic.endsWith('/up')) return;
    if (!acceptsUp(packet.payload as Buffer)) invalid++;
    const r = JSON.parse(packet.payload.toString());
    seen.add(`${client.id},${r.seq},${r.ts}`);
  });
  const sns = serials(undefined, 'LOAD', 20);
  const report = await createLoad({
    url: broker.url, sns, passwordFor: (sn) => derivedDevicePassword(sn, FACTORY_SECRET),
    ratePerS: 500, durationS: 2, connectRatePerS: 500, ackedLog: join(dir, 'acked.csv'),
  }).start();
  assert.equal(report.mode, 'load');
  assert.equal(report.devices, 20);
  assert.equal(report.connected, 20);
  assert.equal(report.connect_failed, 0);
  assert.equal(report.qos, 1);
  assert.equal(report.sent, 1000, 'the fixed rate over the duration');
  assert.equal(report.acked, report.sent);
  assert.equal(report.failed, 0);
  assert.ok(Math.abs(report.sent_per_s - 500) < 10, `sent_per_s ${report.sent_per_s}`);
  assert.ok(report.p50_ack_ms > 0 && report.p50_ack_ms <= report.p90_ack_ms);
  assert.ok(report.p90_ack_ms <= report.p99_ack_ms && report.p99_ack_ms <= report.max_ack_ms);
  assert.ok(report.max_ack_ms < 1000, `max ${report.max_ack_ms} ms on loopback`);
  assert.equal(invalid, 0, 'load readings are valid DEV-2 payloads');
  const lines = (await readFile(join(dir, 'acked.csv'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, report.acked);
  assert.equal(new Set(lines).size, lines.length, 'sn,seq,ts is unique per reading');
  assert.deepEqual(new Set(lines), seen, 'every acked line is a reading the broker received');
  await rm(dir, { recursive: true });
  await broker.close();
});

test('load mode counts refused connections as connect failures and still drives the rest', async () => {
  const broker = await startBroker();
  const sns = serials(undefined, 'LOAD', 6);
  const report = await createLoad({
    url: broker.url, sns, ratePerS: 200, durationS: 0.5,
    passwordFor: (sn) => (sn.endsWith('1') || sn.endsWith('2') ? 'wrong' : derivedDevicePassword(sn, FACTORY_SECRET)),
  }).start();
  assert.equal(report.connected, 4);
  assert.equal(report.connect_failed, 2);
  assert.equal(report.sent, 100);
  assert.equal(report.acked, 100);
  await broker.close();
});

test('load mode with a batch per turn still sends exactly the target rate and gets it all acked', async () => {
  const broker = await startBroker();
  const report = await createLoad({
    url: broker.url, sns: serials(undefined, 'LOAD', 4), ratePerS: 400, durationS: 0.5, batch: 5,
    passwordFor: (sn) => derivedDevicePassword(sn, FACTORY_SECRET),
  }).start();
  assert.equal(report.sent, 200);
  assert.equal(report.acked, 200);
  await broker.close();
});

test('the latency histogram finds percentiles within 0.2 % without keeping samples', () => {
  const h = createHistogram();
  for (let us = 1; us <= 100_000; us++) h.record(us);
  assert.equal(h.count, 100_000);
  assert.equal(h.maxUs, 100_000);
  for (const p of [50, 90, 99]) {
    const want = p * 1000;
    assert.ok(Math.abs(h.percentileUs(p) - want) / want < 0.002, `p${p}: ${h.percentileUs(p)} vs ${want}`);
  }
  assert.equal(createHistogram().percentileUs(50), 0);
});

test('histogram buckets cover every value once, exactly below 1024 µs', () => {
  for (const v of [0, 1, 1023, 1024, 1025, 5000, 123_456, 2 ** 30]) {
    const [low, width] = bucketRange(bucketOf(v));
    assert.ok(v >= low && v < low + width, `${v} in [${low}, ${low + width})`);
    if (v < 1024) assert.equal(width, 1);
  }
});

// ALM-8 from outside, as a plant runs it: detectors reporting in the background over real MQTT,
// freshly registered detectors each publishing one over-limit reading at QoS 1. Every PUBACKed
// reading must have its HIGH record and its outbox row (committed with it) and reach a kiosk
// WebSocket as an alarm — with roll-ups, maintenance and operators' acknowledgements running
// against the same database at the same time. Any error the appliance logs fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { upTopic } from '../../appliance/contract/topics.ts';
import { openDashboard, startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually, reading, wallClock } from '../helpers/appliance.ts';
import { startHttpServer } from '../notify/support.ts';

const BACKGROUND_DEVICES = 50;
const BACKGROUND_RATE = 2000; // readings/s in all
const FRESH_PER_ROUND = 200;
const ROUNDS = 5;
const LIMIT = 1000;
const LEAK_V_RAW = 3516.1; // k = 1, b = 0: 3516.1 ppm against a limit of 1000

async function register(api: ApiApp, sns: string[]) {
  const passwords = new Map<string, string>();
  for (const sn of sns) passwords.set(sn, (await api.app.testApi.addDevice({ sn, high_limit: LIMIT, calib: { k: 1, b: 0 } })).password!);
  return passwords;
}

/** Background detectors at a fixed total rate, QoS 1, normal values; counts what was acknowledged. */
function backgroundLoad(api: ApiApp, clients: Map<string, MqttClient>) {
  const stats = { sent: 0, acked: 0, failed: 0 };
  const seqs = new Map<string, number>();
  const everyMs = (clients.size * 1000) / BACKGROUND_RATE;
  const timers = [...clients].map(([sn, client]) =>
    setInterval(() => {
      const seq = (seqs.get(sn) ?? 0) + 1;
      seqs.set(sn, seq);
      const payload = JSON.stringify(reading({ ts: Math.floor(api.clock.now() / 1000), seq: seq % 65_536, v_raw: 100 + (seq % 7) }));
      stats.sent++;
      client.publish(upTopic(sn), payload, { qos: 1 }, (err) => (err ? stats.failed++ : stats.acked++));
    }, everyMs),
  );
  return { stats, stop: () => timers.forEach(clearInterval) };
}

test(`under ${BACKGROUND_RATE}/s background load, every acknowledged over-limit reading of ${FRESH_PER_ROUND} fresh detectors is a HIGH alarm with its outbox row and WebSocket event, ${ROUNDS} rounds in a row (ALM-8)`, async (t) => {
  const webhook = await startHttpServer(() => ({ json: { ok: true } }));
  const api = await startApi({}, { devLicenseDevices: BACKGROUND_DEVICES + FRESH_PER_ROUND * ROUNDS + 10, clock: wallClock() });
  // `parts`: the writer's own roll-up and maintenance requests, raced against its commits (below).
  const { parts, testApi } = api.app;
  const background = new Map<string, MqttClient>();
  let load: ReturnType<typeof backgroundLoad> | null = null;
  let kiosk: ReturnType<typeof openDashboard> | null = null;
  try {
    testApi.saveAlarmSettings({ channels: { webhook: { enabled: true, settings: { url: `${webhook.url}/hook` } } } });
    const backgroundSns = Array.from({ length: BACKGROUND_DEVICES }, (_, i) => `BG-${i + 1}`);
    for (const [sn, password] of await register(api, backgroundSns)) background.set(sn, await connectDevice(api.url, sn, password));
    kiosk = openDashboard(api, api.tokens.viewer);
    await eventually(() => kiosk!.of('snapshot').length === 1, 5000, 'the kiosk snapshot');
    load = backgroundLoad(api, background);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the load is running

    for (let round = 1; round <= ROUNDS; round++) {
      const sns = Array.from({ length: FRESH_PER_ROUND }, (_, i) => `R${round}-${i + 1}`);
      const passwords = await register(api, sns); // registered while the load runs, as a plant adds detectors
      const clients = await Promise.all(sns.map((sn) => connectDevice(api.url, sn, passwords.get(sn)!)));
      // In rounds 2 and 4 the other writers meet the commits: roll-ups, maintenance, acknowledgements.
      const concurrent: Promise<unknown>[] = [];
      let ackMs: number | null = null;
      if (round % 2 === 0) {
        const earlier = testApi.alarmRecords({ type: 'HIGH', acknowledged: false, limit: 100 }).items.map((a) => a.id);
        const started = performance.now();
        concurrent.push(
          parts.writer.rollup(api.clock.now()),
          parts.writer.maintenance(),
          testApi.runJob('maintenance'),
          api.call('POST', '/api/alarms/ack', { token: api.tokens.operator, body: { ids: earlier, comment: `round ${round}` } }).then((answer) => {
            ackMs = performance.now() - started;
            assert.equal(answer.status, 200, `the acknowledgement during ingest: ${answer.text}`);
            assert.equal(answer.body.acknowledged.length, earlier.length);
          }),
        );
      }
      const published = await Promise.allSettled(
        clients.map((client, i) => client.publishAsync(upTopic(sns[i]), JSON.stringify(reading({ ts: Math.floor(api.clock.now() / 1000), seq: 1, v_raw: LEAK_V_RAW })), { qos: 1 })),
      );
      await Promise.all(concurrent);
      const acked = sns.filter((_, i) => published[i].status === 'fulfilled');
      // What a PUBACK promises is there the moment it arrives: the record and its outbox row.
      const missing = acked.filter((sn) => !testApi.alarmRecords({ sn, type: 'HIGH', state: 'active' }).total);
      const withoutOutbox = acked.filter((sn) => {
        const [alarm] = testApi.alarmRecords({ sn, type: 'HIGH' }).items;
        return !alarm || testApi.outboxRows(alarm.id).length !== 1;
      });
      const onKiosk = () => new Set(kiosk!.of('alarm').filter((m) => m.kind === 'raised' && m.data.type === 'HIGH').map((m) => m.data.sn));
      await eventually(() => acked.every((sn) => onKiosk().has(sn)), 10_000, `round ${round}: every alarm on the kiosk`).catch(() => {});
      const notOnKiosk = acked.filter((sn) => !onKiosk().has(sn));
      t.diagnostic(`round ${round}: ${acked.length}/${sns.length} acknowledged, ${missing.length} without HIGH, ${withoutOutbox.length} without outbox row, ${notOnKiosk.length} not on the kiosk${ackMs === null ? '' : `, ack during ingest ${Math.round(ackMs)} ms`}; background ${load.stats.acked} acked, ${load.stats.failed} failed`);
      assert.equal(acked.length, sns.length, `round ${round}: every leak reading is acknowledged`);
      assert.deepEqual([missing, withoutOutbox, notOnKiosk], [[], [], []], `round ${round}: zero missing`);
      const [first] = testApi.alarmRecords({ sn: sns[0], type: 'HIGH' }).items;
      assert.deepEqual([first.value, first.peak, first.threshold], [LEAK_V_RAW, LEAK_V_RAW, LIMIT]);
      await Promise.all(clients.map((client) => client.endAsync()));
    }
    load.stop();
    await eventually(() => load!.stats.acked + load!.stats.failed === load!.stats.sent, 5000, 'the background PUBACKs');
    assert.equal(load.stats.failed, 0, 'no background reading was refused');
    assert.ok(load.stats.acked > BACKGROUND_RATE, `the background ran (${load.stats.acked} readings)`);
  } finally {
    load?.stop();
    kiosk?.socket.close();
    for (const client of background.values()) client.end(true);
    await api.stop();
    await webhook.close();
  }
});

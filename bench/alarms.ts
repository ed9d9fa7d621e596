// `npm run bench:alarms`: an alarm storm (issue 3). N devices, all connected, each sends one
// over-limit reading in the same instant; reports how long until every alarm record is committed,
// until every notification reached a local webhook receiver, and that every reading was stored.
// A measurement, not a test. Prints one JSON line.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createApp } from '../appliance/app.ts';
import { writeDevLicense } from '../licensing/dev-license.ts';
import { loadConfig } from '../appliance/core/config.ts';
import { silentLogger } from '../appliance/core/log.ts';
import { deviceUsername, upTopic } from '../appliance/contract/topics.ts';
import { benchArgs, numberOption } from './args.ts';

const USAGE = `Usage: npm run bench:alarms -- [--devices N]

An alarm storm (issue 3): N connected devices each send one over-limit reading in the same instant.
Reports the time until every reading is acknowledged, every alarm record committed and every
notification delivered to a local webhook, and that every reading was stored. Prints one JSON line.

  --devices N     devices (default 1000)
  -h, --help      this text`;

const values = benchArgs('bench:alarms', USAGE, { devices: { type: 'string', default: '1000' } });
const devices = numberOption('bench:alarms', 'devices', values.devices, 1);

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcs-storm-'));
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // More devices than evaluation's 10: an offline development license (licensing/dev-license.ts).
  const devLicense = writeDevLicense(dataDir, devices + 10);
  const config = loadConfig({
    overrides: {
      data_dir: dataDir, http: { port: 0, host: '127.0.0.1' }, mqtt: { port: 0, host: '127.0.0.1' }, log: { level: 'silent' },
      license: { machine_id: devLicense.machineId },
    },
  });
  if (!config.ok) throw new Error(config.errors.join('\n'));
  const app = createApp({ config: config.config, log: silentLogger(), licensePublicKeyPem: devLicense.publicPem });
  await app.start();
  const clients: mqtt.MqttClient[] = [];
  try {
    const { parts } = app;
    parts.alarmSettings.save({
      channels: { webhook: { enabled: true, settings: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` } } },
    });
    const url = `mqtt://127.0.0.1:${parts.broker.ports.mqtt}`;
    for (let i = 0; i < devices; i++) {
      const sn = `STORM-${String(i).padStart(4, '0')}`;
      const { password } = await parts.devices.add({ sn, high_limit: 1000 });
      clients.push(await mqtt.connectAsync(url, { username: deviceUsername(sn), password: password!, clientId: sn, protocolVersion: 4, reconnectPeriod: 0 }));
    }
    const ts = Math.floor(Date.now() / 1000);
    const started = performance.now();
    const acks = clients.map((client, i) =>
      client.publishAsync(upTopic(`STORM-${String(i).padStart(4, '0')}`), JSON.stringify({ ts, seq: 1, v_raw: 5000, temp: 25, bat: 90, rssi: -70, err: 0 }), { qos: 1 }),
    );
    await Promise.all(acks);
    const ackedMs = performance.now() - started;
    let recordsMs = 0;
    while (parts.alarmRepo.list({ type: 'HIGH', state: 'active' }).total < devices) await new Promise((r) => setTimeout(r, 5));
    recordsMs = performance.now() - started;
    while (received < devices) await new Promise((r) => setTimeout(r, 10));
    const drainedMs = performance.now() - started;
    console.log(JSON.stringify({
      devices,
      all_acked_ms: Math.round(ackedMs),
      all_alarm_records_ms: Math.round(recordsMs),
      all_notifications_delivered_ms: Math.round(drainedMs),
      readings_stored: parts.ingest.totals.stored,
      notifications_received: received,
    }));
  } finally {
    for (const client of clients) client.end(true);
    await app.stop();
    receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

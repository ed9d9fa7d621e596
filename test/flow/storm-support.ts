// The ground of the offline-storm flow tests (issue 15.4): an appliance licensed for a fleet of
// detectors with factory credentials and no OFFLINE grace (ingest/presence.ts: a dropped connection
// raises at once), offline storms grouped (5 within 60 s, held 10 s), a real SMTP server and a real
// webhook receiver as the two enabled channels (DingTalk configured but off), and the fleet on real
// MQTT connections, connected and reporting 50 at a time.
import type { MqttClient } from 'mqtt';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { connectDevice, publishReading, startApp, type RunningApp } from '../helpers/appliance.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { startHttpServer, type LocalHttpServer } from '../notify/support.ts';

export interface StormGround {
  app: RunningApp;
  smtp: TestSmtp;
  /** The webhook receiver: the channel posts to `${url}/alarms`. */
  receiver: LocalHttpServer;
  /** Detector i's serial number (1-based): `${prefix}-001` and on. */
  sn(i: number): string;
  /** Connects detectors first..last (50 at a time) and has each send one reading with `seq`, stamped now. */
  connectAndReport(first: number, last: number, seq: number): Promise<MqttClient[]>;
  /** Ends every client connected here, the appliance and both servers. */
  stop(): Promise<void>;
}

export interface StormGroundOptions {
  /** The serial numbers' prefix. */
  prefix: string;
  /** The factory secret the detectors' passwords are derived from. */
  secret: string;
  /** How many detectors are registered (as `Detector i` in `Zone 1..4`); ten more are licensed. */
  detectors: number;
  /** Whether returns (cleared alarms) are notified too. */
  notifyCleared: boolean;
}

export async function startStormGround(options: StormGroundOptions): Promise<StormGround> {
  const { prefix, secret, detectors } = options;
  const app = await startApp(
    { mqtt: { port: 0, host: '127.0.0.1', factory_secret: secret }, ingest: { offline_grace_s: 0 }, site: { timezone: 'Asia/Shanghai', language: 'en' } },
    { devLicenseDevices: detectors + 10 },
  );
  const smtp = await startSmtp();
  const receiver = await startHttpServer(() => ({ status: 200, json: { ok: true } }));
  const clients: MqttClient[] = [];
  const stop = async () => {
    for (const client of clients) client.end(true);
    await app.stop();
    await smtp.close();
    await receiver.close();
  };
  const sn = (i: number) => `${prefix}-${String(i).padStart(3, '0')}`;
  try {
    const { testApi } = app.app;
    testApi.saveAlarmSettings({
      schedule: { notify_cleared: options.notifyCleared }, // every day, all day
      offline_storm: { threshold: 5, window_s: 60, hold_s: 10 },
      channels: {
        email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['safety@plant.example'] } },
        webhook: { enabled: true, settings: { url: `${receiver.url}/alarms` } },
        dingtalk: { enabled: false, settings: { url: `${receiver.url}/never` } },
      },
    });
    for (let i = 1; i <= detectors; i++) {
      await testApi.addDevice({ sn: sn(i), name: `Detector ${i}`, location: `Zone ${1 + (i % 4)}`, high_limit: 1000, credentials: 'factory' });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const connectAndReport = async (first: number, last: number, seq: number) => {
    const connected: MqttClient[] = [];
    const ts = Math.floor(app.clock.now() / 1000);
    for (let start = first; start <= last; start += 50) {
      const sns = Array.from({ length: Math.min(50, last - start + 1) }, (_, k) => sn(start + k));
      const batch = await Promise.all(sns.map((each) => connectDevice(app.url, each, derivedDevicePassword(each, secret))));
      clients.push(...batch);
      await Promise.all(batch.map((client, k) => publishReading(client, sns[k], { seq, ts, v_raw: 100 })));
      connected.push(...batch);
    }
    return connected;
  };
  return { app, smtp, receiver, sn, connectAndReport, stop };
}

/** A mail's text as written: quoted-printable soft line breaks removed, `=XX` decoded. */
export const unfoldQuotedPrintable = (raw: string) =>
  Buffer.from(raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');

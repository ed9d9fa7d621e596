// The cloud side of the uplink benchmarks (issue 17): the admin session that points the appliance
// at a broker (`PUT /api/config/uplink`, exactly as an admin would), the status the box reports
// (`GET /api/system/uplink`), and a counting subscriber that takes every envelope the box published,
// counts records, bytes and duplicates (by record id: docs/uplink.md, "At-least-once") and how long
// after the box received a reading it reached the cloud.
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { UplinkRecord, UplinkStatus, UplinkTargetStatus } from '../appliance/contract/uplink.ts';

export const BENCH_BOX_ID = 'bench-box';
export const BENCH_TARGET_ID = 'cloud';
export const BENCH_TOPIC_TEMPLATE = 'bench/{box}/{kind}';

export interface Broker {
  /** mqtt://host:port without credentials. */
  url: string;
  username: string;
  password: string;
}

/** mqtt://user:pass@host:port → the parts the target settings keep apart (a URL never carries credentials). */
export function brokerFromUrl(raw: string): Broker {
  const url = new URL(raw);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/$/, ''), username, password };
}

export async function adminSession(http: string, password: string) {
  const login = await fetch(`${http}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }),
  });
  if (!login.ok) throw new Error(`admin login: ${login.status} ${await login.text()}`);
  const token = ((await login.json()) as { access_token: string }).access_token;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    /** One MQTT target, every reading raw, unthrottled (the "sync of every reading"). */
    async configureTarget(broker: Broker, extra: Record<string, unknown> = {}) {
      const body = {
        box_id: BENCH_BOX_ID,
        targets: [{
          id: BENCH_TARGET_ID, kind: 'mqtt', url: broker.url, username: broker.username, password: broker.password,
          topic_template: BENCH_TOPIC_TEMPLATE, telemetry: 'raw', max_records_per_s: 0, max_bytes_per_day: 0, ...extra,
        }],
      };
      const answer = await fetch(`${http}/api/config/uplink`, { method: 'PUT', headers, body: JSON.stringify(body) });
      if (!answer.ok) throw new Error(`PUT /api/config/uplink: ${answer.status} ${await answer.text()}`);
    },
    /** The target's status, and how long the request took (it sums the backlog on the main thread). */
    async status(): Promise<{ target: UplinkTargetStatus | undefined; ms: number }> {
      const started = performance.now();
      const answer = await fetch(`${http}/api/system/uplink`, { headers });
      if (!answer.ok) throw new Error(`GET /api/system/uplink: ${answer.status} ${await answer.text()}`);
      const status = (await answer.json()) as UplinkStatus;
      return { target: status.targets.find((t) => t.id === BENCH_TARGET_ID), ms: performance.now() - started };
    },
  };
}
export type AdminSession = Awaited<ReturnType<typeof adminSession>>;

/** Until `check` holds (polled every `everyMs`) or `timeoutMs` passed; whether it held. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Milliseconds in 1-ms buckets up to a minute (beyond: the last bucket), for percentiles of many samples. */
export function createHistogram() {
  const buckets = new Float64Array(60_001);
  let count = 0;
  let max = 0;
  return {
    add(ms: number) {
      const v = Math.max(0, Math.round(ms));
      buckets[Math.min(v, buckets.length - 1)]++;
      count++;
      if (v > max) max = v;
    },
    get count() {
      return count;
    },
    percentile(q: number): number | null {
      if (!count) return null;
      const rank = Math.ceil(q * count);
      let seen = 0;
      for (let i = 0; i < buckets.length; i++) {
        seen += buckets[i];
        if (seen >= rank) return i;
      }
      return max;
    },
    max: () => (count ? max : null),
  };
}

export interface CloudSubscriber {
  readonly client: MqttClient;
  readonly counts: { messages: number; bytes: number; records: number; readings: number; duplicates: number; historical: number; other: Record<string, number> };
  /** Arrival at the subscriber minus the box's receive time, per reading (same clock: one machine). */
  readonly lag: ReturnType<typeof createHistogram>;
  /** When the last message arrived (performance.now()). */
  lastAt(): number;
  stop(): Promise<void>;
}

/**
 * Subscribes to every topic of the bench box (QoS 1) and counts. `track(sn, ts)` records a reading
 * and says whether it is new (false: a duplicate of an id already seen); `lagOf` picks which
 * readings go into the lag histogram (default: the live ones).
 */
export async function startCloudSubscriber(
  broker: Broker, track: (sn: string, ts: number) => boolean, lagOf: (record: UplinkRecord) => boolean = (r) => !r.historical,
): Promise<CloudSubscriber> {
  const client = await mqtt.connectAsync(broker.url, {
    username: broker.username || undefined, password: broker.password || undefined, clientId: `bench-cloud-${process.pid}`,
    protocolVersion: 4, reconnectPeriod: 0, clean: true,
  });
  const counts = { messages: 0, bytes: 0, records: 0, readings: 0, duplicates: 0, historical: 0, other: {} as Record<string, number> };
  const lag = createHistogram();
  let lastAt = 0;
  client.on('message', (_topic, payload) => {
    const now = Date.now();
    lastAt = performance.now();
    counts.messages++;
    counts.bytes += payload.length;
    const envelope = JSON.parse(payload.toString('utf8')) as { records: UplinkRecord[] };
    for (const record of envelope.records) {
      counts.records++;
      if (record.historical) counts.historical++;
      if (record.kind !== 'reading') {
        counts.other[record.kind] = (counts.other[record.kind] ?? 0) + 1;
        continue;
      }
      counts.readings++;
      if (!track(record.sn, record.ts)) counts.duplicates++;
      if (lagOf(record)) lag.add(now - record.received_at);
    }
  });
  await client.subscribeAsync(`bench/${BENCH_BOX_ID}/#`, { qos: 1 });
  return { client, counts, lag, lastAt: () => lastAt, stop: () => client.endAsync() };
}

/** CPU seconds and RSS of a process, from /proc. */
export function sampleProcess(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const cpuTicks = Number(stat[11]) + Number(stat[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuS: cpuTicks / 100, rssMb: rssKb / 1024 };
}

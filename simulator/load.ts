// SIM-3: load mode for benchmarks. Opens N device connections at a bounded connect rate, then
// drives a fixed aggregate rate of readings for a duration, spread evenly over the devices and
// over time (a tick every ~10 ms sends the quota due so far), and measures send → PUBACK latency.
// Lean on purpose so the generator is not the bottleneck: one mqtt.js client per device without
// auto-reconnect, payload strings pre-built per device with only ts and seq spliced in, a bounded
// in-flight window per client, and latencies in a fixed typed-array histogram.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { connect, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { deviceUsername, upTopic } from '../appliance/contract/topics.ts';
import { createAckedLog, type AckedLog } from './acked-log.ts';
import { createHistogram } from './histogram.ts';
import { createRng, seedFrom, round, type Rng } from './rng.ts';

export interface LoadOptions {
  url: string;
  sns: string[];
  passwordFor: (sn: string) => string;
  /** Readings per second across all devices. */
  ratePerS: number;
  durationS: number;
  /** New connections per second while ramping up (default 500). */
  connectRatePerS?: number;
  qos?: 0 | 1;
  /** Unacknowledged publishes allowed per client; beyond it the client skips its turn (default 100). */
  windowPerClient?: number;
  /** Readings a device sends back to back on its turn (default 1). More than 1 shares one socket
   *  write between them: cheaper for the generator, less like real detectors. */
  batch?: number;
  /** How long to wait for outstanding PUBACKs after the sending phase (default 10 s). */
  drainS?: number;
  ackedLog?: string;
  seed?: number;
  log?: (line: string) => void;
}

/** The one JSON line load mode prints. */
export interface LoadReport {
  mode: 'load';
  url: string;
  devices: number;
  connected: number;
  connect_failed: number;
  qos: 0 | 1;
  target_per_s: number;
  duration_s: number;
  sent: number;
  acked: number;
  failed: number;
  sent_per_s: number;
  acked_per_s: number;
  p50_ack_ms: number;
  p90_ack_ms: number;
  p99_ack_ms: number;
  max_ack_ms: number;
}

interface Conn {
  sn: string;
  topic: string;
  /** Everything after the seq field of this device's reading, pre-built once. */
  tail: string;
  client: MqttClient | null;
  ready: boolean;
  inflight: number;
  seq: number;
}

const TICK_MS = 10;
const LAG_RESOLUTION_MS = 5;
const noop = () => {};

export function createLoad(o: LoadOptions) {
  const qos = o.qos ?? 1;
  const windowPerClient = o.windowPerClient ?? 100;
  const batch = Math.max(1, o.batch ?? 1);
  const log = o.log ?? (() => {});
  const hist = createHistogram();
  const c = { connected: 0, connectFailed: 0, sent: 0, acked: 0, failed: 0, skipped: 0, dropped: 0 };
  const rng = createRng(o.seed ?? 1);
  const conns: Conn[] = o.sns.map((sn) => ({
    sn, topic: upTopic(sn), tail: readingTail(createRng(seedFrom(sn, rng() * 2 ** 32))),
    client: null, ready: false, inflight: 0, seq: 0,
  }));
  const pubOpts: IClientPublishOptions = { qos };
  let ackedLog: AckedLog | null = null;
  let counting = true;
  let stopRequested = false;
  let wake: (() => void) | null = null;
  let lastAckAt = 0;
  let firstError = '';

  function open(conn: Conn, settle: () => void) {
    let settled = false;
    const client = connect(o.url, {
      clientId: conn.sn, username: deviceUsername(conn.sn), password: o.passwordFor(conn.sn),
      protocolVersion: 4, clean: true, reconnectPeriod: 0, keepalive: 60, connectTimeout: 30_000,
      log: noop, // mqtt.js's debug logging costs a few % per message even when disabled
      reschedulePings: false, // else every packet re-arms the keepalive timer (two timers per reading)
    });
    conn.client = client;
    client.on('connect', () => {
      conn.ready = true;
      c.connected++;
      if (!settled) (settled = true), settle();
    });
    client.on('error', (err) => (firstError ||= err.message)); // the 'close' that follows is what counts
    client.on('close', () => {
      if (conn.ready) {
        c.dropped++;
        c.connected--;
        // The first drop is said when it happens, with why mqtt.js closed (e.g. "Keepalive timeout"):
        // a count at the end cannot tell a broker that closed connections from a client that gave up.
        if (c.dropped === 1) log(`load: first connection dropped (${conn.sn}): ${firstError || 'closed by the broker'}`);
      }
      conn.ready = false;
      client.end(true); // fails the callbacks of anything in flight: counted as failed
      if (!settled) (settled = true), c.connectFailed++, settle();
    });
  }

  /** Opens the connections at the connect rate; resolves when each has connected or failed. */
  function ramp(): Promise<void> {
    const rate = o.connectRatePerS ?? 500;
    const t0 = performance.now();
    let opened = 0;
    let settledCount = 0;
    return new Promise((resolve) => {
      if (conns.length === 0) return resolve();
      const settle = () => ++settledCount === conns.length && resolve();
      const tick = () => {
        const due = Math.min(conns.length, Math.max(1, Math.floor(((performance.now() - t0) / 1000) * rate)));
        while (opened < due && !stopRequested) open(conns[opened++], settle);
        if (opened < conns.length && !stopRequested) setTimeout(tick, TICK_MS);
        else if (stopRequested) for (; opened < conns.length; opened++) settle();
      };
      tick();
    });
  }

  function publish(conn: Conn, ts: number) {
    const seq = conn.seq;
    conn.seq = (seq + 1) & 0xffff;
    conn.inflight++;
    c.sent++;
    const t = performance.now();
    conn.client!.publish(conn.topic, '{"ts":' + ts + ',"seq":' + seq + conn.tail, pubOpts, (err) => {
      conn.inflight--;
      if (!counting) return;
      if (err) return void c.failed++;
      c.acked++;
      lastAckAt = performance.now();
      hist.record((lastAckAt - t) * 1000);
      if (ackedLog) ackedLog.add(conn.sn, seq, ts);
    });
  }

  /** Sends at the target rate until the duration is over; returns the length of the phase, ms. */
  function drive(): Promise<number> {
    const t0 = performance.now();
    const durationMs = o.durationS * 1000;
    let due = 0;
    let cursor = 0;
    let nextReport = 1000;
    const n = conns.length;
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        const elapsed = Math.min(performance.now() - t0, durationMs);
        const target = Math.floor((elapsed / 1000) * o.ratePerS);
        let quota = target - due;
        due = target;
        const ts = Math.floor(Date.now() / 1000);
        // Round-robin over the devices, `batch` readings per device per turn, skipping full windows.
        while (quota > 0) {
          let k = 0;
          while (k < n && !(conns[cursor].ready && conns[cursor].inflight < windowPerClient)) {
            if (++cursor === n) cursor = 0;
            k++;
          }
          if (k === n) break;
          const conn = conns[cursor];
          for (let b = 0; b < batch && quota > 0 && conn.inflight < windowPerClient; b++, quota--) publish(conn, ts);
          if (++cursor === n) cursor = 0;
        }
        c.skipped += quota;
        if (elapsed >= nextReport) {
          nextReport += 1000;
          log(`load: ${Math.round(elapsed / 1000)} s sent=${c.sent} acked=${c.acked} failed=${c.failed} connected=${c.connected}`);
        }
        if (elapsed >= durationMs || stopRequested) {
          clearInterval(timer);
          resolve(elapsed);
        }
      }, TICK_MS);
    });
  }

  /** Waits for outstanding PUBACKs up to drainS; whatever is still out then counts as failed. */
  async function drain() {
    const deadline = performance.now() + (o.drainS ?? 10) * 1000;
    const outstanding = () => conns.reduce((sum, conn) => sum + conn.inflight, 0);
    while (outstanding() > 0 && performance.now() < deadline && !stopRequested) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 20);
      });
    }
    counting = false;
    c.failed += outstanding();
  }

  /** DISCONNECT every client; whatever has not closed after a few seconds is cut. */
  async function closeAll() {
    const closing = conns.map((conn) => new Promise<void>((resolve) => {
      const client = conn.client;
      if (!client) return resolve();
      conn.ready = false;
      client.removeAllListeners('close');
      client.end(conn.inflight > 0, {}, () => resolve());
    }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, 5000, false)));
    const closed = await Promise.race([Promise.all(closing).then(() => true), timeout]);
    clearTimeout(timer);
    if (!closed) for (const conn of conns) conn.client?.stream?.destroy();
  }

  return {
    /** Runs the whole load (ramp, drive, drain, close) and resolves with the report. */
    async start(): Promise<LoadReport> {
      if (o.ackedLog) ackedLog = createAckedLog(o.ackedLog);
      const rampStart = performance.now();
      await ramp();
      log(`load: ${c.connected}/${conns.length} connected in ${((performance.now() - rampStart) / 1000).toFixed(1)} s` +
        (c.connectFailed ? `, ${c.connectFailed} failed (first error: ${firstError || 'connection closed'})` : ''));
      const sendStart = performance.now();
      const probe = startProbe();
      const sendMs = stopRequested || c.connected === 0 ? 0 : await drive();
      if (sendMs > 0) log(`load: generator ${probe.end(sendMs)}`);
      await drain();
      const connectedAtEnd = c.connected;
      await closeAll();
      await ackedLog?.close();
      if (c.skipped > 0) log(`load: ${c.skipped} readings not sent: every in-flight window was full (the broker is behind)`);
      if (c.dropped > 0) log(`load: ${c.dropped} connections dropped during the run (first error: ${firstError || 'none: closed by the broker'})`);
      const ackSpanMs = lastAckAt > sendStart ? Math.max(sendMs, lastAckAt - sendStart) : sendMs;
      const ms = (us: number) => round(us / 1000, 3);
      return {
        mode: 'load', url: o.url, devices: conns.length, connected: connectedAtEnd + c.dropped,
        connect_failed: c.connectFailed, qos, target_per_s: o.ratePerS, duration_s: round(sendMs / 1000, 3),
        sent: c.sent, acked: c.acked, failed: c.failed,
        sent_per_s: sendMs > 0 ? round(c.sent / (sendMs / 1000), 1) : 0,
        acked_per_s: ackSpanMs > 0 ? round(c.acked / (ackSpanMs / 1000), 1) : 0,
        p50_ack_ms: ms(hist.percentileUs(50)), p90_ack_ms: ms(hist.percentileUs(90)),
        p99_ack_ms: ms(hist.percentileUs(99)), max_ack_ms: ms(hist.maxUs),
      };
    },
    /** Cuts the run short (SIGINT); start() still resolves with the report so far. */
    stop() {
      stopRequested = true;
      wake?.();
    },
  };
}

/** The generator's own CPU and event-loop delay: if they grow, the generator, not the broker,
 *  limits the figures. */
function startProbe() {
  const cpu0 = process.cpuUsage();
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  return {
    end(elapsedMs: number): string {
      lag.disable();
      const cpu = process.cpuUsage(cpu0);
      // The histogram includes its own sampling interval: take it off.
      const lagMs = (p: number) => Math.max(0, lag.percentile(p) / 1e6 - LAG_RESOLUTION_MS).toFixed(1);
      const pct = Math.round((cpu.user + cpu.system) / 10 / elapsedMs);
      return `CPU while sending ${pct} % of one core, event-loop delay p50 ${lagMs(50)} ms p99 ${lagMs(99)} ms`;
    },
  };
}

/** The rest of a realistic ~150-byte DEV-2 reading after `"seq":N`, fixed per device. */
function readingTail(rng: Rng): string {
  const v = round(350 + rng() * 100, 1);
  const temp = round(18 + rng() * 8, 2);
  const humi = round(35 + rng() * 30, 1);
  const bat = Math.round(60 + rng() * 40);
  const rssi = Math.round(-95 + rng() * 40);
  return `,"v_raw":${v},"temp":${temp},"humi":${humi},"bat":${bat},"rssi":${rssi},"net":"4G","ver":"1.0.0-load","err":0}`;
}

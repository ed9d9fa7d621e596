// SIM-1: one detector speaking DEV-1..4 over MQTT 3.1.1, the way the field firmware does:
// username device_{sn}, clientId = sn, clean session, a retained Last Will on mcs/{sn}/status,
// a reading every interval on mcs/{sn}/up, commands on mcs/{sn}/cmd and mcs/broadcast/cmd.
// Readings taken while the connection is down are buffered and resent on reconnect with their
// original ts and seq (ING-4 makes the server drop the duplicates this may create).
import type { UpPayload } from '../appliance/contract/device-payload.ts';
import type { DeviceCommand } from '../appliance/contract/device-payload.ts';
import { decodeCommand } from './commands.ts';
import { systemClock, unixSeconds, type Clock, type TimerHandle } from './clock.ts';
import { openLink, type Link } from './link.ts';
import { createRng, seedFrom, type Rng } from './rng.ts';
import { batteryError, initialSensor, nextSeq, sampleSensor, stepSensor, toUpPayload } from './sensor.ts';
import type { Calibration, DetectorControl, DetectorEvent, PublishOutcome, Scenario } from './types.ts';

export const SIM_FIRMWARE_VERSION = '1.0.0-sim';

export interface DetectorOptions {
  sn: string;
  url: string;
  password: string;
  /** Normal reporting interval, ms. */
  intervalMs: number;
  /** QoS of readings (DEV-1 allows 0 or 1; default 1). */
  qos?: 0 | 1;
  clock?: Clock;
  rng?: Rng;
  scenario?: Scenario;
  ver?: string;
  baselineMv?: number;
  /** Calibration the detector holds at start, as if sent by a calib command earlier. */
  calib?: Calibration;
  /** Delay before the first reading after (re)boot, to spread a fleet over the interval. Default 0. */
  phaseMs?: number;
  /** Retry delay after a lost connection or a refused CONNECT (default 5000). */
  reconnectDelayMs?: number;
  /** Readings kept while offline; the oldest are dropped beyond this (default 5000). */
  bufferLimit?: number;
  keepaliveS?: number;
  log?: (line: string) => void;
  onEvent?: (e: DetectorEvent) => void;
}

export interface DetectorStats {
  sn: string;
  connected: boolean;
  intervalMs: number;
  seq: number;
  taken: number;
  sent: number;
  acked: number;
  buffered: number;
  dropped: number;
  refused: number;
  connects: number;
  calib: Calibration;
}

export interface Detector extends DetectorControl {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): DetectorStats;
}

interface Item {
  payload: string | Buffer;
}

export function createDetector(o: DetectorOptions): Detector {
  const clock = o.clock ?? systemClock;
  const rng = o.rng ?? createRng(seedFrom(o.sn));
  const scenario = o.scenario;
  const ver = o.ver ?? SIM_FIRMWARE_VERSION;
  const listeners = new Set<(e: DetectorEvent) => void>(o.onEvent ? [o.onEvent] : []);
  const counts = { sent: 0, acked: 0, dropped: 0, refused: 0, connects: 0 };
  let sensor = initialSensor(rng, { baselineMv: o.baselineMv });
  let calib: Calibration = o.calib ?? { k: 1, b: 0, t_comp: 0 };
  let seq = 0;
  let taken = 0;
  let startedMs = 0;
  let lastStepMs = 0;
  let intervalMs = o.intervalMs;
  let nextReadingAt = 0;
  const timers: Record<'reading' | 'debug' | 'reboot' | 'reconnect', TimerHandle | undefined> = {
    reading: undefined, debug: undefined, reboot: undefined, reconnect: undefined,
  };
  let running = false;
  let wantOnline = false;
  let link: Link | null = null;
  let detach: (() => void) | void = undefined;
  const buffer: Item[] = [];
  const inflight = new Set<Item>();

  const log = (line: string) => o.log?.(`${o.sn} ${line}`);
  const emit = (e: DetectorEvent) => listeners.forEach((l) => l(e));
  // SIM-2 skew: everything the device stamps uses its own (possibly wrong) clock.
  const deviceNow = () => clock.now() + (scenario?.clockOffsetMs ?? 0);

  function arm(name: keyof typeof timers, fn: () => void, ms: number) {
    clock.clearTimeout(timers[name]);
    timers[name] = clock.setTimeout(fn, ms);
  }
  function disarm(...names: (keyof typeof timers)[]) {
    for (const name of names) {
      clock.clearTimeout(timers[name]);
      timers[name] = undefined;
    }
  }

  function scheduleReadings(firstInMs: number) {
    nextReadingAt = clock.now() + firstInMs;
    arm('reading', onReadingDue, firstInMs);
  }
  function onReadingDue() {
    takeReading();
    // Schedule from the planned time, not from now, so intervals do not drift; after a stall
    // (a blocked event loop) skip ahead rather than firing a catch-up burst.
    nextReadingAt = Math.max(nextReadingAt + intervalMs, clock.now());
    arm('reading', onReadingDue, nextReadingAt - clock.now());
  }

  function takeReading(): UpPayload {
    const nowMs = deviceNow();
    sensor = stepSensor(sensor, rng, (nowMs - lastStepMs) / 1000, nowMs / 1000);
    lastStepMs = nowMs;
    const ctx = { n: taken++, tS: (nowMs - startedMs) / 1000, rng, calib };
    let reading = toUpPayload(sampleSensor(sensor, rng), unixSeconds(nowMs), seq, ver, batteryError(sensor.bat));
    seq = nextSeq(seq);
    if (scenario?.shape) reading = scenario.shape(reading, ctx);
    const item = { payload: scenario?.encode ? scenario.encode(reading, ctx) : JSON.stringify(reading) };
    const direct = link !== null && link.connected && buffer.length === 0;
    emit({ type: 'reading', reading, payload: item.payload, buffered: !direct });
    if (direct) send(item);
    else keep(item);
    return reading;
  }

  function keep(...items: Item[]) {
    buffer.push(...items);
    const excess = buffer.length - (o.bufferLimit ?? 5000);
    if (excess > 0) {
      buffer.splice(0, excess);
      counts.dropped += excess;
    }
  }

  function send(item: Item) {
    const l = link;
    if (!l) return keep(item);
    inflight.add(item);
    counts.sent++;
    l.publishUp(item.payload, o.qos ?? 1).then((outcome) => {
      // A failure means the link closed: onLinkClosed already moved the item back to the buffer.
      if (outcome === 'failed' || link !== l) return;
      inflight.delete(item);
      counts.acked++;
    });
  }

  function connect() {
    disarm('reconnect');
    const password = scenario?.password ? scenario.password(o.password) : o.password;
    const l = openLink({ sn: o.sn, url: o.url, password, keepaliveS: o.keepaliveS, nowS: () => unixSeconds(deviceNow()) }, {
      onConnect: () => {
        counts.connects++;
        log('connected');
        emit({ type: 'connected' });
        // Readings taken while away go first, oldest first, in one burst (SIM-2 offline).
        const backlog = buffer.splice(0);
        if (backlog.length > 1) log(`resending ${backlog.length} buffered readings`);
        backlog.forEach(send);
      },
      onRefused: (code, message) => {
        counts.refused++;
        log(`CONNACK refused: return code ${code} (${message})`);
        emit({ type: 'refused', code, message });
      },
      onCommand: (topic, payload) => onCommand(topic, payload),
      onClose: (reason, wasConnected) => {
        if (link !== l) return;
        link = null;
        // Readings in flight may or may not have reached the broker: resend them (ING-4 dedupes).
        buffer.unshift(...inflight);
        inflight.clear();
        keep();
        if (wasConnected) log(`disconnected: ${reason}`);
        emit({ type: 'disconnected', reason: wasConnected ? reason : `connect failed: ${reason}` });
        if (wantOnline) arm('reconnect', connect, o.reconnectDelayMs ?? 5000);
      },
    });
    link = l;
  }

  /** Clean goodbye: retained offline status, then DISCONNECT (so no will is needed). */
  async function hangUp() {
    const l = link;
    link = null;
    inflight.clear();
    if (l) await l.close();
  }

  function onCommand(topic: string, payload: Buffer) {
    const decoded = decodeCommand(payload);
    emit({ type: 'command', command: decoded.ok ? decoded.command : payload.toString(), ok: decoded.ok });
    if (!decoded.ok) return log(`ignored command on ${topic}: ${decoded.reason}`);
    apply(decoded.command);
  }

  // DEV-3
  function apply(cmd: DeviceCommand) {
    switch (cmd.cmd) {
      case 'debug':
        log(`debug: 1 s readings for ${cmd.duration} s`);
        intervalMs = 1000;
        scheduleReadings(1000);
        arm('debug', endDebug, cmd.duration * 1000);
        return;
      case 'calib':
        calib = { k: cmd.k, b: cmd.b, t_comp: cmd.t_comp };
        log(`calib: k=${cmd.k} b=${cmd.b} t_comp=${cmd.t_comp}`);
        return;
      case 'reboot':
        log(`reboot: back in ${cmd.delay} s`);
        void reboot(cmd.delay);
        return;
      case 'ota':
        log(`ota ${cmd.url} md5=${cmd.md5}: not simulated, ignored`);
        return;
    }
  }

  function endDebug() {
    // The 1 s reading already planned still happens; the one after it is an interval later.
    timers.debug = undefined;
    intervalMs = o.intervalMs;
    log('debug over');
  }

  async function reboot(delayS: number) {
    disarm('reading', 'debug', 'reconnect');
    wantOnline = false;
    intervalMs = o.intervalMs;
    await hangUp();
    buffer.length = 0; // RAM does not survive a reboot; calibration (flash) does.
    if (!running) return;
    arm('reboot', boot, delayS * 1000);
  }

  function boot() {
    timers.reboot = undefined;
    seq = 0;
    wantOnline = true;
    connect();
    scheduleReadings(o.phaseMs ?? 0);
  }

  const detector: Detector = {
    sn: o.sn,
    clock,
    get connected() {
      return link?.connected ?? false;
    },
    start() {
      if (running) return Promise.resolve();
      running = true;
      startedMs = lastStepMs = deviceNow();
      const settled = new Promise<void>((resolve) => {
        const off = detector.on((e) => {
          if (e.type === 'connected' || e.type === 'refused' || e.type === 'disconnected') off(), resolve();
        });
      });
      detach = scenario?.attach?.(detector);
      boot();
      return settled;
    },
    async stop() {
      if (!running) return;
      running = false;
      wantOnline = false;
      disarm('reading', 'debug', 'reboot', 'reconnect');
      if (detach) detach();
      await hangUp();
    },
    stats: () => ({
      sn: o.sn, connected: detector.connected, intervalMs, seq, taken, buffered: buffer.length, calib, ...counts,
    }),
    dropConnection() {
      link?.drop();
    },
    goOffline() {
      wantOnline = false;
      disarm('reconnect');
      link?.drop();
    },
    goOnline() {
      if (!running || wantOnline) return;
      wantOnline = true;
      if (!link) connect();
    },
    publishRaw(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<PublishOutcome> {
      return link ? link.publish(topic, payload, qos) : Promise.resolve('failed');
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    log,
  };
  return detector;
}

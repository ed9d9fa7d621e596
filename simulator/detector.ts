// SIM-1: one detector speaking DEV-1..4 over MQTT 3.1.1, the way the field firmware does:
// username device_{sn}, clientId = sn, clean session, a retained Last Will on mcs/{sn}/status,
// a reading every interval on mcs/{sn}/up, commands on mcs/{sn}/cmd and mcs/broadcast/cmd.
// Readings taken while the connection is down are buffered and resent on reconnect with their
// original ts and seq (ING-4 makes the server drop the duplicates this may create).
// The detector is the composition of its pieces: what a reading is (reading-source.ts), when one
// is taken (reading-schedule.ts), the readings not yet acknowledged (outbox.ts), the connection
// kept up to the broker (connection.ts), what a command does (command-handler.ts), and the
// power cycle below: boot, reboot, start and stop.
import { systemClock, unixSeconds, type Clock } from './clock.ts';
import { createCommandHandler } from './command-handler.ts';
import { createConnection } from './connection.ts';
import { createOutbox } from './outbox.ts';
import { createReadingSchedule } from './reading-schedule.ts';
import { createReadingSource } from './reading-source.ts';
import { createRng, seedFrom, type Rng } from './rng.ts';
import { createTimer } from './timer.ts';
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

export function createDetector(o: DetectorOptions): Detector {
  const clock = o.clock ?? systemClock;
  const scenario = o.scenario;
  const listeners = new Set<(e: DetectorEvent) => void>(o.onEvent ? [o.onEvent] : []);
  const log = (line: string) => o.log?.(`${o.sn} ${line}`);
  const emit = (e: DetectorEvent) => listeners.forEach((l) => l(e));
  // SIM-2 skew: everything the device stamps uses its own (possibly wrong) clock.
  const deviceNow = () => clock.now() + (scenario?.clockOffsetMs ?? 0);
  let running = false;
  let detach: (() => void) | void = undefined;

  const source = createReadingSource({
    rng: o.rng ?? createRng(seedFrom(o.sn)), ver: o.ver ?? SIM_FIRMWARE_VERSION, scenario,
    baselineMv: o.baselineMv, calib: o.calib ?? { k: 1, b: 0, t_comp: 0 },
  });
  const schedule = createReadingSchedule({ clock, intervalMs: o.intervalMs, takeReading, log });
  const outbox = createOutbox({ currentLink: () => connection.link, qos: o.qos ?? 1, limit: o.bufferLimit ?? 5000, log });
  const connection = createConnection({
    sn: o.sn, url: o.url, keepaliveS: o.keepaliveS, reconnectDelayMs: o.reconnectDelayMs ?? 5000, clock, log, emit,
    password: () => (scenario?.password ? scenario.password(o.password) : o.password),
    nowS: () => unixSeconds(deviceNow()),
    // Readings taken while away go first, oldest first, in one burst (SIM-2 offline).
    onConnected: () => outbox.resendBacklog(),
    // Readings in flight may or may not have reached the broker: resend them (ING-4 dedupes).
    onLost: () => outbox.requeueInflight(),
    onCommand: createCommandHandler({
      log, emit,
      debug: (durationS) => schedule.debug(durationS),
      calibrate: (calib) => source.calibrate(calib),
      reboot: (delayS) => void reboot(delayS),
    }),
  });
  const rebootTimer = createTimer(clock);

  function takeReading() {
    const { reading, payload } = source.take(deviceNow());
    const direct = outbox.sendsDirectly();
    emit({ type: 'reading', reading, payload, buffered: !direct });
    if (direct) outbox.send(payload);
    else outbox.keep(payload);
  }

  /** Clean goodbye: retained offline status, then DISCONNECT (so no will is needed). */
  async function hangUp() {
    outbox.forgetInflight();
    await connection.hangUp();
  }

  async function reboot(delayS: number) {
    schedule.stop();
    connection.stayAway();
    schedule.forgetDebug();
    await hangUp();
    outbox.discard(); // RAM does not survive a reboot; calibration (flash) does.
    if (!running) return;
    rebootTimer.arm(boot, delayS * 1000);
  }

  function boot() {
    source.restartSeq();
    connection.open();
    schedule.start(o.phaseMs ?? 0);
  }

  const detector: Detector = {
    sn: o.sn,
    clock,
    get connected() {
      return connection.connected;
    },
    start() {
      if (running) return Promise.resolve();
      running = true;
      source.begin(deviceNow());
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
      connection.stayAway();
      schedule.stop();
      rebootTimer.disarm();
      if (detach) detach();
      await hangUp();
    },
    stats: () => ({
      sn: o.sn, connected: detector.connected, intervalMs: schedule.intervalMs, seq: source.seq, taken: source.taken,
      buffered: outbox.buffered, calib: source.calib, ...outbox.counts(), refused: connection.refused, connects: connection.connects,
    }),
    dropConnection() {
      connection.drop();
    },
    goOffline() {
      connection.stayAway();
      connection.drop();
    },
    goOnline() {
      if (!running) return;
      connection.goOnline();
    },
    publishRaw(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<PublishOutcome> {
      const link = connection.link;
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

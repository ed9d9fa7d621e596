// What one reading of a detector is (SIM-1, DEV-2): the sensor model stepped to the device's own
// time, sampled, stamped with that time (SIM-2 skew: the device's clock, right or wrong), the
// 16-bit seq and the DEV-4 battery error, then bent by the scenario (SIM-2) and encoded (JSON
// unless the scenario sends something else). It also holds what the detector remembers between
// readings: the seq, which restarts at 0 after a reboot (RAM), and the DEV-3 calibration, which
// survives one (flash). The shape context's `n` and `tS` count from the first start, not the boot.
import type { UpPayload } from '../appliance/contract/device-payload.ts';
import { unixSeconds } from './clock.ts';
import type { Rng } from './rng.ts';
import { batteryError, initialSensor, nextSeq, sampleSensor, stepSensor, toUpPayload } from './sensor.ts';
import type { Calibration, Scenario } from './types.ts';

export interface ReadingSourceOptions {
  rng: Rng;
  /** Firmware version sent in every reading. */
  ver: string;
  scenario?: Scenario;
  baselineMv?: number;
  /** Calibration held at start. */
  calib: Calibration;
}

export interface TakenReading {
  reading: UpPayload;
  /** The bytes that go on the wire. */
  payload: string | Buffer;
}

export interface ReadingSource {
  readonly seq: number;
  /** Readings taken since the detector was created (not reset by a reboot). */
  readonly taken: number;
  readonly calib: Calibration;
  /** The device time the detector started at. */
  begin(deviceNowMs: number): void;
  take(deviceNowMs: number): TakenReading;
  /** After a reboot the seq starts again at 0. */
  restartSeq(): void;
  /** DEV-3 calib: kept until the next one. */
  calibrate(calib: Calibration): void;
}

export function createReadingSource(o: ReadingSourceOptions): ReadingSource {
  const { rng, scenario } = o;
  let sensor = initialSensor(rng, { baselineMv: o.baselineMv });
  let calib = o.calib;
  let seq = 0;
  let taken = 0;
  let startedMs = 0;
  let lastStepMs = 0;

  return {
    get seq() {
      return seq;
    },
    get taken() {
      return taken;
    },
    get calib() {
      return calib;
    },
    begin(deviceNowMs) {
      startedMs = lastStepMs = deviceNowMs;
    },
    take(nowMs) {
      sensor = stepSensor(sensor, rng, (nowMs - lastStepMs) / 1000, nowMs / 1000);
      lastStepMs = nowMs;
      const ctx = { n: taken++, tS: (nowMs - startedMs) / 1000, rng, calib };
      let reading = toUpPayload(sampleSensor(sensor, rng), unixSeconds(nowMs), seq, o.ver, batteryError(sensor.bat));
      seq = nextSeq(seq);
      if (scenario?.shape) reading = scenario.shape(reading, ctx);
      const payload = scenario?.encode ? scenario.encode(reading, ctx) : JSON.stringify(reading);
      return { reading, payload };
    },
    restartSeq() {
      seq = 0;
    },
    calibrate(next) {
      calib = next;
    },
  };
}

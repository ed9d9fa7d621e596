// The ingest pipeline's pure steps: ING-1 decode/validate, ING-2 calibrate, ING-4 sequence,
// ING-5 clock skew and the reading key time.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibrate,
  decodeUpPayload,
  readingKeyTime,
  trackClock,
  trackSequence,
  type ClockState,
  type SequenceState,
} from '../../appliance/ingest/steps.ts';
import { MAX_UP_PAYLOAD_BYTES } from '../../appliance/contract/device-payload.ts';
import type { Calibration } from '../../appliance/storage/devices.ts';

const SEED_CALIB: Calibration = { k: 1.5, b: -10, t_ref: 25, t_comp: 0.1 };

describe('calibrate (ING-2)', () => {
  test("the seed's worked example gives 3516.1 ppm and is not overrange", () => {
    assert.deepEqual(calibrate(2350.5, 28.5, SEED_CALIB, 50_000), { ppm: 3516.1, overrange: false });
  });

  test('temperature below t_ref lowers the value by t_comp per degree', () => {
    // 1.5·1000 − 10 + 0.1·(15 − 25) = 1489
    assert.deepEqual(calibrate(1000, 15, SEED_CALIB, 50_000), { ppm: 1489, overrange: false });
  });

  test('a negative result is clamped to 0 and is not overrange', () => {
    assert.deepEqual(calibrate(2, 25, SEED_CALIB, 50_000), { ppm: 0, overrange: false });
  });

  test('a result above range_max is clamped to range_max and flagged overrange', () => {
    assert.deepEqual(calibrate(2350.5, 28.5, SEED_CALIB, 1000), { ppm: 1000, overrange: true });
  });

  test('a result exactly at range_max is not overrange', () => {
    const calib: Calibration = { k: 1, b: 0, t_ref: 25, t_comp: 0 };
    assert.deepEqual(calibrate(1000, 25, calib, 1000), { ppm: 1000, overrange: false });
  });
});

const VALID = { ts: 1_767_225_600, seq: 7, v_raw: 2350.5, temp: 28.5, humi: 55, bat: 87, rssi: -71, net: '4G', ver: '1.2.0', err: 0 };
const json = (value: unknown) => JSON.stringify(value);
const without = (key: keyof typeof VALID) => {
  const copy: Record<string, unknown> = { ...VALID };
  delete copy[key];
  return copy;
};

function reasonOf(payload: Buffer | string): string {
  const result = decodeUpPayload(payload);
  if (result.ok) assert.fail(`expected a drop, got ${JSON.stringify(result.value)}`);
  return result.reason;
}

describe('decodeUpPayload (ING-1)', () => {
  test('a valid DEV-2 payload is decoded with all its fields', () => {
    const result = decodeUpPayload(Buffer.from(json(VALID)));
    assert.ok(result.ok);
    assert.deepEqual(result.value, VALID);
  });

  test('humi, net and ver are optional', () => {
    const minimal = { ts: 1_767_225_600, seq: 0, v_raw: 0, temp: 20, bat: 50, rssi: -90, err: 0 };
    assert.ok(decodeUpPayload(json(minimal)).ok);
  });

  test('unknown extra fields from newer firmware are accepted', () => {
    const result = decodeUpPayload(json({ ...VALID, fw_build: 'abc', extra: { nested: true } }));
    assert.ok(result.ok);
  });

  test(`a payload of exactly ${MAX_UP_PAYLOAD_BYTES} bytes is accepted`, () => {
    const base = json({ ...VALID, pad: '' });
    const payload = json({ ...VALID, pad: 'x'.repeat(MAX_UP_PAYLOAD_BYTES - Buffer.byteLength(base)) });
    assert.equal(Buffer.byteLength(payload), MAX_UP_PAYLOAD_BYTES);
    assert.ok(decodeUpPayload(Buffer.from(payload)).ok);
  });

  test(`a payload over ${MAX_UP_PAYLOAD_BYTES} bytes is dropped as too_large before parsing`, () => {
    const base = json({ ...VALID, pad: '' });
    const payload = json({ ...VALID, pad: 'x'.repeat(MAX_UP_PAYLOAD_BYTES + 1 - Buffer.byteLength(base)) });
    assert.equal(Buffer.byteLength(payload), MAX_UP_PAYLOAD_BYTES + 1);
    assert.equal(reasonOf(Buffer.from(payload)), 'too_large');
    // multi-byte characters count as bytes, not characters
    assert.equal(reasonOf('"' + 'é'.repeat(2100) + '"'), 'too_large');
  });

  test('invalid JSON is dropped as bad_json', () => {
    assert.equal(reasonOf('{bad'), 'bad_json');
    assert.equal(reasonOf(Buffer.from([0xff, 0xfe, 0x00])), 'bad_json');
    assert.equal(reasonOf(''), 'bad_json');
  });

  test('JSON that is not an object is dropped as not_object', () => {
    assert.equal(reasonOf('[1]'), 'not_object');
    assert.equal(reasonOf('42'), 'not_object');
    assert.equal(reasonOf('null'), 'not_object');
    assert.equal(reasonOf('"text"'), 'not_object');
  });

  test('a missing required field is dropped as missing_field', () => {
    assert.equal(reasonOf(json(without('v_raw'))), 'missing_field');
    assert.equal(reasonOf(json(without('ts'))), 'missing_field');
    assert.equal(reasonOf(json(without('err'))), 'missing_field');
  });

  test('a field of the wrong type is dropped as wrong_type', () => {
    assert.equal(reasonOf(json({ ...VALID, v_raw: 'abc' })), 'wrong_type');
    assert.equal(reasonOf(json({ ...VALID, seq: 1.5 })), 'wrong_type');
    assert.equal(reasonOf(json({ ...VALID, temp: null })), 'wrong_type');
  });

  test('a number that JSON.parse turns into Infinity is rejected', () => {
    const payload = json(VALID).replace('"v_raw":2350.5', '"v_raw":1e400');
    assert.ok(payload.includes('1e400'));
    assert.equal(JSON.parse(payload).v_raw, Infinity);
    const result = decodeUpPayload(payload);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && ['wrong_type', 'out_of_range'].includes(result.reason), JSON.stringify(result));
  });

  test('a value outside its range is dropped as out_of_range', () => {
    assert.equal(reasonOf(json({ ...VALID, bat: 150 })), 'out_of_range');
    assert.equal(reasonOf(json({ ...VALID, seq: 65_536 })), 'out_of_range');
    assert.equal(reasonOf(json({ ...VALID, rssi: 5 })), 'out_of_range');
    assert.equal(reasonOf(json({ ...VALID, ts: -1 })), 'out_of_range');
  });

  test('a drop says which field was wrong', () => {
    const result = decodeUpPayload(json({ ...VALID, bat: 150 }));
    assert.ok(!result.ok);
    assert.match(result.detail ?? '', /bat/);
  });
});

describe('trackSequence (ING-4)', () => {
  const fresh = (): SequenceState => ({ lastSeq: null, gaps: 0 });
  const after = (seq: number): SequenceState => ({ lastSeq: seq, gaps: 0 });

  test('the first reading of a device is next', () => {
    const state = fresh();
    assert.equal(trackSequence(state, 1234), 'next');
    assert.deepEqual(state, { lastSeq: 1234, gaps: 0 });
  });

  test('the following number is next and counts no gap', () => {
    const state = after(5);
    assert.equal(trackSequence(state, 6), 'next');
    assert.deepEqual(state, { lastSeq: 6, gaps: 0 });
  });

  test('a forward jump is a gap counting each skipped number', () => {
    const state = after(5);
    assert.equal(trackSequence(state, 9), 'gap');
    assert.deepEqual(state, { lastSeq: 9, gaps: 3 });
    assert.equal(trackSequence(state, 11), 'gap');
    assert.deepEqual(state, { lastSeq: 11, gaps: 4 });
  });

  test('65535 then 0 is the wrap, not a gap or a restart', () => {
    const state = after(65_535);
    assert.equal(trackSequence(state, 0), 'next');
    assert.deepEqual(state, { lastSeq: 0, gaps: 0 });
  });

  test('a gap across the wrap counts the skipped numbers', () => {
    const state = after(65_534);
    assert.equal(trackSequence(state, 1), 'gap');
    assert.deepEqual(state, { lastSeq: 1, gaps: 2 });
  });

  test('an older number (a resend) is old and leaves the position and gap count alone', () => {
    const state: SequenceState = { lastSeq: 100, gaps: 4 };
    assert.equal(trackSequence(state, 95), 'old');
    assert.deepEqual(state, { lastSeq: 100, gaps: 4 });
  });

  test('the same number again is same', () => {
    const state = after(100);
    assert.equal(trackSequence(state, 100), 'same');
    assert.deepEqual(state, { lastSeq: 100, gaps: 0 });
  });

  test('0 after a backward jump is a restart and the count continues from 0', () => {
    const state = after(500);
    assert.equal(trackSequence(state, 0), 'restart');
    assert.deepEqual(state, { lastSeq: 0, gaps: 0 });
    assert.equal(trackSequence(state, 1), 'next');
  });

  test('0 from a device that restarted at a high sequence number is a restart, not thousands of lost readings', () => {
    // A device rebooting at seq 40000 starts again at 0: numerically a forward jump of 25536.
    const state = after(40_000);
    assert.equal(trackSequence(state, 0), 'restart');
    assert.deepEqual(state, { lastSeq: 0, gaps: 0 });
  });
});

describe('trackClock (ING-5)', () => {
  const LIMIT = 300_000;
  const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
  const fresh = (): ClockState => ({ offsetMs: null, anchorReceivedAt: 0, anchorDeviceMs: 0 });

  /** Live readings every 10 s; the device clock is `behindMs` behind and delivery takes ~120 ms. */
  function live(state: ClockState, from: number, count: number, behindMs: number): boolean[] {
    const flags: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const receivedAt = from + i * 10_000 + 120 + (i % 3) * 40;
      const deviceMs = Math.floor((from + i * 10_000 - behindMs) / 1000) * 1000;
      flags.push(trackClock(state, deviceMs, receivedAt, LIMIT));
    }
    return flags;
  }

  test('a device whose clock is in sync is never skewed', () => {
    const state = fresh();
    assert.deepEqual(live(state, T0, 10, 0), Array(10).fill(false));
    assert.ok(Math.abs(state.offsetMs!) < 2_000);
  });

  test('a device 4 minutes behind (inside the 5 minute limit) is not skewed', () => {
    assert.deepEqual(live(fresh(), T0, 5, 240_000), Array(5).fill(false));
  });

  test('a device one hour behind is skewed once 30 s of live readings show it', () => {
    const flags = live(fresh(), T0, 8, 3_600_000);
    assert.deepEqual(flags.slice(0, 3), [false, false, false], 'not judged before a 30 s baseline');
    assert.deepEqual(flags.slice(4), [true, true, true, true]);
  });

  test('a backlog of debug-mode readings (1 s apart) is not taken for a skewed clock', () => {
    const state = fresh();
    live(state, T0, 6, 0);
    const reconnect = T0 + 600_000;
    const flags: boolean[] = [];
    for (let i = 0; i < 500; i++) flags.push(trackClock(state, T0 + 60_000 + i * 1000, reconnect + i * 2, LIMIT));
    assert.equal(flags.filter(Boolean).length, 0);
  });

  test('a device more than the limit in the future is skewed at once', () => {
    const state = fresh();
    assert.equal(trackClock(state, T0 + LIMIT + 60_000, T0, LIMIT), true);
    assert.equal(trackClock(state, T0 + LIMIT + 70_000, T0 + 10_000, LIMIT), true);
  });

  /** Readings buffered while offline: device times 10 s apart, all received within milliseconds. */
  function burst(state: ClockState, firstDeviceMs: number, count: number, receivedFrom: number): boolean[] {
    const flags: boolean[] = [];
    for (let i = 0; i < count; i++) {
      flags.push(trackClock(state, firstDeviceMs + i * 10_000, receivedFrom + i * 3, LIMIT));
    }
    return flags;
  }

  test('a burst of readings buffered while offline by a device with a good clock is not skewed', () => {
    const state = fresh();
    assert.deepEqual(live(state, T0, 6, 0), Array(6).fill(false));
    const lastLive = T0 + 50_000;
    // One hour offline: 360 buffered readings arrive within about a second after reconnecting.
    const reconnect = lastLive + 3_600_000;
    const flags = burst(state, lastLive + 10_000, 360, reconnect);
    assert.equal(flags.filter(Boolean).length, 0, `${flags.filter(Boolean).length} burst readings flagged skewed`);
    // Live again afterwards, still in sync.
    assert.deepEqual(live(state, reconnect + 10_000, 3, 0), [false, false, false]);
  });

  test('a backlog burst received first after an appliance restart is not flagged skewed', () => {
    // The appliance itself was down for an hour; its in-memory clock state is fresh when the
    // detector reconnects and sends what it buffered (device times 10 s apart, received ms apart).
    const state = fresh();
    const reconnect = T0 + 3_600_000;
    const flags = burst(state, T0, 360, reconnect);
    assert.equal(flags.filter(Boolean).length, 0, `${flags.filter(Boolean).length} of 360 burst readings flagged skewed`);
    assert.deepEqual(live(state, reconnect + 10_000, 3, 0), [false, false, false]);
  });
});

describe('readingKeyTime (STO-1, ING-4, ING-5)', () => {
  const TS = 1_767_225_600;

  test('the same (ts, seq) gives the same key, so a resend is stored once', () => {
    const a = readingKeyTime(TS, 4711, false, TS * 1000 + 300, 0);
    const b = readingKeyTime(TS, 4711, false, TS * 1000 + 90_000, 0);
    assert.equal(a, b);
  });

  test('the key is device time in ms with seq mod 1000 in the sub-second part', () => {
    assert.equal(readingKeyTime(TS, 4711, false, 0, 0), TS * 1000 + 711);
  });

  test('two readings in the same second with different seq get different keys in that second', () => {
    const a = readingKeyTime(TS, 10, false, 0, 0);
    const b = readingKeyTime(TS, 11, false, 0, 0);
    assert.notEqual(a, b);
    assert.equal(Math.floor(a / 1000), TS);
    assert.equal(Math.floor(b / 1000), TS);
  });

  test('a skewed reading is keyed by server receive time', () => {
    const receivedAt = Date.UTC(2026, 0, 1, 9, 0, 0, 123);
    assert.equal(readingKeyTime(TS, 7, true, receivedAt, 0), receivedAt);
  });

  test('skewed keys are strictly increasing per device even when received in the same ms', () => {
    const receivedAt = Date.UTC(2026, 0, 1, 9, 0, 0);
    let last = 0;
    const keys: number[] = [];
    for (const [i, at] of [receivedAt, receivedAt, receivedAt, receivedAt - 5, receivedAt + 1].entries()) {
      last = readingKeyTime(TS, i, true, at, last);
      keys.push(last);
    }
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i] > keys[i - 1], `keys not increasing: ${keys.join(', ')}`);
    assert.equal(keys[0], receivedAt);
  });
});

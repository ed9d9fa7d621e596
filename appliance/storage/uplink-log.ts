// Issue 17 (SYNC-1): the uplink's batch log. The writer thread appends, in the transaction that
// stores a batch, one uplink_batches row holding the (sn_id, ts) keys of the readings it stored —
// only while a target exists (uplink_cursors has a row), so a box without sync pays nothing. The
// keys are varints (sn_id, ts − ts_min): 3–5 bytes a reading instead of a second copy of it.
// The varint coding is written here (a few lines) because the format is the product's own.
import type { Db } from './db.ts';

export interface ReadingKey {
  snId: number;
  ts: number;
}

function writeVarint(out: number[], value: number) {
  // Arithmetic, not bit operations: ts offsets may pass 2^31.
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

export function encodeKeys(snIds: ArrayLike<number>, tss: ArrayLike<number>, count: number, tsMin: number): Buffer {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    writeVarint(out, snIds[i]);
    writeVarint(out, tss[i] - tsMin);
  }
  return Buffer.from(out);
}

export function decodeKeys(blob: Uint8Array, tsMin: number): ReadingKey[] {
  const keys: ReadingKey[] = [];
  let i = 0;
  const read = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = blob[i++];
      if (byte === undefined) throw new Error('uplink batch keys are truncated');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  while (i < blob.length) {
    const snId = read();
    keys.push({ snId, ts: tsMin + read() });
  }
  return keys;
}

/** The writer's side: collects a batch's stored keys, and appends them with the batch. */
export function createUplinkLog(db: Db) {
  const anyTarget = db.prepare('SELECT EXISTS (SELECT 1 FROM uplink_cursors)').pluck();
  const append = db.prepare<[number, number, number, number, Buffer]>('INSERT INTO uplink_batches (at, n, ts_min, ts_max, keys) VALUES (?, ?, ?, ?, ?)');
  const addDeviceEvent = db.prepare<[string, string, number]>('INSERT INTO uplink_device_events (sn, event, at) VALUES (?, ?, ?)');
  let snIds = new Float64Array(1024);
  let tss = new Float64Array(1024);
  let count = 0;
  let on = false;
  let at = 0;
  let tsMin = Infinity;
  let tsMax = -Infinity;

  return {
    /** At the start of a batch's transaction: whether any target wants it (one indexed read). */
    begin() {
      on = anyTarget.get() === 1;
      count = 0;
      at = 0;
      tsMin = Infinity;
      tsMax = -Infinity;
    },
    /** A reading the batch stored, with the key it was stored under and its receive time. */
    stored(snId: number, ts: number, received: number) {
      if (!on) return;
      if (count === snIds.length) {
        const grow = (from: Float64Array) => {
          const to = new Float64Array(from.length * 2);
          to.set(from);
          return to;
        };
        snIds = grow(snIds);
        tss = grow(tss);
      }
      snIds[count] = snId;
      tss[count] = ts;
      count++;
      if (received > at) at = received;
      if (ts < tsMin) tsMin = ts;
      if (ts > tsMax) tsMax = ts;
    },
    /** A device went online or offline in this transaction (SYNC-2: the device-state lane). */
    deviceStatus(sn: string, status: 'online' | 'offline', when: number) {
      if (on) addDeviceEvent.run(sn, status, when);
    },
    /** Before the batch's transaction commits: its row, when it stored readings. */
    end() {
      if (on && count > 0) append.run(at, count, tsMin, tsMax, encodeKeys(snIds, tss, count, tsMin));
      count = 0;
    },
  };
}
export type UplinkLog = ReturnType<typeof createUplinkLog>;

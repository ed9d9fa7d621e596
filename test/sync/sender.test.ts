// Issue 17 (SYNC-1..3): the uplink's queue and sender over a real SQLite file and the real writer
// core, with a transport in memory that acknowledges, refuses or holds frames — so the cursor
// rules are checked exactly: the batch log is written only while a target exists, lanes go in
// priority order, a failure resends from the cursor, a restart resends only the unacknowledged
// tail, live values go before the backlog, and readings past the limit go as aggregates or a gap.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALARM_COMMIT_SETTINGS } from '../../appliance/contract/alarm.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createWriterCore, type WriterCore } from '../../appliance/storage/writer-core.ts';
import { decodeKeys, encodeKeys } from '../../appliance/storage/uplink-log.ts';
import { createUplinkQueue } from '../../appliance/sync/queue.ts';
import { createSender, type Sender } from '../../appliance/sync/sender.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import type { TransportState, UplinkFrame, UplinkRecord, UplinkTarget, UplinkTransport } from '../../appliance/contract/uplink.ts';
import { MqttTargetSchema } from '../../appliance/contract/uplink.ts';
import { Value } from '@sinclair/typebox/value';
import { packRows } from '../alarms/support.ts';
import { tempDir } from '../helpers/appliance.ts';

const T0 = Date.UTC(2026, 0, 1, 8);
const SECOND = 1000;

/** A transport in memory: frames wait in `pending` until the test acknowledges or fails them (or auto-acks). */
function memoryTransport() {
  const pending: { frame: UplinkFrame; ok: (bytes: number) => void; fail: (err: Error) => void }[] = [];
  const received: UplinkFrame[] = [];
  let state: TransportState = { connected: true, lastError: null };
  let stateHandler: (s: TransportState) => void = () => {};
  let auto = true;
  const transport: UplinkTransport = {
    start() {},
    state: () => state,
    send(frame) {
      return new Promise((ok, fail) => {
        const entry = { frame, ok, fail };
        if (auto) {
          received.push(frame);
          queueMicrotask(() => ok(JSON.stringify(frame.records).length));
        } else pending.push(entry);
      });
    },
    onCommand() {},
    onState(handler) {
      stateHandler = handler;
    },
    test: async () => 'ok',
    close: async () => {},
  };
  return {
    transport,
    received,
    pending,
    hold: () => (auto = false),
    release: () => (auto = true),
    ackAll() {
      for (const entry of pending.splice(0)) {
        received.push(entry.frame);
        entry.ok(100);
      }
    },
    failAll() {
      for (const entry of pending.splice(0)) entry.fail(new Error('link cut'));
    },
    setConnected(connected: boolean) {
      state = { connected, lastError: connected ? null : 'cut' };
      stateHandler(state);
    },
  };
}

let temp: ReturnType<typeof tempDir>;
let db: Db;
let core: WriterCore;
let clock: ReturnType<typeof manualClock>;
let seq = 0;

const target = (over: Partial<UplinkTarget> = {}) =>
  ({ ...(Value.Default(MqttTargetSchema, { id: "cloud", kind: "mqtt", url: "mqtt://127.0.0.1:1" }) as object), ...over }) as UplinkTarget;

function write(sns: string[], ppm = 10, at = clock.now()) {
  const repo = createDeviceRepository(db);
  const rows = sns.map((sn) => ({ snId: repo.get(sn)!.sn_id, ts: at, seq: ++seq, ppm, high: 1000, high2: 2000 }));
  core.writeBatch(packRows(rows), rows.length, []);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const records = (frames: UplinkFrame[]): UplinkRecord[] => frames.flatMap((f) => f.records);
const readingIds = (frames: UplinkFrame[]) => records(frames).filter((r) => r.kind === 'reading').map((r) => r.id);

function makeSender(transport: UplinkTransport, over: Partial<UplinkTarget> = {}): Sender {
  const queue = createUplinkQueue(db, { boxId: () => 'B1', clockUnsyncedAt: () => false });
  return createSender({ target: target(over), queue, transport, clock, log: silentLogger() });
}

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  const devices = createDeviceRepository(db);
  for (const sn of ['GAS-1', 'GAS-2', 'GAS-3']) devices.insert(sn, { ...DEFAULT_SETTINGS, high_limit: 1000, high2_limit: 2000, low_limit: null }, null, 0);
  clock = manualClock(T0);
  core = createWriterCore(db, { alarmSettings: DEFAULT_ALARM_COMMIT_SETTINGS });
});
afterEach(() => {
  db.close();
  temp.remove();
});

describe('the batch log (SYNC-1)', () => {
  test('keys survive the varint packing, including offsets past 2^31', () => {
    const snIds = [1, 300, 70000];
    const tss = [T0, T0 + 5, T0 + 3_000_000_000];
    assert.deepEqual(decodeKeys(encodeKeys(snIds, tss, 3, T0), T0), snIds.map((snId, i) => ({ snId, ts: tss[i] })));
  });

  test('no target: the writer logs nothing; with one, one row per batch holding the stored keys', () => {
    write(['GAS-1', 'GAS-2']);
    assert.equal(db.prepare('SELECT count(*) FROM uplink_batches').pluck().get(), 0);
    createUplinkQueue(db, { boxId: () => 'B1', clockUnsyncedAt: () => false }).ensureCursor('cloud', clock.now(), false);
    clock.advance(SECOND);
    write(['GAS-1', 'GAS-2']);
    write(['GAS-1']); // a duplicate of nothing new: stored (new ts) once
    const rows = db.prepare('SELECT n, keys, ts_min FROM uplink_batches ORDER BY id').all() as { n: number; keys: Buffer; ts_min: number }[];
    assert.deepEqual(rows.map((r) => r.n), [2, 1]);
    assert.equal(decodeKeys(rows[0].keys, rows[0].ts_min).length, 2);
  });

  test('readings deleted (archived) before they were sent go as aggregates or a gap, the others as readings', async () => {
    const link = memoryTransport();
    const sender = makeSender(link.transport);
    sender.start();
    await settle();
    link.setConnected(false);
    clock.advance(SECOND);
    write(['GAS-1', 'GAS-2', 'GAS-3']);
    db.prepare("DELETE FROM readings WHERE sn_id = (SELECT id FROM serials WHERE sn = 'GAS-2')").run();
    link.setConnected(true);
    sender.reconnected();
    await settle();
    const at = T0 + SECOND;
    assert.deepEqual(readingIds(link.received).sort(), [`B1:rGAS-1:${at}`, `B1:rGAS-3:${at}`]);
    assert.ok(records(link.received).some((r) => (r.kind === 'aggregate' || r.kind === 'gap') && r.sn === 'GAS-2'), 'the deleted reading is accounted for');
    await sender.stop();
  });
});

describe('the sender (SYNC-1, SYNC-2)', () => {
  test('alarms go before telemetry, each record once, the cursor saved after acknowledgement', async () => {
    const link = memoryTransport();
    const sender = makeSender(link.transport);
    link.hold();
    sender.start();
    write(['GAS-1', 'GAS-2'], 10);
    clock.advance(SECOND);
    write(['GAS-3'], 1500); // raises a level-1 alarm (journal: raised)
    sender.wake();
    await settle();
    assert.equal(link.pending[0].frame.kind, 'alarm', 'the alarm lane goes first');
    link.ackAll();
    link.release();
    await settle();
    sender.wake();
    await settle();
    const all = records(link.received);
    assert.equal(all.filter((r) => r.kind === 'reading').length, 3);
    assert.equal(new Set(all.map((r) => r.id)).size, all.length, 'no record twice');
    const alarm = all.find((r) => r.kind === 'alarm')!;
    assert.equal(alarm.kind === 'alarm' && alarm.event, 'raised');
    assert.equal(alarm.kind === 'alarm' && alarm.sn, 'GAS-3');
    await sender.stop();
    const saved = db.prepare('SELECT * FROM uplink_cursors').get() as { journal_id: number; batch_id: number };
    assert.equal(saved.batch_id, 2);
    assert.ok(saved.journal_id >= 1);
  });

  test('a failed send is sent again from the cursor; a restart resends only the unacknowledged tail', async () => {
    const link = memoryTransport();
    let sender = makeSender(link.transport);
    sender.start();
    write(['GAS-1']);
    sender.wake();
    await settle();
    assert.equal(readingIds(link.received).length, 1);
    link.hold();
    clock.advance(SECOND);
    write(['GAS-2']);
    sender.wake();
    await settle();
    link.failAll(); // the link was cut before the PUBACK
    await settle();
    clock.advance(60 * SECOND); // past the retry backoff
    link.release();
    sender.wake();
    await settle();
    assert.equal(readingIds(link.received).length, 2, 'the refused frame was sent again');
    // A third reading is sent but never acknowledged before the "power cut".
    link.hold();
    clock.advance(SECOND);
    write(['GAS-3']);
    sender.wake();
    await settle();
    await sender.stop();
    const second = memoryTransport();
    sender = makeSender(second.transport);
    sender.start();
    await settle();
    assert.deepEqual(readingIds(second.received), [`B1:rGAS-3:${T0 + 62 * SECOND}`], 'only the unacknowledged tail');
    await sender.stop();
  });

  test('after an outage live values go at once, the backlog drains beside them as historical, oldest first', async () => {
    const link = memoryTransport();
    const sender = makeSender(link.transport);
    sender.start();
    await settle();
    link.setConnected(false);
    for (let i = 0; i < 400; i++) {
      clock.advance(10 * SECOND);
      write(['GAS-1', 'GAS-2', 'GAS-3']); // 1,200 readings: three frames
    }
    clock.advance(SECOND);
    link.hold();
    link.setConnected(true);
    sender.reconnected();
    await settle();
    assert.ok(link.pending.length >= 2 && link.pending.every((p) => p.frame.historical), 'the backlog is being sent, historical');
    const lanes = Object.fromEntries(sender.status().lanes.map((l) => [l.lane, l.depth]));
    assert.deepEqual([lanes.backfill, lanes.live], [1200, 0], 'the page shows the backlog in the backfill lane');
    clock.advance(SECOND);
    write(['GAS-1'], 42); // the first live value after the link came back
    sender.wake();
    await settle();
    const live = link.pending.find((p) => !p.frame.historical);
    assert.ok(live, 'the live value is sent while the backlog is still unacknowledged');
    assert.equal(live.frame.records.length, 1);
    link.release();
    for (let i = 0; i < 20; i++) {
      link.ackAll();
      sender.wake();
      await settle();
    }
    const backlog = link.received.filter((f) => f.kind === 'reading' && f.historical).flatMap((f) => f.records);
    assert.equal(backlog.length, 1200, 'every reading of the outage');
    const times = backlog.map((r) => (r.kind === 'reading' ? r.ts : 0));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    assert.equal(new Set(backlog.map((r) => r.id)).size, 1200);
    assert.equal(sender.status().backlog, 0, 'nothing owed once drained');
    await sender.stop();
    const saved = db.prepare('SELECT live_from FROM uplink_cursors').get() as { live_from: number | null };
    assert.equal(saved.live_from, null, 'one lane again once the backlog is drained');
  });
});

describe('a bounded backlog (SYNC-3)', () => {
  test('past the age limit readings go as 1-minute aggregates; with no roll-up left, as a gap record', async () => {
    const link = memoryTransport();
    const sender = makeSender(link.transport, { backlog_max_hours: 1 });
    sender.start();
    await settle();
    link.setConnected(false);
    for (let i = 0; i < 12; i++) {
      clock.advance(10 * SECOND);
      write(['GAS-1'], 100 + i);
    }
    core.store.rollup(clock.now() + 5 * 60 * SECOND); // the first two minutes have roll-ups
    db.prepare('DELETE FROM readings_1m WHERE ts >= ?').run(T0 + 60 * SECOND); // the second minute's roll-up is gone
    clock.advance(2 * 3600 * SECOND); // the backlog is now older than its limit
    link.setConnected(true);
    sender.reconnected();
    for (let i = 0; i < 10; i++) {
      sender.wake();
      await settle();
    }
    const all = records(link.received);
    assert.equal(all.filter((r) => r.kind === 'reading').length, 0, 'no raw reading past the limit');
    const aggregate = all.find((r) => r.kind === 'aggregate');
    assert.ok(aggregate && aggregate.kind === 'aggregate');
    assert.equal(aggregate.ts, T0);
    assert.equal(aggregate.n, 5); // readings at 10..50 s of the first minute
    assert.equal(aggregate.min, 100);
    assert.equal(aggregate.max, 104);
    assert.ok(all.some((r) => r.kind === 'gap' && r.sn === 'GAS-1'), 'a gap record where no roll-up was left');
    assert.ok(sender.status().downsampled >= 12);
    await sender.stop();
  });
});

describe('budgets and aggregates (SYNC-2)', () => {
  test('the rate budget paces telemetry; alarms are never held back', async () => {
    const link = memoryTransport();
    const sender = makeSender(link.transport, { max_records_per_s: 100 });
    sender.start();
    await settle();
    for (let i = 0; i < 100; i++) {
      clock.advance(1);
      write(['GAS-1', 'GAS-2', 'GAS-3']); // 300 readings
    }
    write(['GAS-1'], 1500); // an alarm while telemetry waits for its budget
    const sentBy: number[] = [];
    for (let t = 0; t < 5; t++) {
      sender.wake();
      await settle();
      sentBy.push(readingIds(link.received).length);
      clock.advance(100); // a tenth of a second: ten more readings allowed
    }
    assert.ok(records(link.received).some((r) => r.kind === 'alarm'), 'the alarm went at once');
    // Ten readings a tenth of a second (the writes took 0.1 s): 60 at most after 0.6 s, and steadily.
    assert.ok(sentBy.at(-1)! <= 62 && sentBy.at(-1)! >= 40, `paced: ${sentBy.join(', ')} readings`);
    assert.ok(sentBy.every((n, i) => i === 0 || n > sentBy[i - 1]), `steadily: ${sentBy.join(', ')}`);
    await sender.stop();
  });

  test('the byte budget of the day stops telemetry, not alarms', async () => {
    const link = memoryTransport();
    const sender = makeSender(link.transport, { max_bytes_per_day: 1 });
    sender.start();
    write(['GAS-1']);
    sender.wake();
    await settle();
    assert.equal(readingIds(link.received).length, 1, 'the first frame uses the budget');
    clock.advance(SECOND);
    write(['GAS-2']);
    write(['GAS-3'], 1500);
    for (let i = 0; i < 3; i++) {
      sender.wake();
      await settle();
    }
    assert.equal(readingIds(link.received).length, 1, 'no more telemetry today');
    assert.ok(records(link.received).some((r) => r.kind === 'alarm'), 'the alarm still went');
    await sender.stop();
  });

  test('telemetry as 1-minute aggregates from the roll-ups: min, max, avg and last of each final minute', async () => {
    const link = memoryTransport();
    createUplinkQueue(db, { boxId: () => 'B1', clockUnsyncedAt: () => false }); // (the cursor is made by the sender)
    clock.set(T0 + 5 * SECOND);
    const sender = makeSender(link.transport, { telemetry: 'aggregate' });
    sender.start();
    for (const ppm of [10, 30, 20]) {
      clock.advance(10 * SECOND);
      write(['GAS-1'], ppm);
    }
    clock.advance(3 * 60 * SECOND);
    core.store.rollup(clock.now());
    sender.wake();
    await settle();
    const aggregates = records(link.received).filter((r) => r.kind === 'aggregate');
    assert.equal(readingIds(link.received).length, 0, 'no raw reading');
    const minute = aggregates.find((a) => a.kind === 'aggregate' && a.sn === 'GAS-1');
    assert.ok(minute && minute.kind === 'aggregate');
    assert.deepEqual([minute.n, minute.min, minute.max, minute.avg, minute.last], [3, 10, 30, 20, 20]);
    assert.equal(minute.id, `B1:aGAS-1:${minute.ts}`);
    await sender.stop();
  });
});

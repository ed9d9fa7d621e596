// ING-1…ING-7 through ingest/pipeline.ts on its own, without the broker: the devices from a real
// SQLite device table (through the cache), real presence and bus, a manual clock, and a writer the
// test commits by hand (it keys rows by (sn_id, ts) as the readings table does, STO-1), so the
// order "commit, then PUBACK" (ING-6) is visible. One test uses the real group-commit writer
// thread for "a resend is stored once" (ING-4).
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createBus, type DeviceStatusEvent, type ReadingEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { MAX_UP_PAYLOAD_BYTES } from '../../appliance/contract/device-payload.ts';
import { createDeviceCache } from '../../appliance/devices/cache.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { createIngest, type PublishDone } from '../../appliance/ingest/pipeline.ts';
import { createPresence } from '../../appliance/ingest/presence.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository, type DeviceSettings } from '../../appliance/storage/devices.ts';
import { createGroupCommitWriter, QUEUE_FULL, type CommitCallback, type GroupCommitWriter } from '../../appliance/storage/group-commit.ts';
import * as R from '../../appliance/storage/reading-row.ts';
import type { WriterUpdate } from '../../appliance/storage/reading-store.ts';
import { tempDir } from '../helpers/appliance.ts';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const SKEW_LIMIT_MS = 60_000;

/** A writer whose commits the test performs: rows are unpacked, keyed like the readings table. */
function handCommittedWriter() {
  const keys = new Set<string>();
  const queued: { row: Float64Array; callback: CommitCallback }[] = [];
  const rows: Float64Array[] = [];
  const updates: WriterUpdate[] = [];
  const writer = {
    enqueue(fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback) {
      const row = new Float64Array(R.ROW_FIELDS);
      fill(row, 0);
      queued.push({ row, callback });
    },
    enqueueUpdate(update: WriterUpdate) {
      updates.push(update);
    },
  };
  return {
    writer: writer as unknown as GroupCommitWriter,
    queued,
    rows,
    updates,
    /** Commits every queued reading (or fails them all with `error`), calling their callbacks in order. */
    commit(error: Error | null = null) {
      for (const { row, callback } of queued.splice(0)) {
        if (error) {
          callback(error, false);
          continue;
        }
        const key = `${row[R.F_SN_ID]}:${row[R.F_TS]}`;
        const inserted = !keys.has(key);
        keys.add(key);
        if (inserted) rows.push(row);
        callback(null, inserted);
      }
    },
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function deviceTable() {
  const temp = tempDir();
  const db: Db = openDb(dbFileIn(temp.dir));
  cleanups.push(() => (db.close(), temp.remove()));
  const repo = createDeviceRepository(db);
  const cache = createDeviceCache(repo);
  const add = (sn: string, settings: Partial<DeviceSettings> = {}, kind: 'detector' | 'output' = 'detector') => {
    const device = repo.insert(sn, { ...DEFAULT_SETTINGS, high_limit: 1000, ...settings }, null, T0, kind);
    cache.reload();
    return device;
  };
  return { temp, db, cache, add };
}

function setup(writer?: GroupCommitWriter) {
  const table = deviceTable();
  const bus = createBus();
  const clock = manualClock(T0);
  const presence = createPresence({ bus, clock, timeoutMs: 90_000 });
  const hand = handCommittedWriter();
  const statuses: DeviceStatusEvent[] = [];
  const committed: ReadingEvent[] = [];
  bus.on('device_status', (event) => statuses.push(event));
  bus.on('readings', (batch) => committed.push(...batch));
  const ingest = createIngest({
    devices: table.cache, writer: writer ?? hand.writer, presence, bus, clock, log: silentLogger(), clockSkewMs: SKEW_LIMIT_MS,
  });
  return { ...table, bus, clock, presence, hand, ingest, statuses, committed };
}

/** A DEV-2 reading at the given device time (ms), as a detector sends it. */
function payload(fields: Record<string, unknown> = {}, deviceMs = T0): Buffer {
  return Buffer.from(JSON.stringify({ ts: Math.floor(deviceMs / 1000), seq: 1, v_raw: 100, temp: 25, bat: 90, rssi: -70, err: 0, ...fields }));
}

/** A publish's callback (the PUBACK): records whether and how it was called. */
function puback() {
  const calls: (Error | null | undefined)[] = [];
  const done: PublishDone = (error) => void calls.push(error);
  return { done, calls, get acked() { return calls.length === 1 && !calls[0]; } };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ingest pipeline: a valid reading (ING-2, ING-6)', () => {
  test('reaches the writer with its calibrated value, the device setpoints and its key time; PUBACK only after the commit', async () => {
    const { add, ingest, hand, committed, presence } = setup();
    const device = add('A1', {
      calib: { k: 2, b: 1, t_ref: 20, t_comp: 0.5 }, high_limit: 500, high2_limit: 800, low_limit: null, range_max: 10_000,
    });
    const ack = puback();
    ingest.handleUp('A1', payload({ seq: 1234, v_raw: 100, temp: 30, humi: 45, bat: 88, rssi: -61, err: 0 }, T0 - 2_000), 1, '10.0.0.5', ack.done);

    assert.equal(hand.queued.length, 1, 'queued for the group commit');
    assert.deepEqual(ack.calls, [], 'no PUBACK before the commit');
    assert.equal(committed.length, 0, 'nothing on the bus before the commit');
    const row = hand.queued[0]!.row;
    // ppm = k·v_raw + b + t_comp·(temp − t_ref) = 200 + 1 + 5
    assert.equal(row[R.F_PPM], 206);
    assert.equal(row[R.F_V_RAW], 100);
    assert.equal(row[R.F_SN_ID], device.sn_id);
    assert.equal(row[R.F_TS], T0 - 2_000 + 234, 'device seconds, the sub-second part seq mod 1000');
    assert.equal(row[R.F_RECEIVED], T0);
    assert.equal(row[R.F_SEQ], 1234);
    assert.equal(row[R.F_HUMI], 45);
    assert.equal(row[R.F_BAT], 88);
    assert.equal(row[R.F_RSSI], -61);
    assert.equal(row[R.F_FLAGS], 0);
    assert.equal(row[R.F_HIGH], 500);
    assert.equal(row[R.F_HIGH2], 800);
    assert.ok(Number.isNaN(row[R.F_LOW]), 'no low setpoint');

    hand.commit();
    assert.equal(ack.acked, true, 'acknowledged once committed');
    await tick();
    assert.deepEqual(committed.map((r) => [r.sn, r.ts, r.ppm, r.overrange]), [['A1', T0 - 2_000 + 234, 206, false]]);
    assert.equal(ingest.totals.stored, 1);
    assert.equal(ingest.perDevice.get('A1')!.stored, 1);
    assert.equal(presence.isOnline('A1'), true);
  });

  test('the setpoints are those of the device when the reading arrived', () => {
    const { add, db, cache, ingest, hand } = setup();
    add('A1', { high_limit: 500 });
    ingest.handleUp('A1', payload({ seq: 1 }), 1, null, () => {});
    db.prepare('UPDATE devices SET high_limit = 700 WHERE sn = ?').run('A1');
    cache.reload();
    ingest.handleUp('A1', payload({ seq: 2 }), 1, null, () => {});
    assert.deepEqual(hand.queued.map((q) => q.row[R.F_HIGH]), [500, 700]);
  });

  test('QoS 0 is not acknowledged and returns at once; a failed commit of QoS 1 gets no PUBACK but the error', () => {
    const { add, ingest, hand } = setup();
    add('A1');
    const qos0 = puback();
    ingest.handleUp('A1', payload({ seq: 1 }), 0, null, qos0.done);
    assert.equal(qos0.acked, true, 'QoS 0: the callback runs at once');
    const qos1 = puback();
    ingest.handleUp('A1', payload({ seq: 2 }), 1, null, qos1.done);
    const failure = new Error('SQLITE_IOERR: disk I/O error');
    hand.commit(failure);
    assert.deepEqual(qos1.calls, [failure], 'the broker gets the error: no PUBACK, the detector resends');
    assert.equal(qos0.calls.length, 1, 'QoS 0 is not called again');
    assert.equal(ingest.totals.dropped.store_failed, 2);
    assert.equal(ingest.totals.stored, 0);
  });

  test('a full queue is counted as queue_full, not as a failed commit (issue 16.8)', () => {
    const { add, ingest, hand } = setup();
    add('A1');
    const ack = puback();
    ingest.handleUp('A1', payload(), 1, null, ack.done);
    hand.commit(Object.assign(new Error('queue full'), { code: QUEUE_FULL }));
    assert.equal(ack.calls.length, 1);
    assert.ok(ack.calls[0] instanceof Error);
    assert.equal(ingest.totals.dropped.queue_full, 1);
    assert.equal(ingest.totals.dropped.store_failed, 0);
  });

  test('a calibrated value over the range is clamped at range_max and flagged OVERRANGE (ING-2)', async () => {
    const { add, ingest, hand, committed } = setup();
    add('A1', { range_max: 1000 });
    ingest.handleUp('A1', payload({ v_raw: 5000 }), 1, null, () => {});
    const row = hand.queued[0]!.row;
    assert.equal(row[R.F_PPM], 1000);
    assert.equal(row[R.F_FLAGS], R.FLAG_OVERRANGE);
    hand.commit();
    await tick();
    assert.equal(committed[0]!.overrange, true);
  });
});

describe('ingest pipeline: malformed readings are acknowledged, counted under their reason and never stored (ING-1)', () => {
  const cases: [string, string | Buffer, string][] = [
    ['not JSON', '{"ts": 1,', 'bad_json'],
    ['an array', '[1, 2, 3]', 'not_object'],
    ['JSON null', 'null', 'not_object'],
    ['no seq', JSON.stringify({ ts: 1_772_000_000, v_raw: 1, temp: 25, bat: 90, rssi: -70, err: 0 }), 'missing_field'],
    ['seq as a string', payload({ seq: '7' }).toString(), 'wrong_type'],
    ['a fractional seq', payload({ seq: 1.5 }).toString(), 'wrong_type'],
    ['v_raw over the DEV-2 range', payload({ v_raw: 100_001 }).toString(), 'out_of_range'],
    ['a negative battery', payload({ bat: -1 }).toString(), 'out_of_range'],
    ['a firmware version too long', payload({ ver: 'x'.repeat(33) }).toString(), 'out_of_range'],
    ['over the payload size limit', Buffer.alloc(MAX_UP_PAYLOAD_BYTES + 1, 0x20), 'too_large'],
  ];
  for (const [what, body, reason] of cases) {
    test(`${what} → ${reason}`, () => {
      const { add, ingest, hand, presence } = setup();
      add('A1');
      const ack = puback();
      ingest.handleUp('A1', Buffer.isBuffer(body) ? body : Buffer.from(body), 1, null, ack.done);
      assert.equal(ack.acked, true, 'acknowledged so the detector does not resend garbage forever');
      assert.equal(hand.queued.length, 0, 'never reaches the writer');
      assert.equal(ingest.totals.dropped[reason as keyof typeof ingest.totals.dropped], 1);
      assert.deepEqual(ingest.perDevice.get('A1')!.dropped, { [reason]: 1 });
      assert.equal(ingest.totals.received, 1);
      assert.equal(presence.isOnline('A1'), false, 'garbage does not count as the device talking');
    });
  }

  test('a disabled device: counted as device_disabled, not stored', () => {
    const { add, ingest, hand } = setup();
    add('A1', { enabled: false });
    const ack = puback();
    ingest.handleUp('A1', payload(), 1, null, ack.done);
    assert.equal(ack.acked, true);
    assert.equal(hand.queued.length, 0);
    assert.equal(ingest.totals.dropped.device_disabled, 1);
  });

  test('an unregistered serial is listed as pending (ING-3), not stored and not a drop', () => {
    const { ingest, hand, clock } = setup();
    const ack = puback();
    ingest.handleUp('NEW-1', payload(), 1, '10.0.0.9', ack.done);
    ingest.handleUp('NEW-1', payload({ seq: 2 }), 1, '10.0.0.9', () => {});
    clock.advance(10_000);
    ingest.handleUp('NEW-1', payload({ seq: 3 }), 1, '10.0.0.9', () => {});
    assert.equal(ack.acked, true);
    assert.equal(hand.queued.length, 0);
    assert.deepEqual(hand.updates.map((u) => ({ ...u, payload: undefined })), [
      { op: 'pending', sn: 'NEW-1', ts: T0, messages: 1, remote: '10.0.0.9', payload: undefined },
      { op: 'pending', sn: 'NEW-1', ts: T0 + 10_000, messages: 2, remote: '10.0.0.9', payload: undefined },
    ], 'written at most every 10 s, with the messages seen since');
    assert.equal(ingest.totals.pending, 3);
    assert.equal(Object.values(ingest.totals.dropped).reduce((a, b) => a + b, 0), 0);
  });
});

describe('ingest pipeline: device clocks (ING-5)', () => {
  test('a time beyond the skew limit in the future is stored at server time and flagged; its resend is a duplicate', async () => {
    const { add, ingest, hand, clock } = setup();
    add('A1');
    const future = T0 + 3_600_000;
    ingest.handleUp('A1', payload({ seq: 1 }, future), 1, null, () => {});
    const row = hand.queued[0]!.row;
    assert.equal(row[R.F_TS], T0, 'keyed by the time it arrived');
    assert.equal(row[R.F_FLAGS], R.FLAG_CLOCK_SKEW);
    hand.commit();
    clock.advance(1_000);
    const resend = puback();
    ingest.handleUp('A1', payload({ seq: 1 }, future), 1, null, resend.done);
    assert.equal(resend.acked, true, 'acknowledged');
    assert.equal(hand.queued.length, 0, 'not stored again at a new server time');
    assert.equal(ingest.perDevice.get('A1')!.duplicates, 1);
    assert.equal(ingest.perDevice.get('A1')!.skewedReadings, 1);
  });

  test('a time just inside the limit is kept as the device gave it', () => {
    const { add, ingest, hand } = setup();
    add('A1');
    ingest.handleUp('A1', payload({ seq: 1 }, T0 + SKEW_LIMIT_MS - 1_000), 1, null, () => {});
    assert.equal(hand.queued[0]!.row[R.F_TS], T0 + SKEW_LIMIT_MS - 1_000 + 1);
    assert.equal(hand.queued[0]!.row[R.F_FLAGS], 0);
  });

  test('an old time is a backlog until a live measurement shows the clock behind; then flagged and keyed by server time', () => {
    const { add, ingest, hand, clock } = setup();
    add('A1');
    const behind = 600_000; // ten minutes behind, far past the limit
    ingest.handleUp('A1', payload({ seq: 1 }, T0 - behind), 1, null, () => {});
    assert.equal(hand.queued[0]!.row[R.F_FLAGS], 0, 'one old reading may be a buffered one: stored at its own time');
    assert.equal(hand.queued[0]!.row[R.F_TS], T0 - behind + 1);
    clock.advance(30_000);
    ingest.handleUp('A1', payload({ seq: 2 }, T0 + 30_000 - behind), 1, null, () => {});
    assert.equal(hand.queued[1]!.row[R.F_FLAGS], R.FLAG_CLOCK_SKEW, 'the clock advanced live 30 s and is 10 min behind');
    assert.equal(hand.queued[1]!.row[R.F_TS], T0 + 30_000);
    assert.equal(ingest.linkFigures('A1').clock_skew_ms, -behind);
  });
});

describe('ingest pipeline: sequence numbers (ING-4)', () => {
  test('a resend with the same seq is acknowledged and stored once', () => {
    const { add, ingest, hand } = setup();
    add('A1');
    const first = puback();
    const again = puback();
    ingest.handleUp('A1', payload({ seq: 9 }), 1, null, first.done);
    hand.commit();
    ingest.handleUp('A1', payload({ seq: 9 }), 1, null, again.done);
    hand.commit();
    assert.equal(first.acked && again.acked, true);
    assert.equal(hand.rows.length, 1);
    assert.deepEqual([ingest.totals.stored, ingest.totals.duplicates], [1, 1]);
  });

  test('skipped numbers are missing readings; a late one fills its gap', () => {
    const { add, ingest, hand } = setup();
    add('A1');
    for (const seq of [1, 2, 6]) ingest.handleUp('A1', payload({ seq }, T0 + seq * 1000), 1, null, () => {});
    hand.commit();
    assert.deepEqual(ingest.linkFigures('A1'), { stored: 3, missing: 3, loss_pct: 50, clock_skew_ms: 6_000, firmware: null });
    ingest.handleUp('A1', payload({ seq: 4, ver: '1.2.3' }, T0 + 4000), 1, null, () => {});
    hand.commit();
    // The skew figure stays that of the newest reading by sequence (seq 6 was 6 s ahead); the late one does not move it.
    assert.deepEqual(ingest.linkFigures('A1'), { stored: 4, missing: 2, loss_pct: 33.33, clock_skew_ms: 6_000, firmware: '1.2.3' });
  });

  test('with the real group-commit writer: a resend is acknowledged and in the readings table once', async () => {
    const temp = tempDir();
    const file = dbFileIn(temp.dir);
    const db = openDb(file);
    const writer = createGroupCommitWriter({ file, synchronous: 'NORMAL', cacheMb: 4, commitIntervalMs: 2, commitMaxRows: 100, log: silentLogger() });
    cleanups.push(() => (db.close(), temp.remove()));
    await writer.start();
    try {
      const repo = createDeviceRepository(db);
      repo.insert('A1', { ...DEFAULT_SETTINGS, high_limit: 1000 }, null, T0);
      const cache = createDeviceCache(repo);
      cache.reload();
      const bus = createBus();
      const clock = manualClock(T0);
      const ingest = createIngest({
        devices: cache, writer, presence: createPresence({ bus, clock, timeoutMs: 90_000 }), bus, clock, log: silentLogger(), clockSkewMs: SKEW_LIMIT_MS,
      });
      const publish = (seq: number) => new Promise<Error | null | undefined>((resolve) => ingest.handleUp('A1', payload({ seq }), 1, null, resolve));
      assert.deepEqual(await Promise.all([publish(5), publish(6)]), [undefined, undefined]);
      assert.equal(await publish(5), undefined, 'the resend is acknowledged');
      assert.equal((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n, 2);
      assert.deepEqual([ingest.totals.stored, ingest.totals.duplicates], [2, 1]);
    } finally {
      await writer.stop();
    }
  });
});

describe('ingest pipeline: status messages and connections reach presence (ING-7)', () => {
  test('online status, Will, offline status and a disconnect each make one transition with their reason', () => {
    const { add, ingest, statuses, clock } = setup();
    add('A1');
    ingest.handleStatus('A1', Buffer.from('{"status":"online","ts":1772352000}'), false);
    clock.advance(1_000);
    ingest.handleStatus('A1', Buffer.from('{"status":"offline"}'), true);
    clock.advance(1_000);
    ingest.handleUp('A1', payload({ seq: 1 }), 1, null, () => {});
    clock.advance(1_000);
    ingest.handleStatus('A1', Buffer.from('{"status":"offline"}'), false);
    clock.advance(1_000);
    ingest.handleStatus('A1', Buffer.from('{"status":"online"}'), false);
    clock.advance(1_000);
    ingest.handleDisconnect('A1');
    assert.deepEqual(statuses.map((s) => [s.status, s.reason, s.ts - T0]), [
      ['online', 'status_message', 0],
      ['offline', 'will', 1_000],
      ['online', 'reading', 2_000],
      ['offline', 'status_message', 3_000],
      ['online', 'status_message', 4_000],
      ['offline', 'disconnect', 5_000],
    ]);
  });

  test('an empty (retained-clearing) status says nothing; a malformed one is counted as wrong_type', () => {
    const { add, ingest, statuses } = setup();
    add('A1');
    ingest.handleStatus('A1', Buffer.alloc(0), false);
    assert.equal(ingest.totals.dropped.wrong_type, 0);
    for (const body of ['not json', '{"status":"sleeping"}', '{"state":"online"}', '{"status":"online","relay":{"1":"on"}}']) {
      ingest.handleStatus('A1', Buffer.from(body), false);
    }
    assert.equal(ingest.totals.dropped.wrong_type, 4);
    assert.deepEqual(statuses, []);
  });

  test("an output module's relay report goes on the bus (issue 15.5)", () => {
    const { add, ingest, bus, clock } = setup();
    add('R1', { high_limit: null }, 'output');
    const reports: unknown[] = [];
    bus.on('output_state', (event) => reports.push(event));
    clock.advance(500);
    ingest.handleStatus('R1', Buffer.from('{"status":"online","relay":{"1":true,"2":false}}'), false);
    assert.deepEqual(reports, [{ sn: 'R1', relay: { '1': true, '2': false }, at: T0 + 500 }]);
  });

  test('messages and disconnects of serials that are not registered do not touch presence', () => {
    const { ingest, statuses, presence } = setup();
    ingest.handleStatus('NEW-1', Buffer.from('{"status":"online"}'), false);
    ingest.handleDisconnect('NEW-1');
    ingest.handleUp('NEW-1', payload(), 1, null, () => {});
    assert.deepEqual(statuses, []);
    assert.equal(presence.isOnline('NEW-1'), false);
  });

  test('ACL violations and oversized packets reported by the broker are counted under their reasons', () => {
    const { add, ingest } = setup();
    add('A1');
    ingest.countAclViolation('A1');
    ingest.countTooLarge('A1', 70_000);
    assert.deepEqual(ingest.perDevice.get('A1')!.dropped, { acl_violation: 1, too_large: 1 });
  });
});

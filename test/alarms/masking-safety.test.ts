// Issue 15.1 safety gaps, on real SQLite files: a masked detector's alarms start no control output
// and count toward no linkage zone (GB 16808 屏蔽 blocks the masked point's outputs), and an alarm
// of a masked detector never escalates (ALM-13) — once the mask ends, it escalates counted from the
// end of the mask.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALARM_COMMIT_SETTINGS } from '../../appliance/contract/alarm.ts';
import type { LinkageRule } from '../../appliance/contract/linkage.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createSecretBox } from '../../appliance/core/secrets.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { createAlarmSettings } from '../../appliance/notify/alarm-settings.ts';
import { createEscalation } from '../../appliance/notify/escalation.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { packRows } from './support.ts';
import { createWriterCore, type WriterCore } from '../../appliance/storage/writer-core.ts';
import { tempDir } from '../helpers/appliance.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 5, 2, 0); // a Monday, 10:00 in Shanghai (inside any notification schedule)
const DETECTORS = ['GAS-1', 'GAS-2', 'GAS-3'];

let temp: ReturnType<typeof tempDir>;
let db: Db;
let core: WriterCore;
let now: number;

const rule = (fields: Partial<LinkageRule> = {}): LinkageRule => ({
  id: 'fan', name: 'Fan, hall 1', enabled: true, detectors: ['GAS-1', 'GAS-2'], level: 2, confirm: false,
  action: { kind: 'relay', sn: 'OUT-1', ch: 1 }, release: true, ...fields,
});

function startCore(rules: LinkageRule[]) {
  core = createWriterCore(db, {
    alarmSettings: { ...DEFAULT_ALARM_COMMIT_SETTINGS, linkage: rules, notify: { ...DEFAULT_ALARM_COMMIT_SETTINGS.notify, channels: ['email'] } },
  });
}

/** One reading of `sn` 10 s after the last (limits: level 1 at 1000 ppm, level 2 at 2000). */
function reading(ppm: number, sn = 'GAS-1') {
  now += 10_000;
  const packed = packRows([{ snId: createDeviceRepository(db).get(sn)!.sn_id, ts: now, seq: now / 10_000, ppm, high: 1000, high2: 2000 }]);
  core.writeBatch(packed, 1, []);
}

/** The linkage actions queued, in order: "<channel> <fire|release>". */
const actions = () =>
  (db.prepare("SELECT channel, event FROM notification_outbox WHERE channel LIKE 'linkage:%' ORDER BY id").all() as { channel: string; event: string }[])
    .map((row) => `${row.channel} ${row.event}`);
const linkageJournal = () =>
  (db.prepare("SELECT detail FROM alarm_journal WHERE kind = 'linkage' ORDER BY id").all() as { detail: string }[]).map((row) => row.detail);

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  const devices = createDeviceRepository(db);
  for (const sn of DETECTORS) devices.insert(sn, { ...DEFAULT_SETTINGS, high_limit: 1000, high2_limit: 2000, low_limit: null }, null, 0);
  now = T0;
});
afterEach(() => {
  db.close();
  temp.remove();
});

describe('linkage under a mask (issue 15.1 + 15.5, GB 16808 屏蔽)', () => {
  test('a bump test under a mask trips no output; the same gas without a mask fires and releases', () => {
    startCore([rule()]);
    core.mask(['GAS-1'], 'bump test', 'op', now, now + 30 * MINUTE);
    for (const ppm of [1500, 2500, 2600, 300]) reading(ppm);
    assert.deepEqual(actions(), [], 'the masked detector starts nothing, and its clear releases nothing');
    core.unmask(['GAS-1'], 'op', now);
    for (const ppm of [2500, 300]) reading(ppm);
    assert.deepEqual(actions(), ['linkage:fan fire', 'linkage:fan release']);
  });

  test('a masked detector does not confirm another detector of its zone (two-signal rule)', () => {
    startCore([rule({ confirm: true })]);
    core.mask(['GAS-1'], 'bump test', 'op', now, now + 30 * MINUTE);
    reading(2500, 'GAS-1');
    reading(2500, 'GAS-2');
    assert.deepEqual(actions(), [], 'one real detector alone does not confirm');
    // The third detector is outside the zone: still nothing.
    reading(2500, 'GAS-3');
    assert.deepEqual(actions(), []);
    // The mask ends with the gas still there: the detector counts from now and completes the rule.
    core.unmask(['GAS-1'], 'op', now);
    assert.deepEqual(actions(), ['linkage:fan fire']);
    assert.deepEqual(linkageJournal(), ['fire: queued (mask unmasked)']);
  });

  test('a mask expiring while the detector is still at level 2 fires the rule then, once', () => {
    startCore([rule()]);
    core.mask(['GAS-1'], 'calibration', 'op', now, now + 5 * MINUTE);
    reading(2500);
    assert.deepEqual(actions(), []);
    now = T0 + 5 * MINUTE;
    core.unmask(null, 'expiry', now);
    assert.deepEqual(actions(), ['linkage:fan fire']);
    reading(2600);
    assert.deepEqual(actions(), ['linkage:fan fire'], 'no second fire for the same episode');
    reading(300);
    assert.deepEqual(actions(), ['linkage:fan fire', 'linkage:fan release']);
  });

  test('a mask never switches an output off: an alarm counting before the mask keeps its fan on and its end releases it', () => {
    startCore([rule()]);
    reading(2500, 'GAS-1');
    assert.deepEqual(actions(), ['linkage:fan fire']);
    core.mask(['GAS-1'], 'maintenance', 'op', now, now + 30 * MINUTE);
    assert.deepEqual(actions(), ['linkage:fan fire'], 'masking releases nothing');
    // A second detector's alarm and its end: the masked detector's standing alarm still holds the zone.
    reading(2500, 'GAS-2');
    reading(300, 'GAS-2');
    assert.deepEqual(actions(), ['linkage:fan fire']);
    reading(300, 'GAS-1');
    assert.deepEqual(actions(), ['linkage:fan fire', 'linkage:fan release']);
  });

  test('a restart keeps a masked bump test out of the zone (the judgement is read from the journal)', () => {
    startCore([rule()]);
    core.mask(['GAS-1'], 'bump test', 'op', now, now + 30 * MINUTE);
    reading(2500, 'GAS-1');
    startCore([rule({ confirm: true })]);
    reading(2500, 'GAS-2');
    assert.deepEqual(actions(), []);
  });
});

describe('escalation under a mask (issue 15.1, ALM-13)', () => {
  const store = (clock: ReturnType<typeof manualClock>) => createAlarmSettings({ config: createConfigRepository(db), box: createSecretBox(temp.dir), clock });

  function setUp() {
    const clock = manualClock(T0);
    const settings = store(clock);
    settings.save({
      escalation: { critical: [5, 15] },
      channels: { email: { enabled: true, settings: { host: 'smtp.plant.example', from: 'alarm@plant.example', recipients: ['shift@plant.example'], escalation_to: ['supervisor@plant.example'] } } },
    });
    const escalation = createEscalation({ db, clock, log: silentLogger(), settings: () => settings.current(), timezone: 'Asia/Shanghai' });
    startCore([]);
    return { clock, escalation };
  }
  const steps = () => (db.prepare("SELECT step FROM alarm_journal WHERE kind = 'escalated' ORDER BY id").all() as { step: number }[]).map((row) => row.step);

  test('never while masked; after the unmask counted from the unmask, not from the raise', () => {
    const { clock, escalation } = setUp();
    core.mask(['GAS-1'], 'maintenance', 'op', now, now + 60 * MINUTE);
    reading(2500); // a critical (level-2) alarm, unacknowledged
    clock.set(now + 30 * MINUTE);
    assert.deepEqual(escalation.runDue(), [], 'not while masked, long past step 2');
    const unmaskedAt = now + 30 * MINUTE;
    core.unmask(['GAS-1'], 'op', unmaskedAt);
    clock.set(unmaskedAt + 5 * MINUTE - 1);
    assert.deepEqual(escalation.runDue(), [], 'step 1 not before 5 min after the unmask');
    clock.set(unmaskedAt + 5 * MINUTE);
    assert.deepEqual(escalation.runDue().map((s) => s.step), [1]);
    clock.set(unmaskedAt + 15 * MINUTE);
    assert.deepEqual(escalation.runDue().map((s) => s.step), [2]);
    assert.deepEqual(steps(), [1, 2]);
  });

  test('a mask past its time (not yet ended by the expiry job) no longer stops escalation, counted from its until', () => {
    const { clock, escalation } = setUp();
    const until = now + 10 * MINUTE;
    core.mask(['GAS-1'], 'bump test', 'op', now, until);
    reading(2500);
    clock.set(until + 4 * MINUTE);
    assert.deepEqual(escalation.runDue(), []);
    clock.set(until + 5 * MINUTE);
    assert.deepEqual(escalation.runDue().map((s) => s.step), [1]);
  });

  test('an alarm of another, unmasked detector escalates as ever', () => {
    const { clock, escalation } = setUp();
    core.mask(['GAS-1'], 'bump test', 'op', now, now + 60 * MINUTE);
    reading(2500, 'GAS-1');
    reading(2500, 'GAS-2');
    clock.set(T0 + 5 * MINUTE + 20_000);
    assert.deepEqual(escalation.runDue().map((s) => s.step), [1]);
    assert.deepEqual(db.prepare("SELECT a.source FROM alarm_journal j JOIN alarms a ON a.id = j.alarm_id WHERE j.kind = 'escalated'").pluck().all(), ['GAS-2']);
  });
});

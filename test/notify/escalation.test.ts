// ALM-13: escalation timing on a hand-driven clock, on a real SQLite file with the real alarm
// settings store: step 1 at N minutes, step 2 at M, nothing after an acknowledgement, nothing twice,
// and a restart in between neither loses nor repeats a step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../appliance/core/errors.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createSecretBox } from '../../appliance/core/secrets.ts';
import { createAlarmSettings } from '../../appliance/notify/alarm-settings.ts';
import { createEscalation } from '../../appliance/notify/escalation.ts';
import { createAlarmRepository, createAlarmWriteRepository, type AlarmRecord } from '../../appliance/storage/alarms.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { dbAndClockForEachTest } from './support.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 2, 0); // a Monday, 10:00 in Shanghai

const fixture = dbAndClockForEachTest(T0);
const { clock } = fixture;

const settingsStore = () => createAlarmSettings({ config: createConfigRepository(fixture.db), box: createSecretBox(fixture.dir), clock });
const email = { host: 'smtp.plant.example', from: 'alarm@plant.example', recipients: ['shift@plant.example'], escalation_to: ['supervisor@plant.example'] };
const sms = { access_key_id: 'LTAI', access_key_secret: 's3cret', sign_name: 'MCS', template_code: 'SMS_1', phone_numbers: ['13800000001'] };

function configure(extra: Record<string, unknown> = {}) {
  settingsStore().save({
    escalation: { critical: [5, 15], high: [15, 60] },
    // SMS switched on but without escalation phones: no escalation goes through it.
    channels: { email: { enabled: true, settings: email }, sms: { enabled: true, settings: sms } },
    ...extra,
  });
}

function escalation() {
  const store = settingsStore();
  return createEscalation({ db: fixture.db, clock, log: silentLogger(), settings: () => store.current(), timezone: 'Asia/Shanghai' });
}

/** An alarm raised now, with its journal entry, as the writer thread writes it. */
function raise(fields: { type?: string; level?: number | null; priority?: string; sn?: string } = {}): AlarmRecord {
  const repo = createAlarmWriteRepository(fixture.db);
  return fixture.db.transaction(() => {
    const { type = 'HIGH', level = 2, priority = 'critical', sn = 'GAS-1' } = fields;
    const record = repo.insert({ sn, source: sn, type, level, priority, value: 60, threshold: 50, detail: null, at: clock.now() });
    repo.journal({ alarmId: record.id, at: clock.now(), kind: 'raised', level, value: 60 });
    return record;
  })();
}

const escalated = (alarmId: number) =>
  fixture.db.prepare("SELECT step, detail FROM alarm_journal WHERE alarm_id = ? AND kind = 'escalated' ORDER BY id").all(alarmId) as { step: number; detail: string }[];
const outbox = (alarmId: number) =>
  fixture.db.prepare('SELECT channel, event, escalation_step FROM notification_outbox WHERE alarm_id = ? ORDER BY id').all(alarmId) as { channel: string; event: string; escalation_step: number }[];

test('an unacknowledged critical alarm escalates at 5 min (step 1) and 15 min (step 2), to the channels with escalation recipients only', () => {
  configure();
  const alarm = raise();
  const steps = escalation();
  clock.advance(5 * MIN - 1);
  assert.deepEqual(steps.runDue(), [], 'not before 5 minutes');
  clock.advance(1);
  assert.deepEqual(steps.runDue(), [{ alarmId: alarm.id, step: 1, channels: ['email'] }]);
  assert.deepEqual(outbox(alarm.id), [{ channel: 'email', event: 'escalation', escalation_step: 1 }]);
  clock.advance(10 * MIN - 1);
  assert.deepEqual(steps.runDue(), [], 'step 2 not before 15 minutes');
  clock.advance(1);
  assert.deepEqual(steps.runDue().map((s) => s.step), [2]);
  clock.advance(24 * 60 * MIN);
  assert.deepEqual(steps.runDue(), [], 'two steps, then nothing more');
  assert.deepEqual(escalated(alarm.id).map((e) => e.step), [1, 2]);
  assert.match(escalated(alarm.id)[0].detail, /^step 1, 5 min unacknowledged: to the escalation recipients of email$/);
  assert.deepEqual(outbox(alarm.id).map((r) => r.escalation_step), [1, 2]);
});

test('each step is queued once however often the job runs', () => {
  configure();
  const alarm = raise();
  const steps = escalation();
  clock.advance(6 * MIN);
  assert.equal(steps.runDue().length, 1);
  assert.equal(steps.runDue().length, 0);
  assert.equal(escalation().runDue().length, 0, 'another instance reads the same journal');
  assert.equal(outbox(alarm.id).length, 1);
});

test('acknowledgement stops the escalation: no step after it', () => {
  configure();
  const alarm = raise();
  const steps = escalation();
  clock.advance(5 * MIN);
  assert.equal(steps.runDue().length, 1);
  clock.advance(MIN);
  createAlarmRepository(fixture.db).acknowledge([alarm.id], 'wang', 'valve closed', clock.now());
  clock.advance(60 * MIN);
  assert.deepEqual(steps.runDue(), []);
  assert.deepEqual(escalated(alarm.id).map((e) => e.step), [1]);
});

test('an alarm acknowledged before its first step never escalates; a cleared unlatched one neither', () => {
  configure();
  const acked = raise({ sn: 'GAS-1' });
  const fault = raise({ sn: 'GAS-2', type: 'FAULT', level: null, priority: 'critical' });
  createAlarmRepository(fixture.db).acknowledge([acked.id], 'wang', 'checked', clock.now() + MIN);
  createAlarmWriteRepository(fixture.db).clear(fault.id, clock.now() + MIN); // FAULT does not latch
  clock.advance(60 * MIN);
  assert.deepEqual(escalation().runDue(), []);
});

test('a restart in between neither loses nor repeats a step', () => {
  configure();
  const alarm = raise();
  clock.advance(5 * MIN);
  assert.equal(escalation().runDue().length, 1);
  // The appliance stops (the database closes) and is down through step 2's time, then starts again.
  clock.advance(30 * MIN);
  fixture.reopen();
  const restarted = escalation();
  assert.deepEqual(restarted.runDue().map((s) => s.step), [2], 'step 1 not again, step 2 not lost');
  assert.deepEqual(restarted.runDue(), []);
  assert.deepEqual(outbox(alarm.id).map((r) => r.escalation_step), [1, 2]);
});

test('after a stop through both steps, both are queued once at start, in order', () => {
  configure();
  const alarm = raise();
  clock.advance(2 * 60 * MIN);
  assert.deepEqual(escalation().runDue().map((s) => s.step), [1, 2]);
  assert.deepEqual(escalation().runDue(), []);
  assert.deepEqual(escalated(alarm.id).map((e) => e.step), [1, 2]);
});

test('the steps follow the priority: high at 15 and 60 min; medium and low do not escalate by default', () => {
  configure({ escalation: {} }); // the documented defaults
  const high = raise({ sn: 'GAS-1', level: 1, priority: 'high' });
  raise({ sn: 'GAS-2', type: 'OFFLINE', level: null, priority: 'medium' });
  raise({ sn: 'GAS-3', type: 'LOW_BAT', level: null, priority: 'low' });
  const steps = escalation();
  clock.advance(14 * MIN);
  assert.deepEqual(steps.runDue(), []);
  clock.advance(MIN);
  assert.deepEqual(steps.runDue().map((s) => [s.alarmId, s.step]), [[high.id, 1]]);
  clock.advance(45 * MIN);
  assert.deepEqual(steps.runDue().map((s) => [s.alarmId, s.step]), [[high.id, 2]]);
  clock.advance(24 * 60 * MIN);
  assert.deepEqual(steps.runDue(), []);
});

test('a re-raise after an acknowledgement starts the count anew; a flapping alarm nobody acknowledged keeps its first raise', () => {
  configure();
  const repo = createAlarmWriteRepository(fixture.db);
  const reopen = (id: number) => fixture.db.transaction(() => {
    repo.reopen(id, { value: 70, peak: 70, detail: null, level: 2, priority: 'critical', threshold: 50 }, clock.now());
    repo.journal({ alarmId: id, at: clock.now(), kind: 'repeat', level: 2, value: 70 });
  })();
  const flapping = raise({ sn: 'GAS-1' });
  const handled = raise({ sn: 'GAS-2' });
  const steps = escalation();
  clock.advance(3 * MIN);
  createAlarmRepository(fixture.db).acknowledge([handled.id], 'wang', 'ventilated', clock.now());
  repo.clear(flapping.id, clock.now());
  repo.clear(handled.id, clock.now());
  clock.advance(MIN);
  reopen(flapping.id);
  reopen(handled.id); // acknowledged before: a new unacknowledged excursion from now
  clock.advance(MIN); // 5 min after the first raise
  assert.deepEqual(steps.runDue().map((s) => s.alarmId), [flapping.id]);
  clock.advance(4 * MIN - 1);
  assert.deepEqual(steps.runDue(), []);
  clock.advance(1); // 5 min after the re-raise
  assert.deepEqual(steps.runDue().map((s) => [s.alarmId, s.step]), [[handled.id, 1]]);
});

test('outside the notification schedule a non-gas step is journaled as LOG_ONLY and sends nothing; gas is always sent', () => {
  configure({ schedule: { days: [], always_notify: ['HIGH'] }, escalation: { critical: [5], medium: [5] } });
  const gas = raise({ sn: 'GAS-1' });
  const offline = raise({ sn: 'GAS-2', type: 'OFFLINE', level: null, priority: 'medium' });
  clock.advance(5 * MIN);
  const done = escalation().runDue();
  assert.deepEqual(done.map((s) => [s.alarmId, s.channels]), [[gas.id, ['email']], [offline.id, []]]);
  assert.match(escalated(offline.id)[0].detail, /LOG_ONLY/);
  assert.equal(outbox(offline.id).length, 0);
});

test('without any escalation recipient the step is journaled as such and nothing is queued', () => {
  configure({ channels: { email: { enabled: true, settings: { ...email, escalation_to: [] } } } });
  const alarm = raise();
  clock.advance(5 * MIN);
  assert.deepEqual(escalation().runDue(), [{ alarmId: alarm.id, step: 1, channels: [] }]);
  assert.match(escalated(alarm.id)[0].detail, /no enabled channel has escalation recipients/);
  assert.equal(outbox(alarm.id).length, 0);
});

test('the settings refuse a second step that does not come after the first, and a third step', () => {
  const save = (escalation: unknown) => settingsStore().save({ escalation });
  assert.throws(() => save({ critical: [15, 5] }), (err) => err instanceof AppError && err.code === 50001 && /escalation\/critical: step 2/.test(err.message));
  assert.throws(() => save({ high: [5, 10, 20] }), (err) => err instanceof AppError && err.code === 50001);
  assert.throws(() => save({ low: [0] }), (err) => err instanceof AppError && err.code === 50001);
  assert.deepEqual(save({ medium: [30] }).escalation, { critical: [5, 15], high: [15, 60], medium: [30], low: [] });
});

test('settings saved before escalation existed read with its defaults; ack comments default to critical only', () => {
  createConfigRepository(fixture.db).set('alarm', { debounce_min: 5, deadband_pct: 5, low_battery_pct: 20, priorities: {}, schedule: {}, channels: {} }, T0);
  const store = settingsStore();
  assert.deepEqual(store.current().escalation, { critical: [5, 15], high: [15, 60], medium: [], low: [] });
  assert.deepEqual(store.ackPolicy(), { critical: true, high: false, medium: false, low: false });
  assert.throws(() => store.requireAckComment([{ id: 7, priority: 'critical', ack_at: null }], '  '),
    (err) => err instanceof AppError && err.code === 50005 && /#7/.test(err.message) && /须填写处理说明/.test(err.message));
  assert.doesNotThrow(() => store.requireAckComment([{ id: 7, priority: 'critical', ack_at: null }], 'closed the valve'));
  assert.doesNotThrow(() => store.requireAckComment([{ id: 8, priority: 'high', ack_at: null }], ''));
  assert.doesNotThrow(() => store.requireAckComment([{ id: 9, priority: 'critical', ack_at: T0 }], ''), 'already acknowledged: nothing to refuse');
});

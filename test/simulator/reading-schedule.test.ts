// When a detector takes its readings: drift-free intervals, no catch-up burst after a stall,
// DEV-3 debug mode and what stop and a reboot do to it (fast: a manual clock, no broker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock, type Clock } from '../../simulator/clock.ts';
import { createReadingSchedule } from '../../simulator/reading-schedule.ts';

const START = Date.UTC(2026, 0, 1, 8, 0, 0);

function setup(clock: Clock = createManualClock(START), onTake = () => {}) {
  const takenAt: number[] = [];
  const logs: string[] = [];
  const schedule = createReadingSchedule({
    clock, intervalMs: 10_000, log: (line) => logs.push(line),
    takeReading: () => {
      takenAt.push((clock.now() - START) / 1000);
      onTake();
    },
  });
  return { schedule, takenAt, logs };
}

test('the first reading comes after the phase, then one every interval', () => {
  const clock = createManualClock(START);
  const { schedule, takenAt } = setup(clock);
  schedule.start(2500);
  clock.advance(2499);
  assert.deepEqual(takenAt, []);
  clock.advance(1);
  clock.advance(30_000);
  assert.deepEqual(takenAt, [2.5, 12.5, 22.5, 32.5]);
  assert.equal(schedule.intervalMs, 10_000);
});

test('after a stall the schedule skips ahead: one reading, then an interval, no catch-up burst', () => {
  const manual = createManualClock(START);
  let stallMs = 0;
  // A clock that jumps 35 s during the second reading, as a blocked event loop would see it.
  const clock: Clock = { ...manual, now: () => manual.now() + stallMs };
  const { schedule, takenAt } = setup(clock, () => {
    if (takenAt.length === 2) stallMs = 35_000;
  });
  schedule.start(0);
  manual.advance(0);
  manual.advance(10_000);
  manual.advance(10_000);
  assert.deepEqual(takenAt, [0, 10, 45, 55]);
});

test('debug takes 1 s readings for its duration; the next after it comes a full interval later', () => {
  const clock = createManualClock(START);
  const { schedule, takenAt, logs } = setup(clock);
  schedule.start(0);
  clock.advance(0);
  schedule.debug(3);
  assert.equal(schedule.intervalMs, 1000);
  clock.advance(3000);
  assert.deepEqual(takenAt, [0, 1, 2, 3]);
  assert.equal(schedule.intervalMs, 10_000);
  assert.deepEqual(logs, ['debug over']);
  clock.advance(9_999);
  assert.equal(takenAt.length, 4);
  clock.advance(1);
  assert.deepEqual(takenAt.slice(4), [13]);
});

test('stop ends readings and debug mode timers but keeps the interval; forgetDebug restores it silently', () => {
  const clock = createManualClock(START);
  const { schedule, takenAt, logs } = setup(clock);
  schedule.start(0);
  clock.advance(0);
  schedule.debug(60);
  schedule.stop();
  assert.equal(clock.pending(), 0, 'no timer left armed');
  clock.advance(120_000);
  assert.deepEqual(takenAt, [0]);
  assert.equal(schedule.intervalMs, 1000);
  schedule.forgetDebug();
  assert.equal(schedule.intervalMs, 10_000);
  assert.deepEqual(logs, []);
});

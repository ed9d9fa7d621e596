// Issue 15.2: the due dates and the conditions they make hold, as pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, dueConditions, dueFigures, dueState } from '../../appliance/calibration/due.ts';

const T0 = Date.UTC(2026, 0, 1);
const base = { registeredAt: T0, lastPassedCalibrationAt: null, lastPassedBumpTestAt: null, calibrationDays: 365, bumpTestDays: 0, leadDays: 30 };
const holding = (figures: ReturnType<typeof dueFigures>) => dueConditions(figures, () => 'date').filter((c) => c.holds).map((c) => c.type);

test('a detector never calibrated here is due 365 days after its registration, CAL_DUE from 30 days before', () => {
  const due = T0 + 365 * DAY_MS;
  assert.equal(dueFigures(base, T0).calibrationDueAt, due);
  assert.equal(dueFigures(base, due - 30 * DAY_MS - 1).calibrationState, 'ok');
  assert.equal(dueFigures(base, due - 30 * DAY_MS).calibrationState, 'due');
  assert.equal(dueFigures(base, due - 1).calibrationState, 'due');
  assert.equal(dueFigures(base, due).calibrationState, 'overdue');
});

test('the interval runs from the last passing calibration', () => {
  const calibrated = T0 + 400 * DAY_MS;
  const figures = dueFigures({ ...base, lastPassedCalibrationAt: calibrated, calibrationDays: 180 }, calibrated + DAY_MS);
  assert.equal(figures.calibrationDueAt, calibrated + 180 * DAY_MS);
  assert.equal(figures.calibrationState, 'ok');
});

test('no lead time means CAL_DUE never holds, only CAL_OVERDUE after the date', () => {
  const due = T0 + 365 * DAY_MS;
  assert.equal(dueState(due, 0, due - 1), 'ok');
  assert.equal(dueState(due, 0, due), 'overdue');
});

test('without a bump-test interval there is no bump due date and BUMP_DUE never holds', () => {
  const figures = dueFigures(base, T0 + 1000 * DAY_MS);
  assert.deepEqual([figures.bumpTestDueAt, figures.bumpTestState], [null, null]);
  assert.deepEqual(holding(figures), ['CAL_OVERDUE']);
});

test('a bump test is due from the newest passing bump test or calibration, and BUMP_DUE holds once it is overdue', () => {
  const bumped = T0 + 10 * DAY_MS;
  const calibrated = T0 + 20 * DAY_MS;
  const inputs = { ...base, bumpTestDays: 30, lastPassedBumpTestAt: bumped, lastPassedCalibrationAt: calibrated };
  assert.equal(dueFigures(inputs, T0).bumpTestDueAt, calibrated + 30 * DAY_MS, 'the later calibration counts as a gas test too');
  assert.deepEqual(holding(dueFigures(inputs, calibrated + 30 * DAY_MS - 1)), []);
  assert.deepEqual(holding(dueFigures(inputs, calibrated + 30 * DAY_MS)), ['BUMP_DUE']);
  const later = { ...inputs, lastPassedBumpTestAt: calibrated + 25 * DAY_MS };
  assert.equal(dueFigures(later, T0).bumpTestDueAt, calibrated + 55 * DAY_MS);
});

test('CAL_DUE and CAL_OVERDUE never hold together; every condition is reported, held or not, with words in both languages', () => {
  const due = T0 + 365 * DAY_MS;
  const soon = dueConditions(dueFigures(base, due - DAY_MS), (ms) => new Date(ms).toISOString().slice(0, 10));
  assert.deepEqual(soon.map((c) => [c.type, c.holds]), [['CAL_DUE', true], ['CAL_OVERDUE', false], ['BUMP_DUE', false]]);
  assert.equal(soon[0].detail, 'calibration due 2027-01-01 / 校准到期 2027-01-01');
  assert.equal(soon[1].detail, undefined, 'a condition that does not hold carries no detail');
  const over = dueConditions(dueFigures(base, due), () => 'd');
  assert.deepEqual(over.map((c) => [c.type, c.holds]), [['CAL_DUE', false], ['CAL_OVERDUE', true], ['BUMP_DUE', false]]);
});

// Issue 15.2: when a detector's calibration and bump test fall due, and which device conditions
// that makes hold — pure functions of the records and the clock, unit-tested on their own.
//
// JJG 693-2011 (可燃气体检测报警器检定规程) sets the periodic verification of a combustible-gas
// detector at most a year apart: the default interval is 365 days. Bump tests (a short exposure to
// test gas that must make the detector alarm) are a site's choice, e.g. every 30 days.
// - The interval runs from the last *passing* record: a failed calibration or bump test leaves the
//   detector as due as it was.
// - A passing calibration exposes the detector to test gas too, so it also counts as a bump test.
// - A detector never calibrated here counts from its registration (it came calibrated from the
//   factory or the installer), or from when this appliance began keeping records if it was
//   registered before (an upgrade: its earlier calibrations were kept elsewhere; the service
//   passes the later of the two as `registeredAt`).
import type { DeviceConditionType } from '../contract/alarm.ts';
import type { DueState } from '../contract/calibration.ts';

export const DAY_MS = 86_400_000;

export interface DueInputs {
  /** UTC ms the device was registered (the baseline before its first record). */
  registeredAt: number;
  lastPassedCalibrationAt: number | null;
  lastPassedBumpTestAt: number | null;
  calibrationDays: number;
  /** 0: no bump-test interval. */
  bumpTestDays: number;
  leadDays: number;
}

export interface DueFigures {
  calibrationDueAt: number;
  calibrationState: DueState;
  /** null when the device has no bump-test interval. */
  bumpTestDueAt: number | null;
  bumpTestState: DueState | null;
}

/** ok / due (within the lead time) / overdue (on or after the due time). */
export function dueState(dueAt: number, leadMs: number, now: number): DueState {
  if (now >= dueAt) return 'overdue';
  return now >= dueAt - leadMs ? 'due' : 'ok';
}

export function dueFigures(inputs: DueInputs, now: number): DueFigures {
  const calibratedFrom = inputs.lastPassedCalibrationAt ?? inputs.registeredAt;
  const calibrationDueAt = calibratedFrom + inputs.calibrationDays * DAY_MS;
  const calibrationState = dueState(calibrationDueAt, inputs.leadDays * DAY_MS, now);
  if (inputs.bumpTestDays <= 0) return { calibrationDueAt, calibrationState, bumpTestDueAt: null, bumpTestState: null };
  // The newest passing exposure to test gas, whether a bump test or a calibration.
  const bumpFrom = Math.max(inputs.lastPassedBumpTestAt ?? -Infinity, inputs.lastPassedCalibrationAt ?? -Infinity, inputs.registeredAt);
  const bumpTestDueAt = bumpFrom + inputs.bumpTestDays * DAY_MS;
  // A bump test has no lead time: BUMP_DUE says it is overdue, as the issue asks.
  return { calibrationDueAt, calibrationState, bumpTestDueAt, bumpTestState: now >= bumpTestDueAt ? 'overdue' : 'ok' };
}

export interface DeviceConditionReport {
  type: Extract<DeviceConditionType, 'CAL_DUE' | 'CAL_OVERDUE' | 'BUMP_DUE'>;
  holds: boolean;
  detail?: string;
}

/**
 * The three conditions of one device, each holding or not: CAL_DUE within the lead time,
 * CAL_OVERDUE past the due date (CAL_DUE then stops holding: one alarm at a time says it),
 * BUMP_DUE past the bump-test due date. `formatDate` writes a due date for the detail.
 */
export function dueConditions(figures: DueFigures, formatDate: (utcMs: number) => string): DeviceConditionReport[] {
  const due = formatDate(figures.calibrationDueAt);
  const reports: DeviceConditionReport[] = [
    { type: 'CAL_DUE', holds: figures.calibrationState === 'due', detail: `calibration due ${due} / 校准到期 ${due}` },
    { type: 'CAL_OVERDUE', holds: figures.calibrationState === 'overdue', detail: `calibration overdue since ${due} / 校准已过期（${due}）` },
  ];
  const bumpDue = figures.bumpTestDueAt === null ? '' : formatDate(figures.bumpTestDueAt);
  reports.push({ type: 'BUMP_DUE', holds: figures.bumpTestState === 'overdue', detail: `bump test overdue since ${bumpDue} / 气体测试已过期（${bumpDue}）` });
  return reports.map((r) => (r.holds ? r : { type: r.type, holds: false }));
}

// Seed §8.4 and ALM-1: the LICENSE system alarm. It has two sources: `license:grace` holds while
// the appliance runs on grace with less than 24 h left before it locks, `license:locked` while it
// is locked. Which of them hold is a pure function of the evaluation and the time; the follower
// reports a source through the one system-condition port (core/system-conditions.ts) only when it
// changes — the first evaluation reports both, so a restart also clears one that no longer holds.
// The writer commits each report with its next batch and retries a failed commit (ALM-8).
import type { Evaluation } from '../../licensing/gate.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';

/** Seed §8.4: the LICENSE alarm once grace has less than this left. */
export const GRACE_ALARM_MS = 24 * 3_600_000;

export type LicenseAlarmSource = 'license:grace' | 'license:locked';

/** Which LICENSE alarm sources hold in this evaluation at `now`. */
export function licenseAlarms(evaluation: Evaluation, now: number): Record<LicenseAlarmSource, boolean> {
  return {
    'license:grace': evaluation.mode === 'grace' && evaluation.graceUntil !== null && evaluation.graceUntil - now < GRACE_ALARM_MS,
    'license:locked': evaluation.mode === 'locked',
  };
}

/** Raises and clears the LICENSE alarm as the evaluations go by. */
export function createLicenseAlarms(reportCondition: ReportSystemCondition) {
  const reported = new Map<LicenseAlarmSource, boolean>();

  function report(source: LicenseAlarmSource, holds: boolean, detail: string) {
    if (reported.get(source) === holds) return;
    reported.set(source, holds);
    reportCondition('LICENSE', source, { holds, detail });
  }

  return {
    follow(evaluation: Evaluation, now: number) {
      const holds = licenseAlarms(evaluation, now);
      report('license:grace', holds['license:grace'], evaluation.message);
      report('license:locked', holds['license:locked'], evaluation.message);
    },
  };
}

// OPS-2, seed §8.4: the appliance's schedule. Each job is a plain async function over stages
// built in app.ts; the scheduler owns timing, non-overlap and recording.
import type { Job } from './scheduler.ts';

export interface ScheduleDeps {
  /** ING-7: presence sweeps on its own 5 s timer (OFFLINE must not wait a minute); this is the backstop. */
  sweepOffline: () => number;
  health: () => Promise<unknown>;
  rollup: () => Promise<unknown>;
  archive: () => Promise<unknown>;
  /** LIC-3 daily check-in, filled by the licensing stage; absent = nothing to do. */
  checkIn?: () => Promise<unknown>;
  maintenance: () => Promise<unknown>;
  backup: () => Promise<unknown>;
  /** Issue 15.2: calibration and bump-test due dates → CAL_DUE / CAL_OVERDUE / BUMP_DUE; absent = none. */
  calibrationDue?: () => Promise<unknown>;
  /** Issue 15.3 (ALM-16): rolling STEL / TWA → EXPOSURE_STEL / EXPOSURE_TWA; absent = none. */
  exposure?: () => Promise<unknown>;
  archiveSchedule: string;
  backupSchedule: string;
}

export function appSchedule(deps: ScheduleDeps): Job[] {
  return [
    { name: 'offline-sweep', schedule: '* * * * *', run: async () => ({ went_offline: deps.sweepOffline() }) },
    { name: 'health', schedule: '*/5 * * * *', run: deps.health },
    // STO-3 roll-ups are incremental and cheap: every minute keeps charts current (the seed's
    // "hourly statistics" are the 1-hour roll-ups, done in the same pass).
    { name: 'rollup', schedule: '* * * * *', run: deps.rollup },
    { name: 'archive', schedule: deps.archiveSchedule, run: deps.archive },
    { name: 'license-check-in', schedule: '0 3 * * *', run: async () => (deps.checkIn ? deps.checkIn() : { skipped: 'no license check-in' }) },
    { name: 'maintenance', schedule: '0 4 * * *', run: deps.maintenance },
    { name: 'backup', schedule: deps.backupSchedule, run: deps.backup },
    // Daily after midnight (site time): due dates are days; the check also runs at start and after each record.
    { name: 'calibration-due', schedule: '10 0 * * *', run: async () => (deps.calibrationDue ? deps.calibrationDue() : { skipped: 'no calibration stage' }) },
    // Every minute: the 15-minute window moves by a fifteenth each run (GBZ 2.1-2019 PC-STEL).
    { name: 'exposure', schedule: '* * * * *', run: async () => (deps.exposure ? deps.exposure() : { skipped: 'no exposure stage' }) },
  ];
}

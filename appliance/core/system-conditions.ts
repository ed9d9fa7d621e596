// ALM-1: the one port through which the system's own parts (disk guard, archiver, backups, license
// guard, notification outbox) report a condition that is, or stops being, an alarm. They know
// nothing of the alarm lifecycle: app.ts wires the port to the writer thread, where the condition
// is committed with the next group commit like every other alarm change (ALM-8).
import type { SystemAlarmType } from '../contract/alarm.ts';

export interface SystemCondition {
  holds: boolean;
  /** What is wrong, in words (shown and sent). */
  detail?: string;
  /** A figure, e.g. free MB. */
  value?: number | null;
}

export type ReportSystemCondition = (type: SystemAlarmType, source: string, condition: SystemCondition) => void;

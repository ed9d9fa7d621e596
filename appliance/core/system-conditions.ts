// ALM-1: the one port through which the system's own parts (disk guard, archiver, backups, license
// guard, notification outbox) report a condition that is, or stops being, an alarm. They know
// nothing of the alarm lifecycle: app.ts wires the port to the writer thread, where the condition
// is committed with the next group commit like every other alarm change (ALM-8).
import type { DeviceConditionType, SystemAlarmType } from '../contract/alarm.ts';

export interface SystemCondition {
  holds: boolean;
  /** What is wrong, in words (shown and sent). */
  detail?: string;
  /** A figure, e.g. free MB. */
  value?: number | null;
}

export type ReportSystemCondition = (type: SystemAlarmType, source: string, condition: SystemCondition) => void;

/**
 * The same port for conditions of one detector that no reading decides (issue 15): a calibration
 * or bump test coming due or overdue (JJG 693-2011), an exposure limit exceeded over a time window
 * (GBZ 2.1-2019 PC-STEL / PC-TWA). `sn` is the device's serial; the record is the device's own.
 */
export type ReportDeviceCondition = (type: DeviceConditionType, sn: string, condition: SystemCondition) => void;


// Issue 17.7: what the API and the admin page may ask of the running uplink (sync/uplink.ts
// implements it; api/routes/uplink.ts uses it).
import type { UplinkStatus, UplinkTarget } from '../contract/uplink.ts';

export interface UplinkTestResult {
  ok: boolean;
  /** What happened, in words (English / 中文). */
  message: string;
}

export interface UplinkControl {
  /** Every configured target with its connection, backlog per lane, lag, pace and bytes today. */
  status(): UplinkStatus;
  /** An operator pauses (nothing sent, the backlog grows) or resumes a target; false: no such target. */
  setPaused(id: string, paused: boolean): boolean;
  /** Connects to a target (a saved one by id, or the unsaved form) and says whether it works. */
  test(target: UplinkTarget): Promise<UplinkTestResult>;
  /** The settings changed (saved through the settings store): targets are started, changed or stopped. */
  reload(): void;
}

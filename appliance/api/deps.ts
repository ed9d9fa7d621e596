// What the API needs from the other stages, wired by app.ts. Routes reach the stages only
// through these (ARCHITECTURE import rules), so inject() tests can build the server alone.
// Issue 18.1: each route plugin takes only the few of them it uses (`Pick<ApiDeps, …>` in its
// signature), so what a route depends on is read in one line and a test builds no more than that.
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { DeviceCommand } from '../contract/device-payload.ts';
import type { AlarmRecord } from '../contract/alarm.ts';
import type { DeviceService } from '../devices/service.ts';
import type { LiveState } from '../live/state.ts';
import type { LiveHub } from '../live/hub.ts';
import type { AlarmSettingsStore } from '../notify/alarm-settings.ts';
import type { AlarmRepository } from '../storage/alarms.ts';
import type { AuditRepository } from '../storage/audit.ts';
import type { ConfigRepository } from '../storage/config.ts';
import type { ReadingRepository } from '../storage/readings.ts';
import type { UserService } from '../users/service.ts';
import type { LicenseGate } from './access.ts';
import type { SystemFigures } from './routes/system.ts';
import type { Archiver } from '../archive/archiver.ts';
import type { Backups } from '../archive/backup.ts';
import type { StorageSettingsStore } from '../archive/settings.ts';
import type { Scheduler } from '../jobs/scheduler.ts';
import type { StorageTestResult } from '../contract/storage.ts';
import type { LicenseState } from '../contract/license.ts';
import type { CalibrationService } from '../calibration/service.ts';
import type { MaskService } from '../alarms/masks.ts';
import type { ExposureJob } from '../exposure/job.ts';
import type { LoginAudit } from '../users/login-audit.ts';
import type { ChannelKind } from '../contract/alarm.ts';
import type { SecretSpec } from '../core/secrets.ts';
import type { UplinkControl } from '../sync/control.ts';
import type { UplinkSettingsStore } from '../sync/settings.ts';

export interface ApiDeps {
  config: Config;
  clock: Clock;
  users: UserService;
  audit: AuditRepository;
  devices: DeviceService;
  readings: ReadingRepository;
  live: LiveState;
  hub: LiveHub;
  commands: { isConnected(sn: string): boolean; sendCommand(sn: string, command: DeviceCommand): Promise<void> };
  /** ALM-2/ALM-7: acknowledges through the writer thread (one path for every alarm write, ALM-8); what changed. */
  acknowledge: (ids: number[], by: string, comment: string) => Promise<AlarmRecord[]>;
  /** GB 16808 消音: a kiosk (or person) silenced the sound of the listed alarms; journaled through the writer. */
  silence: (by: string) => Promise<number>;
  alarmRepo: AlarmRepository;
  alarmSettings: AlarmSettingsStore;
  configRepo: ConfigRepository;
  figures: SystemFigures;
  archive: {
    storageSettings: StorageSettingsStore & { testConnection(input?: unknown): Promise<StorageTestResult> };
    archiver: Archiver;
    backups: Backups;
    scheduler: Scheduler;
  };
  license: LicenseGate & { state(): LicenseState; install(text: string): LicenseState };
  /** Issue 15.2: calibration and bump-test records and the due report. */
  calibration: CalibrationService;
  /** Issue 15.1: masking (屏蔽) detectors for maintenance and bump tests. */
  masks?: MaskService;
  /** Issue 15.3 (ALM-16): a detector's STEL / TWA figures now, as the exposure job judges them. */
  exposure: Pick<ExposureJob, 'figuresOf'>;
  /** Issue 16.11: failed logins and lock-outs audited, aggregated (users/login-audit.ts). */
  logins: LoginAudit;
  /** ALM-5 "test send" through notify's channels; which fields of a channel's settings are secrets. */
  channels: {
    secretsOf(kind: ChannelKind): SecretSpec;
    testSend(kind: ChannelKind, settings: unknown): Promise<{ detail?: unknown }>;
  };
  /** Issue 17 (SYNC-7): the cloud uplink's settings and the running uplink; its routes exist only when given. */
  uplink?: { settings: UplinkSettingsStore; control: UplinkControl };
}

// Issue 18.5: the small test API of createApp (`app.testApi`): the handles tests take on a running
// appliance, so the suite does not reach into `parts` and a part can be rebuilt without rippling
// through it. Not for production code; app.ts hands it out, nothing else imports it.
import type { App } from './app.ts';
import type { Clock } from './core/clock.ts';
import type { ReportSystemCondition } from './core/system-conditions.ts';
import type { AlarmSettings } from './contract/alarm.ts';
import type { testConnection } from './archive/s3.ts';
import type { AlarmRecord } from './contract/alarm.ts';
import type { DeviceCommand } from './contract/device-payload.ts';
import type { LicenseState } from './contract/license.ts';
import type { LiveCounts, LiveDeviceInfo } from './contract/live.ts';
import type { OpenMask } from './contract/masking.ts';
import type { JobStatus, StorageSettings } from './contract/storage.ts';
import type { UplinkStatus } from './contract/uplink.ts';
import type { Archiver } from './archive/archiver.ts';
import type { Backups } from './archive/backup.ts';
import type { BrokerStats } from './broker/broker.ts';
import type { Registration, Updated } from './devices/service.ts';
import type { DeviceIngestStats, Ingest } from './ingest/pipeline.ts';
import type { JobRunOutcome } from './jobs/scheduler.ts';
import type { DeviceFigures } from './live/state.ts';
import type { EscalatedStep } from './notify/escalation.ts';
import type { AttemptRow, OutboxRow } from './notify/outbox.ts';
import type { AlarmFilter, AlarmWithDevice, JournalEntry } from './storage/alarms.ts';
import type { AuditEntry, AuditFilter } from './storage/audit.ts';
import type { Device } from './storage/devices.ts';
import type { PendingDevice } from './storage/pending.ts';
import type { LatestReading } from './storage/readings.ts';

/**
 * Issue 18.5: the handles a test takes on a running appliance, named by what the test does; each is
 * a thin delegation to one part. Tests use these instead of reaching into `parts`, so a part can be
 * rebuilt by changing testApiOf below, not the suite. A test of a part's own internals (the writer's
 * raw rows, the disk guard's figures, a second API server on the same parts) still takes `parts`.
 * Counters and stats are the live objects: read them again after the effect, or keep them and compare.
 */
export interface AppTestApi {
  /** The broker's listening ports (`mqtts` 0 without TLS). */
  readonly ports: { readonly mqtt: number; readonly mqtts: number };

  // Devices, as an administrator registers and changes them (DEV-*, ING-3).
  /** Registers a device: its record and the password to connect with (null: the factory-derived one). */
  addDevice(input: unknown): Promise<Registration>;
  adoptDevice(input: unknown): Promise<Registration>;
  updateDevice(sn: string, input: unknown): Updated;
  resetDevicePassword(sn: string): Registration;
  removeDevice(sn: string): void;
  pendingDevices(): PendingDevice[];
  /** Puts a serial on the pending list, as if the broker had heard it unregistered (ING-3). */
  recordPendingDevice(entry: { sn: string; ts: number; messages: number; payload: string | null; remote: string | null }): void;
  /** The device's row as committed (status, last_seen). */
  storedDevice(sn: string): Device | undefined;

  // Ingest and storage (ING-*, STO-*).
  /** Resolves once everything queued for the writer so far (readings, status and condition changes) is committed, or failed. */
  flush(): Promise<void>;
  writerBacklog(): number;
  /** The device's stored readings with `ts` in [from, to) (default: all), oldest first. */
  storedReadings(sn: string, from?: number, to?: number): LatestReading[];
  readingCount(): number;
  ingestTotals(): Ingest['totals'];
  ingestStatsOf(sn: string): DeviceIngestStats | undefined;

  // The broker (issue 16) and presence (ING-7, issue 15.4).
  brokerStats(): BrokerStats;
  maxPacketBytes(): number;
  isConnected(sn: string): boolean;
  connectedDevices(): number;
  sendCommand(sn: string, command: DeviceCommand): Promise<void>;
  isOnline(sn: string): boolean;
  lastSeen(sn: string): number | null;
  /** When the grace of a device that left ends; null when it is not away. */
  awayUntil(sn: string): number | null;
  presenceCounts(): { online: number; offline: number };
  /** The offline sweep now (the `offline-sweep` job's work, without the scheduler); how many changed. */
  sweepOffline(): number;

  // Alarms (ALM-*): the committed picture, the stored records, and the ports that change them.
  activeAlarms(): AlarmRecord[];
  listedAlarms(): AlarmRecord[];
  alarmRecords(filter?: AlarmFilter): { total: number; items: AlarmWithDevice[] };
  alarmRecord(id: number): AlarmRecord | undefined;
  alarmJournal(id: number): JournalEntry[];
  /** Acknowledges on the writer, at the appliance's clock (ALM-2). */
  acknowledge(ids: number[], by: string, comment: string): Promise<AlarmRecord[]>;
  /** A system condition through the one port (ALM-1), committed with the writer's next batch. */
  reportSystemCondition: ReportSystemCondition;
  saveAlarmSettings(input: unknown): AlarmSettings;
  alarmSettings(): AlarmSettings;
  /** ALM-13: queues the escalation steps due now; the steps queued. */
  runEscalation(): EscalatedStep[];
  maskDevices(sns: string[], minutes: number | undefined, reason: string, by: string): Promise<OpenMask[]>;
  unmaskDevices(sns: string[], by: string): Promise<OpenMask[]>;
  /** Ends the masks whose time is up (the mask service's timer, now). */
  expireMasks(): Promise<OpenMask[]>;
  openMasks(): OpenMask[];

  // Notifications (ALM-3…ALM-6, 15.5): the outbox rows written with the alarm, and their delivery.
  outboxRows(alarmId: number): OutboxRow[];
  deliveryAttempts(outboxId: number): AttemptRow[];
  outboxBacklog(): number;
  /** Sends what is due now (retries after the clock moved) and waits for the sends to finish. */
  deliverDueNotifications(): Promise<void>;
  /** Waits for the sends under way to finish. */
  notificationsSettled(): Promise<void>;

  // The live picture (API-6, issue 15.6).
  liveFigures(sn: string): DeviceFigures;
  lastReadingAt(sn: string): number | null;
  liveFleet(): LiveDeviceInfo[];
  liveCounts(): LiveCounts;

  // Jobs, storage settings and the archive (OPS-2, ARC-*).
  /** Runs a scheduled job now by its name (jobs/schedule.ts), as the API's "run now" does. */
  runJob(name: string): Promise<JobRunOutcome>;
  jobs(): JobStatus[];
  saveStorageSettings(input: unknown): StorageSettings;
  /** The saved storage settings, secrets opened. */
  storageSettings(): StorageSettings;
  /** The storage settings as the API shows them (secrets redacted). */
  shownStorageSettings(): StorageSettings;
  /** ARC-1 "test connection": with `input` the unsaved settings, else the saved ones. */
  testStorageConnection(input?: unknown): ReturnType<typeof testConnection>;
  archiveStatus: Archiver['status'];
  archivedDays: Archiver['list'];
  downloadArchive: Archiver['download'];
  backups: Backups['list'];

  // The license (LIC-*), the uplink (issue 17), the audit log and the stored configuration.
  licenseState(): LicenseState;
  /** Reads the license file and the clock again; the state. */
  reevaluateLicense(): LicenseState;
  installLicense(text: string): LicenseState;
  licenseCheckIn(): Promise<LicenseState['last_checkin']>;
  uplinkStatus(): UplinkStatus;
  auditEntries(filter: AuditFilter): { total: number; items: AuditEntry[] };
  /** A `system_config` value as stored (sealed secrets stay sealed). */
  storedConfig<T>(key: string): T | undefined;
}

export function testApiOf(p: App['parts'], clock: Clock): AppTestApi {
  const { devices, writer, readings, ingest, broker, presence, alarms, alarmRepo, alarmSettings, masks, live, scheduler, storageSettings, license } = p;
  const outbox = p.notifier.outbox;
  return {
    ports: broker.ports,
    addDevice: (input) => devices.add(input),
    adoptDevice: (input) => devices.adopt(input),
    updateDevice: (sn, input) => devices.update(sn, input),
    resetDevicePassword: (sn) => devices.resetPassword(sn),
    removeDevice: (sn) => devices.remove(sn),
    pendingDevices: () => devices.pending(),
    recordPendingDevice: (entry) => p.pendingRepo.record(entry),
    storedDevice: (sn) => p.deviceRepo.get(sn),

    flush: () => writer.flush(),
    writerBacklog: () => writer.backlog(),
    storedReadings: (sn, from = 0, to = Number.MAX_SAFE_INTEGER) => readings.raw(sn, from, to),
    readingCount: () => readings.count(),
    ingestTotals: () => ingest.totals,
    ingestStatsOf: (sn) => ingest.perDevice.get(sn),

    brokerStats: () => broker.stats,
    maxPacketBytes: () => broker.limits.maxPacketBytes,
    isConnected: (sn) => broker.isConnected(sn),
    connectedDevices: () => broker.connectedDevices(),
    sendCommand: (sn, command) => broker.sendCommand(sn, command),
    isOnline: (sn) => presence.isOnline(sn),
    lastSeen: (sn) => presence.lastSeen(sn),
    awayUntil: (sn) => presence.awayUntil(sn),
    presenceCounts: () => presence.counts(),
    sweepOffline: () => presence.sweep(),

    activeAlarms: () => alarms.active(),
    listedAlarms: () => alarms.listed(),
    alarmRecords: (filter) => alarmRepo.list(filter),
    alarmRecord: (id) => alarmRepo.get(id),
    alarmJournal: (id) => alarmRepo.journal(id),
    acknowledge: (ids, by, comment) => writer.acknowledge(ids, by, comment, clock.now()),
    reportSystemCondition: p.reportCondition,
    saveAlarmSettings: (input) => alarmSettings.save(input),
    alarmSettings: () => alarmSettings.current(),
    runEscalation: () => p.escalation.runDue(),
    maskDevices: (sns, minutes, reason, by) => masks.mask(sns, minutes, reason, by),
    unmaskDevices: (sns, by) => masks.unmask(sns, by),
    expireMasks: () => masks.expire(),
    openMasks: () => masks.list(),

    outboxRows: (alarmId) => outbox.forAlarm(alarmId),
    deliveryAttempts: (outboxId) => outbox.attempts(outboxId),
    outboxBacklog: () => outbox.backlog(),
    deliverDueNotifications: async () => {
      outbox.runDue();
      await outbox.settled();
    },
    notificationsSettled: () => outbox.settled(),

    liveFigures: (sn) => live.figures(sn),
    lastReadingAt: (sn) => live.lastReadingAt(sn),
    liveFleet: () => live.fleet(),
    liveCounts: () => live.counts(),

    runJob: (name) => scheduler.runNow(name),
    jobs: () => scheduler.status(),
    saveStorageSettings: (input) => storageSettings.save(input),
    storageSettings: () => storageSettings.current(),
    shownStorageSettings: () => storageSettings.redacted(),
    testStorageConnection: (input) => storageSettings.testConnection(input),
    archiveStatus: () => p.archiver.status(),
    archivedDays: () => p.archiver.list(),
    downloadArchive: (day, part) => p.archiver.download(day, part),
    backups: () => p.backups.list(),

    licenseState: () => license.state(),
    reevaluateLicense: () => license.refresh(),
    installLicense: (text) => license.install(text),
    licenseCheckIn: () => license.checkIn(),
    uplinkStatus: () => p.uplink.control.status(),
    auditEntries: (filter) => p.audit.list(filter),
    storedConfig: (key) => p.configRepo.get(key),
  };
}

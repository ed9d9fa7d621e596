// The composition root (ARCHITECTURE): builds the stages in flow order —
//   broker → ingest → writer (readings + alarm rules + outbox rows, one transaction, ALM-8)
//     → committed events → alarm picture → bus → live / hub (WebSocket) / notifier (outbox → channels)
// — with presence, the license guard, the API and the jobs beside it. start() goes from the
// database up to the broker; stop() in reverse, so on SIGTERM the broker stops accepting first and
// the writer flushes last (its last commits still reach the alarm picture and the notifier).
import type { Config } from './core/config.ts';
import type { Logger } from './core/log.ts';
import { createBus } from './core/bus.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAlarmPicture } from './alarms/picture.ts';
import { commitSettingsOf, type AlarmCommitSettings, type AlarmSettings } from './contract/alarm.ts';
import type { ReportDeviceCondition, ReportSystemCondition } from './core/system-conditions.ts';
import { createCalibrationRepository } from './calibration/repository.ts';
import { createCalibrationService } from './calibration/service.ts';
import { createExposureJob } from './exposure/job.ts';
import { createApiServer } from './api/server.ts';
import { createBroker } from './broker/broker.ts';
import { createDeviceCache } from './devices/cache.ts';
import { createDeviceService } from './devices/service.ts';
import { createIngest } from './ingest/pipeline.ts';
import { createLicenseGuard } from './license/guard.ts';
import { VENDOR_PUBLIC_KEY_PEM } from '../licensing/vendor-public-key.ts';
import { createPresence, withRebootGrace } from './ingest/presence.ts';
import { dbFileIn, openDb, schemaVersion, type Db } from './storage/db.ts';
import { createAlarmRepository } from './storage/alarms.ts';
import { createConfigRepository } from './storage/config.ts';
import { createSecretBox } from './core/secrets.ts';
import { createAlarmSettings } from './notify/alarm-settings.ts';
import { sealChannelSecretsAtRest } from './notify/secrets-at-rest.ts';
import { createNotifier } from './notify/notifier.ts';
import { createLinkageDelivery } from './notify/linkage.ts';
import { createEscalation } from './notify/escalation.ts';
import { createDeviceRepository } from './storage/devices.ts';
import { createGroupCommitWriter, isDiskError } from './storage/group-commit.ts';
import { diskBudgetFor, type DiskBudget } from './storage/disk-budget.ts';
import { createPendingRepository } from './storage/pending.ts';
import { createReadingRepository } from './storage/readings.ts';
import { createAuditRepository } from './storage/audit.ts';
import { createUserRepository } from './storage/users.ts';
import { createJwt, loadJwtSecret } from './users/jwt.ts';
import { createLoginLimiter, DEFAULT_LOGIN_LIMITS } from './users/login-limiter.ts';
import { createLoginAudit } from './users/login-audit.ts';
import { CHANNELS, testSend } from './notify/channels/index.ts';
import { createUserService } from './users/service.ts';
import { createLiveState } from './live/state.ts';
import { createLiveHub } from './live/hub.ts';
import { createMaskService } from './alarms/masks.ts';
import { createMaskRepository } from './storage/masks.ts';
import { createArchiver } from './archive/archiver.ts';
import { createBackups } from './archive/backup.ts';
import { createDiskGuard, type StatFs } from './archive/disk-guard.ts';
import { testConnection } from './archive/s3.ts';
import { createStorageSettings } from './archive/settings.ts';
import { createMaintenance } from './jobs/maintenance.ts';
import { appSchedule } from './jobs/schedule.ts';
import { createScheduler } from './jobs/scheduler.ts';
import { createJobRunRepository } from './storage/job-runs.ts';
import { testApiOf, type AppTestApi } from './test-api.ts';
import { createUplinkSettings } from './sync/settings.ts';
import { createUplink } from './sync/uplink.ts';
import { createClockTrust, systemNtpProbe } from './sync/clock-trust.ts';
import { createTransport, type BackoffOptions } from './sync/transports/index.ts';
import { readMachineId } from '../licensing/machine-id.ts';

export interface AppOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Test hook: caps the database size to exercise "disk full" for real. */
  maxPageCount?: number;
  /** A stage failed beyond repair (the writer thread died); main.ts exits so systemd restarts. */
  onFatal?: (error: Error) => void;
  version?: string;
  /** Test hook for the disk guard (STO-4): a small artificial disk. */
  statfs?: StatFs;
  /**
   * Test hook: the vendor public key (PEM) licenses are checked with; default the compiled-in
   * licensing/vendor-public-key.ts. Deliberately not a config setting: a key the customer could
   * configure would let anyone sign their own license.
   */
  licensePublicKeyPem?: string;
  /** Test hook: how the license check-in reaches the server. */
  licenseFetch?: typeof fetch;
  /** Test hook: the alarm evaluation of this device's readings throws `times` times (ALM-8). */
  failEvaluation?: { sn: string; times: number };
  /** Test hook (SYNC-6): whether NTP has synchronised the clock; default the system's (timesyncd, timedatectl). */
  ntpSynced?: () => boolean;
  /** Test hook (SYNC-4): the cloud links' reconnect pacing; default from 1 s up to 60 s with full jitter. */
  uplinkBackoff?: BackoffOptions;
}

const STATS_LOG_EVERY_MS = 60_000;

export function createApp({ config, log, clock = systemClock, maxPageCount, onFatal, version = '0.0.0', statfs, licensePublicKeyPem, licenseFetch, failEvaluation, ntpSynced, uplinkBackoff }: AppOptions) {
  const dbFile = dbFileIn(config.data_dir);
  const bus = createBus();
  let db: Db | null = null;

  // Built in start(), once the database is open; typed here for the accessors.
  let parts: ReturnType<typeof build> | null = null;

  function build(db: Db, diskBudget: DiskBudget) {
    // Storage, and the settings the writer judges readings by.
    const deviceRepo = createDeviceRepository(db);
    const pendingRepo = createPendingRepository(db);
    const readings = createReadingRepository(db);
    const alarmRepo = createAlarmRepository(db);
    const configRepo = createConfigRepository(db);
    const box = createSecretBox(config.data_dir);
    const alarmSettings = createAlarmSettings({ config: configRepo, box, clock });
    const commitSettings = alarmCommitSettings(() => alarmSettings.current(), () => alarmSettings.enabledChannels(), config.site.timezone);
    const deviceCache = createDeviceCache(deviceRepo);
    const devices = createDeviceService({ devices: deviceRepo, pending: pendingRepo, clock, onChange: () => deviceCache.reload() });

    // The committed side: the writer's events become the alarm picture, then the bus.
    const alarms = createAlarmPicture({ bus, clock, log, loadListed: () => alarmRepo.listed() });
    const writer = createGroupCommitWriter({
      file: dbFile,
      synchronous: config.storage.synchronous,
      cacheMb: 16,
      commitIntervalMs: config.ingest.commit_interval_ms,
      commitMaxRows: config.ingest.commit_max_rows,
      queueLimit: config.ingest.queue_limit, // issue 16.8: beyond it a reading is refused (no PUBACK)
      walLimitBytes: diskBudget.walLimitBytes, // STO-4: the WAL bounded, the reserve kept free
      reserveBytes: diskBudget.reserveBytes,
      maxPageCount,
      failEvaluation,
      alarmSettings: commitSettings,
      onAlarms: (events) => alarms.committed(events),
      log,
      onFatal,
    });
    // ALM-1: every system condition reaches the alarm lifecycle through this one port, committed
    // with the writer's next batch (retried if that commit fails).
    const reportCondition: ReportSystemCondition = (type, source, { holds, detail = null, value = null }) =>
      writer.enqueueUpdate({ op: 'system', type, source, holds, detail, value, at: clock.now() });
    // Issue 15: the same port for a device's own conditions that jobs decide (calibration due, exposure).
    const reportDeviceCondition: ReportDeviceCondition = (type, sn, { holds, detail = null, value = null }) =>
      writer.enqueueUpdate({ op: 'device', type, sn, holds, detail, value, at: clock.now() });

    // The flow: broker → ingest → writer.
    const presence = createPresence({
      bus, clock, timeoutMs: config.ingest.offline_timeout_s * 1000,
      graceMs: config.ingest.offline_grace_s * 1000, rebootGraceMs: config.ingest.reboot_grace_s * 1000,
    });
    const ingest = createIngest({ devices: deviceCache, writer, presence, bus, clock, log, clockSkewMs: config.ingest.clock_skew_s * 1000 });
    const broker = createBroker({
      devices: deviceCache,
      ingest,
      log,
      host: config.mqtt.host,
      port: config.mqtt.port,
      tls: config.mqtt.tls_cert ? { port: config.mqtt.tls_port, cert: config.mqtt.tls_cert, key: config.mqtt.tls_key } : undefined,
      factorySecret: config.mqtt.factory_secret,
      adminPassword: config.mqtt.admin_password,
      deviceLimit: () => license.maxDevices(), // LIC-5
      maxPacketBytes: config.mqtt.max_packet_bytes, // issue 16.1
      connectTimeoutMs: config.mqtt.connect_timeout_s * 1000,
      // Issue 16.4: failed MQTT logins throttled per client address and per user name, one summary line a window.
      loginThrottle: createLoginLimiter(clock, DEFAULT_LOGIN_LIMITS, { log: log.child({ stage: 'broker' }), what: 'MQTT login' }),
    });

    // After the commit: notifications (their outbox rows were written with the alarm).
    const notifier = createNotifier({
      db, bus, alarms: alarmRepo, devices: deviceCache, settings: alarmSettings, clock, log, reportCondition,
      site: { language: config.site.language, timezone: config.site.timezone },
      // Issue 15.5: linkage actions (relay commands to output modules, webhooks) through the same outbox.
      linkage: createLinkageDelivery({ rules: () => alarmSettings.current().linkage, commands: broker, bus }),
    });
    // ALM-13: unacknowledged alarms notified again to the escalation recipients, through the outbox.
    const escalation = createEscalation({
      db, clock, log, settings: () => alarmSettings.current(), timezone: config.site.timezone, onQueued: () => notifier.outbox.wake(),
    });
    // LIC-*: what the box may do; it never stops readings, alarms or notifications (LIC-4).
    const license = createLicenseGuard({
      settings: {
        file: config.license.file, serverUrl: config.license.server_url, machineId: config.license.machine_id,
        timeoutMs: config.license.timeout_s * 1000,
      },
      dataDir: config.data_dir,
      publicKeyPem: licensePublicKeyPem ?? VENDOR_PUBLIC_KEY_PEM,
      version, clock, log, bus, fetchImpl: licenseFetch,
      devicesUsed: () => broker.connectedDevices(),
      reportCondition, // seed §8.4: LICENSE system alarms (grace ending, locked)
    });
    // The LAN side: users and sessions (API-3), the audit log (API-5), the live picture and its WebSocket hub (API-6).
    const users = createUserService({ users: createUserRepository(db), jwt: createJwt(loadJwtSecret(config.data_dir)), clock, log });
    const audit = createAuditRepository(db);
    const live = createLiveState({
      bus, latestAll: () => readings.latestAll(), devices: deviceCache, isOnline: (sn) => presence.isOnline(sn), activeAlarms: () => alarms.active(),
      lastSeen: (sn) => presence.lastSeen(sn), linkFigures: (sn) => ingest.linkFigures(sn), // issue 15.6: the device page
    });
    const hub = createLiveHub({
      bus, clock, log, live, listedAlarms: () => alarms.listed(),
      history: (sn, from, to) => readings.history(sn, from, to, '1m'), isKnownDevice: (sn) => deviceCache.get(sn) !== undefined,
      onDevicesChanged: (listener) => deviceCache.onReload(listener),
      maskOf: (sn) => { // issue 15.1: the kiosk knows a masked alarm (and whether level 2 still sounds)
        const mask = masks.of(sn);
        return mask ? { until: mask.until, sounds: masks.settings().level2_sounds } : undefined;
      },
    });
    // Issue 15.1: masks (屏蔽) are decided on the writer; the views and the expiry live here.
    const masks = createMaskService({ writer, loadOpen: () => createMaskRepository(db).open(), config: configRepo, clock, log, onChange: () => hub.resnapshot() });
    // Issue 15.2 (JJG 693-2011): calibration and bump-test records, due dates and their alarms.
    const calibration = createCalibrationService({
      repo: createCalibrationRepository(db), devices, commands: broker, reportCondition: reportDeviceCondition, clock, log,
      allDevices: () => [...deviceCache.all()].filter((d) => d.kind === 'detector'), // issue 15.5: an output module is never calibrated
      timezone: config.site.timezone,
      defaults: { intervalDays: config.calibration.interval_days, bumpTestDays: config.calibration.bump_test_days, dueLeadDays: config.calibration.due_lead_days },
    });
    // Issue 15.3 (ALM-16, GBZ 2.1-2019): rolling STEL / TWA of toxic-gas detectors from the minute
    // averages, judged against the committed alarm picture; a value stands while its detector counts as online.
    const exposure = createExposureJob({
      devices: () => deviceCache.all(), minutes: (sn, from, to) => readings.history(sn, from, to, '1m').map((p) => ({ ts: p.ts, value: p.avg })),
      report: reportDeviceCondition, isActive: (type, sn) => alarms.active().some((a) => a.type === type && a.source === sn),
      deadbandPct: () => alarmSettings.current().deadband_pct, clock, maxHoldMs: config.ingest.offline_timeout_s * 1000,
    });
    const archive = buildArchive(db, { writer, reportCondition, presence, configRepo, box, diskBudget, calibration });
    // Issue 17: the cloud uplink — off until a target is configured (Admin → System → Cloud sync).
    const uplinkSettings = createUplinkSettings({
      configRepo, secrets: box, clock, log,
      machineId: () => {
        const machine = readMachineId({ override: config.license.machine_id || undefined });
        return machine.ok ? machine.machineId : null;
      },
    });
    const clockTrust = createClockTrust({ db, clock, log: log.child({ stage: 'clock' }), ntpSynced: ntpSynced ?? systemNtpProbe() });
    const uplink = createUplink({
      db, clock, log: log.child({ stage: 'uplink' }), settings: uplinkSettings,
      createTransport: (target, context) => createTransport(target, { ...context, backoff: uplinkBackoff }),
      clockUnsyncedAt: clockTrust.unsyncedAt, clockSynced: clockTrust.synced,
      acknowledge: (ids, by, comment) => writer.acknowledge(ids, by, comment, clock.now()),
      reportCondition, onAlarm: (listener) => bus.on('alarm', listener),
    });
    return {
      calibration, reportDeviceCondition, masks, exposure, uplinkSettings, uplink, clockTrust,
      deviceRepo, pendingRepo, readings, writer, deviceCache, devices, presence, ingest, broker, alarmRepo, alarms, alarmSettings, notifier, escalation,
      configRepo, box, users, audit, live, hub, license, reportCondition, ...archive,
    };
  }

  /** ARC-*, STO-3/4, OPS-2: storage settings, archive, backups, disk guard and the job schedule. */
  function buildArchive(
    db: Db,
    { writer, reportCondition, presence, configRepo, box, diskBudget, calibration }: {
      calibration: ReturnType<typeof createCalibrationService>;
      writer: ReturnType<typeof createGroupCommitWriter>; reportCondition: ReportSystemCondition; presence: ReturnType<typeof createPresence>;
      configRepo: ReturnType<typeof createConfigRepository>; box: ReturnType<typeof createSecretBox>; diskBudget: DiskBudget;
    },
  ) {
    const settingsStore = createStorageSettings({ config: configRepo, box, clock });
    const storageSettings = {
      ...settingsStore,
      /** ARC-1 "test connection": with `input` the unsaved settings from the form, else the saved ones. */
      testConnection: (input?: unknown) => testConnection(input === undefined ? settingsStore.current() : settingsStore.validate({ ...(input as object), enabled: false }), clock.now),
    };
    const archiver = createArchiver({
      db, dbFile, writer, settings: settingsStore, reportCondition, clock, log, timezone: config.site.timezone, retentionDays: config.storage.retention_days,
      rolledUpTo: () => (db.prepare("SELECT watermark FROM rollup_state WHERE name = '1m'").pluck().get() as number | undefined) ?? 0,
    });
    const backups = createBackups({ db, dataDir: config.data_dir, settings: settingsStore, clock, log, keep: config.archive.backups_keep, reportCondition });
    const diskGuard = createDiskGuard({
      db, dataDir: config.data_dir, lowFreeMb: config.storage.disk_low_free_mb, criticalFreeMb: config.storage.disk_critical_free_mb,
      writer, archiver, archivingEnabled: () => settingsStore.enabled(), reportCondition, clock, log, timezone: config.site.timezone, statfs,
      reserveBytes: diskBudget.reserveBytes,
      uplinkBacklog: { cutKeys: (before, limit) => parts?.uplink.queue.cutKeys(before, limit) ?? 0 }, // issue 17 (SYNC-3)
    });
    // Issue 16.8: a commit that failed on the disk runs the guard at once, not at its next 5-minute job.
    writer.onCommitFailed((error) => {
      if (isDiskError(error)) diskGuard.pressure('a commit failed on the disk');
    });
    const maintenance = createMaintenance({
      db, writer, clock, rollup1mDays: config.storage.rollup_1m_days, rollup1hDays: config.storage.rollup_1h_days,
    });
    const scheduler = createScheduler({
      timezone: config.site.timezone, clock, log, runs: createJobRunRepository(db),
      jobs: appSchedule({
        sweepOffline: () => presence.sweep(),
        health: () => diskGuard.check(),
        rollup: () => writer.rollup(clock.now()),
        archive: async () => {
          // LIC-4: archiving stops while the license is locked (readings and alarms go on).
          if (parts && !parts.license.allows('archive')) return { skipped: 'license locked' };
          const result = await archiver.run();
          // The job shows failed (archive_log and the ARCHIVE alarm hold the details).
          if (result.failed) throw new Error(`archive of ${result.failed.day} failed: ${result.failed.error}`);
          return result;
        },
        // LIC-3: the daily 03:00 check-in; the guard also checks in at start and retries hourly after a failure.
        checkIn: async () => (parts ? parts.license.checkIn() : null),
        maintenance: () => maintenance.run(),
        backup: () => backups.backupNow(),
        calibrationDue: () => calibration.check(),
        exposure: async () => (parts ? parts.exposure.run() : null),
        archiveSchedule: config.archive.schedule,
        backupSchedule: config.archive.backup_schedule,
      }),
    });
    return { storageSettings, archiver, backups, diskGuard, scheduler };
  }

  let statsTimer: NodeJS.Timeout | null = null;
  let api: FastifyInstance | null = null;
  let httpPort = 0;
  /** API-4: the first admin's password generated at this start (for the terminal banner), else null. */
  let oneTimeAdminPassword: string | null = null;

  /** OPS-1 figures for /api/system/health and /metrics, read from the stages' own counters. */
  function figures(db: Db, p: ReturnType<typeof build>) {
    return {
      version,
      dataDir: config.data_dir,
      dbFile,
      schemaVersion: () => schemaVersion(db),
      ingest: p.ingest.totals,
      broker: p.broker.stats,
      writerBacklog: () => p.writer.backlog(),
      lastCommitMs: () => p.writer.stats.lastCommitMs,
      commitFailures: p.writer.stats,
      presence: () => p.presence.counts(),
      activeAlarms: () => p.alarms.active().length,
      outboxBacklog: () => p.notifier.outbox.backlog(),
      failingChannels: () => p.notifier.outbox.failingChannels(),
      wsClients: () => p.hub.clientCount(),
      uplink: () => p.uplink.control.status().targets,
      /** LIC: the license state for the health answer (`license` component) and the UI. */
      license: () => p.license.state(),
    };
  }

  /** OPS-3: one line a minute with the pipeline's counters (never a line per message). */
  function logStats() {
    if (!parts) return;
    const { ingest, broker, writer, presence } = parts;
    const { received, stored, duplicates, pending, dropped } = ingest.totals;
    const droppedNow = Object.fromEntries(Object.entries(dropped).filter(([, n]) => n > 0));
    log.info({
      stage: 'stats', received, stored, duplicates, pending, dropped: droppedNow, connections: broker.stats.connected,
      refused: broker.stats.refused, acl_violations: broker.stats.aclViolations, ...presence.counts(),
      backlog: writer.backlog(), last_batch_rows: writer.stats.lastBatchRows, last_commit_ms: Math.round(writer.stats.lastCommitMs),
    }, 'pipeline');
  }
  const unsubscribers: (() => void)[] = [];

  return {
    bus,
    clock,
    get parts() {
      if (!parts) throw new Error('app not started');
      return parts;
    },
    /** Issue 18.5: the handles tests take on the running appliance (AppTestApi, below); not for production code. */
    get testApi(): AppTestApi {
      return testApiOf(this.parts, clock);
    },
    /** The HTTP API (for inject() in tests). */
    get api(): FastifyInstance {
      if (!api) throw new Error('app not started');
      return api;
    },
    async start() {
      const diskBudget = diskBudgetFor(config.data_dir, config.storage.wal_limit_mb);
      db = openDb(dbFile, { synchronous: config.storage.synchronous, cacheMb: 8, walLimitBytes: diskBudget.walLimitBytes });
      parts = build(db, diskBudget);
      sealChannelSecretsAtRest(db, parts.box, log); // issue 16.6: keys an older version stored in clear, before anything else writes
      const { writer, deviceCache, deviceRepo, presence, broker, readings, alarms, notifier, license, audit } = parts;
      await writer.start(); // reconciles the active alarms with every device's latest reading (ALM-8)
      alarms.load(); // the committed picture, then the reconciliation's events on the bus
      deviceCache.start();
      notifier.start(); // wakes on alarm events; resumes what is pending in the outbox
      parts.calibration.start(); // issue 15.2: what fell due while stopped is raised now
      parts.escalation.start(); // ALM-13: steps that fell due while stopped are queued now
      license.start(); // the gate is consulted before the broker admits a device (LIC-5)
      // In-memory state is rebuilt from SQLite: when each device was last heard from.
      const lastReceived = new Map(readings.latestAll().map((r) => [r.sn, r.received_at]));
      presence.restore(
        deviceRepo.all().map((d) => [d.sn, Math.max(d.last_seen ?? 0, lastReceived.get(d.sn) ?? 0) || null, d.status === 'online']),
      );
      unsubscribers.push(
        // ING-7 + ALM-1: the device's status and its OFFLINE alarm ride the next commit together.
        bus.on('device_status', (event) => {
          writer.enqueueUpdate({ op: 'status', sn: event.sn, status: event.status, lastSeen: presence.lastSeen(event.sn), reason: event.reason, at: event.ts });
        }),
      );
      presence.start();
      parts.live.start();
      parts.hub.start();
      parts.masks.start(); // issue 15.1: ends expired masks
      parts.clockTrust.start(); // SYNC-6: spans of an unsynchronised clock, before anything is sent
      parts.uplink.start(); // issue 17: the configured cloud targets resume from their cursors
      oneTimeAdminPassword = (await parts.users.ensureFirstAdmin(config.admin.password)).generated; // API-4
      await broker.start();
      api = createApiServer({
        log, config, clock, figures: figures(db, parts), users: parts.users, audit: parts.audit, devices: parts.devices,
        readings, live: parts.live, hub: parts.hub, commands: withRebootGrace(broker, parts.presence), acknowledge: (ids, by, comment) => writer.acknowledge(ids, by, comment, clock.now()),
        silence: (by) => writer.silence(alarms.listed().map((alarm) => alarm.id), by, clock.now()), alarmRepo: parts.alarmRepo,
        alarmSettings: parts.alarmSettings, configRepo: parts.configRepo, license: parts.license, calibration: parts.calibration, masks: parts.masks, exposure: parts.exposure,
        archive: { storageSettings: parts.storageSettings, archiver: parts.archiver, backups: parts.backups, scheduler: parts.scheduler },
        uplink: { settings: parts.uplinkSettings, control: parts.uplink.control },
        logins: createLoginAudit({ record: (entry) => audit.record(entry), clock }),
        channels: {
          secretsOf: (kind) => CHANNELS[kind],
          testSend: (kind, settings) => testSend(kind, settings, { language: config.site.language, timezone: config.site.timezone, clock }),
        },
      });
      await api.listen({ host: config.http.host, port: config.http.port });
      httpPort = (api.server.address() as AddressInfo).port;
      parts.scheduler.start(); // OPS-2: roll-ups, archive, backup, maintenance, health, check-in
      parts.diskGuard.start(); // STO-4: the free-space watch and pressure checks (issue 16.8)
      statsTimer = setInterval(logStats, STATS_LOG_EVERY_MS);
      statsTimer.unref();
    },
    /** OPS-4: stop accepting, flush pending commits, close the database. */
    async stop() {
      await parts?.scheduler.stop(); // lets a running job finish while the writer is still there
      await parts?.diskGuard.stop();
      if (statsTimer) clearInterval(statsTimer);
      logStats();
      parts?.hub.stop();
      parts?.masks.stop();
      await parts?.uplink.stop(); // cursors saved: a restart resends only the unacknowledged tail
      parts?.clockTrust.stop();
      if (api) await api.close();
      api = null;
      if (parts) {
        parts.live.stop();
        const { broker, presence, deviceCache, writer, notifier, license } = parts;
        await broker.stop();
        await license.stop();
        presence.stop();
        deviceCache.stop();
        await writer.stop(); // the last commits still reach the alarm picture and the notifier
        parts.escalation.stop();
        await notifier.stop();
      }
      for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
      db?.close();
      db = null;
    },
    /** The first admin's password generated at this start, or null (issue 18.7: the terminal banner). */
    oneTimeAdminPassword: () => oneTimeAdminPassword,
    summary() {
      const p = this.parts;
      return {
        dataDir: config.data_dir,
        database: dbFile,
        mqtt: p.broker.ports.mqtt,
        mqtts: p.broker.ports.mqtts || null,
        http: httpPort,
        devices: p.deviceCache.size(),
        timezone: config.site.timezone,
        license: p.license.mode(),
      };
    },
  };
}
export type App = ReturnType<typeof createApp>;

/**
 * The alarm settings as the writer thread needs them (AlarmCommitSettings), rebuilt only when the
 * stored settings changed: the same object otherwise, so the writer is sent them once per change.
 */
function alarmCommitSettings(current: () => AlarmSettings, enabledChannels: () => string[], timezone: string): () => AlarmCommitSettings {
  let source: AlarmSettings | null = null;
  let built: AlarmCommitSettings | null = null;
  return () => {
    const settings = current();
    if (settings !== source || !built) {
      source = settings;
      built = commitSettingsOf(settings, enabledChannels(), timezone);
    }
    return built;
  };
}

// Issue 17.7 test support: the appliance's API server built from a running appliance's parts
// (same database, users, audit log and secret key) with the uplink's settings store and a fake
// UplinkControl, so the routes and the admin page are tested before and apart from the uplink
// service itself (sync/uplink.ts has its own tests through a real broker). The fake answers
// status() from the stored settings, with the figures a test sets per target.
import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../../appliance/api/server.ts';
import { CHANNELS, testSend } from '../../appliance/notify/channels/index.ts';
import type { UplinkStatus, UplinkTarget, UplinkTargetStatus } from '../../appliance/contract/uplink.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import type { UplinkControl, UplinkTestResult } from '../../appliance/sync/control.ts';
import { createUplinkSettings, type UplinkSettingsStore } from '../../appliance/sync/settings.ts';
import { createLoginAudit } from '../../appliance/users/login-audit.ts';
import { testConfig, type RunningApp } from '../helpers/appliance.ts';

export const TEST_MACHINE_ID = '0123456789abcdef0123456789abcdef';

export interface FakeUplink {
  control: UplinkControl;
  settings: UplinkSettingsStore;
  calls: { reload: number; paused: [string, boolean][]; tested: UplinkTarget[] };
  /** Figures a target's status shows (the rest follows its settings: name, kind, enabled, paused). */
  figures: Map<string, Partial<UplinkTargetStatus>>;
  /** What the next test() answers. */
  testAnswer: (target: UplinkTarget) => UplinkTestResult | Promise<UplinkTestResult>;
  clockSynced: boolean;
}

export function fakeUplink(settings: UplinkSettingsStore): FakeUplink {
  const fake: FakeUplink = {
    settings,
    calls: { reload: 0, paused: [], tested: [] },
    figures: new Map(),
    testAnswer: (target) => ({ ok: true, message: `connected to ${'url' in target ? target.url : target.kind}` }),
    clockSynced: true,
    control: {
      status(): UplinkStatus {
        return {
          box_id: settings.boxId(),
          clock_synced: fake.clockSynced,
          targets: settings.load().targets.map((t) => ({
            id: t.id, name: t.name, kind: t.kind, enabled: t.enabled, paused: t.paused,
            connected: t.enabled && !t.paused, last_error: null, last_ack_at: null,
            lanes: (['alarm', 'device', 'live', 'backfill'] as const).map((lane) => ({ lane, depth: 0, oldest_at: null })),
            backlog: 0, lag_s: 0, rate_per_s: 0, drain_estimate_s: null, bytes_today: 0, records_today: 0, downsampled: 0, gaps: 0,
            ...fake.figures.get(t.id),
          })),
        };
      },
      setPaused(id, paused) {
        fake.calls.paused.push([id, paused]);
        return settings.load().targets.some((t) => t.id === id);
      },
      async test(target) {
        fake.calls.tested.push(target);
        return fake.testAnswer(target);
      },
      reload() {
        fake.calls.reload++;
      },
    },
  };
  return fake;
}

/**
 * A second API server on the running appliance's parts, with `deps.uplink` given: the wiring
 * app.ts does, plus the uplink (so it takes `parts` themselves, not the test API). `listen` serves it on a loopback port (for the browser).
 */
export async function uplinkApiServer(running: RunningApp, options: { listen?: boolean } = {}): Promise<{ server: FastifyInstance; uplink: FakeUplink; http: string }> {
  const { app, clock, dataDir } = running;
  const p = app.parts;
  const config = testConfig(dataDir);
  const log = silentLogger();
  const settings = createUplinkSettings({ configRepo: p.configRepo, secrets: p.box, machineId: TEST_MACHINE_ID, clock, log });
  const uplink = fakeUplink(settings);
  const zero = () => 0;
  const server = createApiServer({
    log, config, clock, users: p.users, audit: p.audit, devices: p.devices, readings: p.readings, live: p.live, hub: p.hub, commands: p.broker,
    acknowledge: (ids, by, comment) => p.writer.acknowledge(ids, by, comment, clock.now()),
    silence: (by) => p.writer.silence(p.alarms.listed().map((alarm) => alarm.id), by, clock.now()),
    alarmRepo: p.alarmRepo, alarmSettings: p.alarmSettings, configRepo: p.configRepo, license: p.license, calibration: p.calibration,
    masks: p.masks, exposure: p.exposure,
    figures: {
      version: '0.0.0-test', dataDir, dbFile: `${dataDir}/mcs.db`, schemaVersion: zero,
      ingest: p.ingest.totals, broker: p.broker.stats, writerBacklog: zero, lastCommitMs: zero,
      commitFailures: p.writer.stats, presence: () => p.presence.counts(), activeAlarms: zero, outboxBacklog: zero,
      failingChannels: () => [], wsClients: zero,
    },
    archive: { storageSettings: p.storageSettings, archiver: p.archiver, backups: p.backups, scheduler: p.scheduler },
    logins: createLoginAudit({ record: (entry) => p.audit.record(entry), clock }),
    channels: { secretsOf: (kind) => CHANNELS[kind], testSend: (kind, s) => testSend(kind, s, { language: 'en', timezone: 'UTC', clock }) },
    uplink: { settings, control: uplink.control },
  });
  let http = '';
  if (options.listen) {
    await server.listen({ host: '127.0.0.1', port: 0 });
    http = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  } else {
    await server.ready();
  }
  return { server, uplink, http };
}

// OPS-1: GET /api/system/health (seed §8.4) and GET /metrics (Prometheus text). Both read figures
// the stages already keep in memory; the only I/O is one statfs of the data dir.
import { statfs, stat } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AuditEntryView, iso, Paged, TimeParam } from '../../contract/api.ts';
import type { UplinkTargetStatus } from '../../contract/uplink.ts';
import type { ApiDeps } from '../deps.ts';
import { timeParam } from './ranges.ts';
import { auditor } from '../audit.ts';
import { LicenseStateSchema } from '../../contract/license.ts';

export interface SystemFigures {
  version: string;
  dataDir: string;
  dbFile: string;
  schemaVersion: () => number;
  ingest: { received: number; stored: number; duplicates: number; pending: number; dropped: Record<string, number> };
  broker: { connected: number; refused: Partial<Record<string, number>>; aclViolations: number };
  writerBacklog: () => number;
  lastCommitMs: () => number;
  /** ING-6/ALM-8: readings whose commit failed, refused for a failed alarm evaluation, or stored with a FAULT after repeated refusals. */
  commitFailures: { failedRows: number; refusedReadings: number; storedUnjudged: number };
  presence: () => { online: number; offline: number };
  activeAlarms: () => number;
  outboxBacklog: () => number;
  failingChannels: () => string[];
  wsClients: () => number;
  /** Issue 17.7: each cloud target's connection, backlog and lag (empty: sync is off). */
  uplink?: () => UplinkTargetStatus[];
}

/** Disk use at or above this is "degraded" in the health answer (STO-4 acts on it later). */
const DISK_WARN_PCT = 90;

const AuditQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    size: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    username: Type.Optional(Type.String({ maxLength: 64 })),
    action: Type.Optional(Type.String({ maxLength: 64, description: "an action, or a prefix ending in '.', e.g. device." })),
    target: Type.Optional(Type.String({ maxLength: 128 })),
    start: Type.Optional(TimeParam),
    end: Type.Optional(TimeParam),
  },
  { additionalProperties: false },
);

/** Messages per minute over the last minute, sampled from the ingest counter. */
function rateTracker(count: () => number, now: () => number) {
  const samples: [number, number][] = [];
  return () => {
    const t = now();
    samples.push([t, count()]);
    while (samples.length > 2 && t - samples[1][0] >= 60_000) samples.shift();
    const [t0, c0] = samples[0];
    const span = t - t0;
    return span > 0 ? Math.round(((samples[samples.length - 1][1] - c0) * 60_000) / span) : 0;
  };
}

export function systemRoutes(deps: Pick<ApiDeps, 'alarmRepo' | 'alarmSettings' | 'archive' | 'audit' | 'clock' | 'config' | 'figures' | 'license' | 'live'>) {
  const { figures } = deps;
  const audit = auditor(deps.audit, deps.clock);
  const perMinute = rateTracker(() => figures.ingest.received, () => Date.now());
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  const startedAt = Date.now();

  async function disk() {
    const fs = await statfs(figures.dataDir);
    const total = fs.blocks * fs.bsize;
    const free = fs.bavail * fs.bsize;
    const size = await stat(figures.dbFile).then((s) => s.size, () => 0);
    return { used_pct: total ? Math.round(((total - free) / total) * 1000) / 10 : 0, free_bytes: free, database_bytes: size };
  }

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['system'];
    loopDelay.enable();
    const sampler = setInterval(perMinute, 10_000);
    app.addHook('onClose', async () => {
      loopDelay.disable();
      clearInterval(sampler);
    });

    api.get('/api/system/health', { schema: { tags, summary: 'OPS-1 health (no token needed: the installer and monitors poll it)', security: [] }, config: { access: 'public' } }, async () => {
      const d = await disk();
      const failing = figures.failingChannels();
      const backlog = figures.writerBacklog();
      const archive = deps.archive.archiver.status();
      const license = deps.license.state();
      const uplink = figures.uplink?.() ?? [];
      const problems = [
        ...(d.used_pct >= DISK_WARN_PCT ? [`disk ${d.used_pct} % used`] : []),
        ...failing.map((channel) => `notification channel ${channel} failing`),
        ...(backlog > 50_000 ? [`ingest backlog ${backlog}`] : []),
        ...(license.mode === 'locked' || license.mode === 'grace' ? [`license ${license.mode}: ${license.message}`] : []),
        ...(archive.last_attempt?.status === 'failed' ? [`archive of ${archive.last_attempt.day} failed: ${archive.last_attempt.error ?? ''}`] : []),
        ...uplink.filter((t) => !t.paused && !t.connected).map((t) => `cloud target ${t.id} not connected${t.last_error ? `: ${t.last_error}` : ''}`),
      ];
      return {
        status: problems.length ? 'degraded' : 'ok',
        problems,
        version: figures.version,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        database: { ok: true, schema_version: figures.schemaVersion(), size_bytes: d.database_bytes },
        broker: { connections: figures.broker.connected },
        pipeline: { backlog, last_commit_ms: Math.round(figures.lastCommitMs()), ...figures.ingest },
        devices: figures.presence(),
        alarms: { active: figures.activeAlarms() },
        notifications: { backlog: figures.outboxBacklog(), failing_channels: failing },
        disk: { used_pct: d.used_pct, free_bytes: d.free_bytes },
        license,
        archive,
        uplink: uplink.map((t) => ({ id: t.id, connected: t.connected, paused: t.paused, backlog: t.backlog, lag_s: t.lag_s, last_ack_at: t.last_ack_at })),
      };
    });

    api.get('/metrics', { schema: { tags, summary: 'Prometheus text', security: [] }, config: { access: 'public' } }, async (_request, reply) => {
      const { ingest, broker } = figures;
      const lines: string[] = [];
      const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
      };
      metric('mcs_messages_received_total', 'counter', 'device readings received', [['', ingest.received]]);
      metric('mcs_readings_stored_total', 'counter', 'readings committed to SQLite', [['', ingest.stored]]);
      metric('mcs_readings_duplicates_total', 'counter', 'resent readings stored once (ING-4)', [['', ingest.duplicates]]);
      metric('mcs_readings_dropped_total', 'counter', 'readings dropped, by reason (ING-1)',
        Object.entries(ingest.dropped).map(([reason, n]) => [`{reason="${reason}"}`, n]));
      metric('mcs_readings_pending_total', 'counter', 'readings from unregistered serials (ING-3)', [['', ingest.pending]]);
      metric('mcs_mqtt_connections', 'gauge', 'open MQTT connections', [['', broker.connected]]);
      metric('mcs_mqtt_refused_total', 'counter', 'refused CONNECTs, by reason',
        Object.entries(broker.refused).map(([reason, n]) => [`{reason="${reason}"}`, n ?? 0]));
      metric('mcs_mqtt_acl_violations_total', 'counter', 'publishes outside the device ACL', [['', broker.aclViolations]]);
      const failures = figures.commitFailures;
      metric('mcs_readings_not_acknowledged_total', 'counter', 'readings whose commit or alarm evaluation failed (no PUBACK; the detector resends, ALM-8)', [['', failures.failedRows]]);
      metric('mcs_alarm_evaluation_failures_total', 'counter', 'readings refused because their alarm evaluation failed, and stored with a FAULT after repeated refusals (ALM-8)',
        [['{outcome="refused"}', failures.refusedReadings], ['{outcome="stored_with_fault"}', failures.storedUnjudged]]);
      metric('mcs_ingest_backlog', 'gauge', 'readings waiting for the group commit', [['', figures.writerBacklog()]]);
      const presence = figures.presence();
      metric('mcs_devices', 'gauge', 'devices by state', [['{state="online"}', presence.online], ['{state="offline"}', presence.offline]]);
      metric('mcs_alarms_active', 'gauge', 'active alarms', [['', figures.activeAlarms()]]);
      metric('mcs_outbox_backlog', 'gauge', 'notifications waiting to be sent', [['', figures.outboxBacklog()]]);
      // Issue 17.7: per cloud target.
      const targets = figures.uplink?.() ?? [];
      const byTarget = (value: (t: UplinkTargetStatus) => number): [string, number][] => targets.map((t) => [`{target="${t.id}"}`, value(t)]);
      metric('mcs_uplink_connected', 'gauge', 'cloud target connected (1) or not (0)', byTarget((t) => (t.connected ? 1 : 0)));
      metric('mcs_uplink_backlog', 'gauge', 'records not yet acknowledged by the cloud target', byTarget((t) => t.backlog));
      metric('mcs_uplink_lag_seconds', 'gauge', 'age of the oldest unacknowledged record', byTarget((t) => t.lag_s));
      metric('mcs_uplink_bytes_today', 'gauge', 'bytes acknowledged by the cloud target today (UTC)', byTarget((t) => t.bytes_today));
      metric('mcs_uplink_downsampled_total', 'counter', 'readings sent as aggregates because the backlog passed its limit (SYNC-3)', byTarget((t) => t.downsampled));
      metric('mcs_uplink_gaps_total', 'counter', 'gap records sent (SYNC-3)', byTarget((t) => t.gaps));
      metric('mcs_ws_clients', 'gauge', 'connected dashboard WebSocket clients', [['', figures.wsClients()]]);
      metric('mcs_messages_per_minute', 'gauge', 'device readings received over the last minute', [['', perMinute()]]);
      metric('mcs_eventloop_lag_seconds', 'gauge', 'event-loop delay p99 since start', [['', loopDelay.percentile(99) / 1e9]]);
      metric('process_resident_memory_bytes', 'gauge', 'resident set size', [['', process.memoryUsage.rss()]]);
      reply.type('text/plain; version=0.0.4; charset=utf-8');
      return lines.join('\n') + '\n';
    });

    api.get('/api/system/stats', { schema: { tags, summary: 'running figures for the overview page' }, config: { access: 'viewer' } }, async () => {
      const counts = deps.live.counts();
      const dayStart = deps.clock.now() - 86_400_000;
      return {
        devices: counts,
        messages_per_min: perMinute(),
        readings: { received: figures.ingest.received, stored: figures.ingest.stored, duplicates: figures.ingest.duplicates, pending: figures.ingest.pending },
        alarms: { active: figures.activeAlarms(), last_24h: deps.alarmRepo.list({ from: dayStart, limit: 0 }).total },
        // UI-3 (issue 14): the overview warns when no channel is switched on (nobody would be told of an alarm).
        notifications: { enabled_channels: deps.alarmSettings.enabledChannels() },
        connections: figures.broker.connected,
        ws_clients: figures.wsClients(),
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        rss_bytes: process.memoryUsage.rss(),
        version: figures.version,
        time: iso(deps.clock.now()),
        timezone: deps.config.site.timezone,
      };
    });

    api.get('/api/system/license', { schema: { tags, response: { 200: LicenseStateSchema } }, config: { access: 'viewer' } }, async () => deps.license.state());

    api.post('/api/system/license', {
      schema: {
        tags, summary: 'install a license file from the vendor (its text as `file`); takes effect at once (LIC-2)',
        body: Type.Object({ file: Type.String({ minLength: 1, maxLength: 64 * 1024 }) }, { additionalProperties: false }),
        response: { 200: LicenseStateSchema },
      },
      config: { access: 'admin', licensed: false, invalid: 'LICENSE_INVALID' }, // installing a license is how a locked box gets unlocked
    }, async (request) => {
      const before = deps.license.state();
      const after = deps.license.install(request.body.file);
      audit(request, 'license.install', after.license_key ?? null, before, after);
      return after;
    });

    api.get('/api/system/logs', { schema: { tags, summary: 'the audit log (API-5), newest first', querystring: AuditQuery, response: { 200: Paged(AuditEntryView) } }, config: { access: 'admin' } }, async (request) => {
      const { page, size, start, end, ...filter } = request.query;
      const { total, items } = deps.audit.list({ ...filter, from: timeParam(start, 'start'), to: timeParam(end, 'end'), limit: size, offset: (page - 1) * size });
      return { total, page, size, data: items.map((e) => ({ ...e, at: iso(e.at) })) };
    });
  };
}

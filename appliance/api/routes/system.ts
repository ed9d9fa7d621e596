// OPS-1: GET /api/system/health (seed §8.4) and GET /metrics (Prometheus text). Both read figures
// the stages already keep in memory; the only I/O is one statfs of the data dir.
import { statfs, stat } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';

export interface SystemFigures {
  version: string;
  dataDir: string;
  dbFile: string;
  schemaVersion: () => number;
  ingest: { received: number; stored: number; duplicates: number; pending: number; dropped: Record<string, number> };
  broker: { connected: number; refused: Partial<Record<string, number>>; aclViolations: number };
  writerBacklog: () => number;
  lastCommitMs: () => number;
  presence: () => { online: number; offline: number };
  activeAlarms: () => number;
  outboxBacklog: () => number;
  failingChannels: () => string[];
}

export type SystemDeps = { figures: SystemFigures };

/** Disk use at or above this is "degraded" in the health answer (STO-4 acts on it later). */
const DISK_WARN_PCT = 90;

export function systemRoutes({ figures }: SystemDeps) {
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
    loopDelay.enable();
    app.addHook('onClose', async () => loopDelay.disable());

    app.get('/api/system/health', async () => {
      const d = await disk();
      const failing = figures.failingChannels();
      const backlog = figures.writerBacklog();
      const problems = [
        ...(d.used_pct >= DISK_WARN_PCT ? [`disk ${d.used_pct} % used`] : []),
        ...failing.map((channel) => `notification channel ${channel} failing`),
        ...(backlog > 50_000 ? [`ingest backlog ${backlog}`] : []),
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
        license: { mode: 'evaluation' },
        archive: { last: null },
      };
    });

    app.get('/metrics', async (_request, reply) => {
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
      metric('mcs_ingest_backlog', 'gauge', 'readings waiting for the group commit', [['', figures.writerBacklog()]]);
      const presence = figures.presence();
      metric('mcs_devices', 'gauge', 'devices by state', [['{state="online"}', presence.online], ['{state="offline"}', presence.offline]]);
      metric('mcs_alarms_active', 'gauge', 'active alarms', [['', figures.activeAlarms()]]);
      metric('mcs_outbox_backlog', 'gauge', 'notifications waiting to be sent', [['', figures.outboxBacklog()]]);
      metric('mcs_eventloop_lag_seconds', 'gauge', 'event-loop delay p99 since start', [['', loopDelay.percentile(99) / 1e9]]);
      metric('process_resident_memory_bytes', 'gauge', 'resident set size', [['', process.memoryUsage.rss()]]);
      reply.type('text/plain; version=0.0.4; charset=utf-8');
      return lines.join('\n') + '\n';
    });
  };
}

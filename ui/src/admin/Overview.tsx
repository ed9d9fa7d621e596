// UI-3 overview (seed §6.1 仪表盘): devices online, alarms, messages per minute, system state;
// refreshed every 5 s.
import { useEffect } from 'preact/hooks';
import { formatBytes, formatNumber, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { linkClick } from '../lib/router.ts';
import { Notice, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

interface Stats {
  devices: { total: number; online: number; offline: number; alarm: number };
  messages_per_min: number;
  alarms: { active: number; last_24h: number };
  connections: number;
  ws_clients: number;
  uptime_s: number;
  rss_bytes: number;
  version: string;
  timezone: string;
}
export interface Health {
  status: string;
  problems: string[];
  disk: { used_pct: number; free_bytes: number };
  database: { size_bytes: number; schema_version: number };
  pipeline: { backlog: number };
  notifications: { backlog: number; failing_channels: string[] };
  license: { mode?: string; state?: string };
  archive: { last: unknown };
}

export function uptimeText(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`;
}

function Tile(props: { label: string; value: string | number; tone?: string; href?: string; id: string }) {
  const body = (
    <>
      <span class="tile-value">{props.value}</span>
      <span class="tile-label">{props.label}</span>
    </>
  );
  return props.href
    ? <a class={`tile ${props.tone ?? ''}`} data-tile={props.id} href={props.href} onClick={(e) => linkClick(e, props.href!)}>{body}</a>
    : <div class={`tile ${props.tone ?? ''}`} data-tile={props.id}>{body}</div>;
}

export function OverviewPage(_props: PageProps) {
  const stats = useLoad(() => api.get<Stats>('/api/system/stats'), []);
  const health = useLoad(() => api.get<Health>('/api/system/health'), []);
  useEffect(() => {
    const timer = window.setInterval(() => {
      stats.reload();
      health.reload();
    }, 5000);
    return () => window.clearInterval(timer);
  }, []);
  const s = stats.data;
  const h = health.data;
  return (
    <section>
      <h1>{t('nav.overview')}</h1>
      <Notice error={stats.error ?? health.error} />
      {s && (
        <div class="tiles">
          <Tile id="online" label={t('overview.online')} value={`${s.devices.online} / ${s.devices.total}`} tone="good" href="/admin/devices" />
          <Tile id="offline" label={t('overview.offline')} value={s.devices.offline} tone={s.devices.offline ? 'muted' : ''} href="/admin/devices" />
          <Tile id="alarms" label={t('overview.activeAlarms')} value={s.alarms.active} tone={s.alarms.active ? 'bad' : ''} href="/admin/alarms" />
          <Tile id="alarms24h" label={t('overview.alarms24h')} value={s.alarms.last_24h} href="/admin/alarms" />
          <Tile id="rate" label={t('overview.messagesPerMin')} value={formatNumber(s.messages_per_min, 0)} />
          <Tile id="connections" label={t('overview.connections')} value={s.connections} />
        </div>
      )}
      {h && (
        <div class="card">
          <h2>{t('overview.system')} <span class={`pill pill-${h.status}`} data-health={h.status}>{t(h.status === 'ok' ? 'health.ok' : 'health.degraded')}</span></h2>
          {h.problems.length > 0 && <ul class="problems">{h.problems.map((p) => <li key={p}>{p}</li>)}</ul>}
          <dl class="facts">
            <dt>{t('overview.disk')}</dt><dd>{h.disk.used_pct} % · {t('overview.free', { size: formatBytes(h.disk.free_bytes) })}</dd>
            <dt>{t('overview.database')}</dt><dd>{formatBytes(h.database.size_bytes)}</dd>
            <dt>{t('overview.backlog')}</dt><dd>{h.pipeline.backlog}</dd>
            <dt>{t('overview.outbox')}</dt><dd>{h.notifications.backlog}{h.notifications.failing_channels.length ? ` · ${t('overview.failing')}: ${h.notifications.failing_channels.join(', ')}` : ''}</dd>
            <dt>{t('overview.license')}</dt><dd>{h.license.mode ?? h.license.state ?? '—'}</dd>
            {s && <><dt>{t('overview.uptime')}</dt><dd>{uptimeText(s.uptime_s)} · v{s.version} · {s.timezone}</dd></>}
            {s && <><dt>{t('overview.memory')}</dt><dd>{formatBytes(s.rss_bytes)}</dd></>}
          </dl>
        </div>
      )}
    </section>
  );
}

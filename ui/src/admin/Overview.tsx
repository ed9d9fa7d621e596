// UI-3 overview (seed §6.1 仪表盘): devices online, alarms, messages per minute, system state;
// refreshed every 5 s. Issue 14.9: while any alarm is on the lists (ALM-11: all but ISA normal,
// the records the kiosk lists) the system state reads "N active alarms" in red, never "healthy";
// and it warns when no notification channel is switched on (nobody would be told of an alarm).
import { useEffect } from 'preact/hooks';
import { formatBytes, formatNumber, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { linkClick } from '../lib/router.ts';
import { can } from '../lib/session.ts';
import { Notice, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

interface Stats {
  devices: { total: number; online: number; offline: number; alarm: number };
  messages_per_min: number;
  alarms: { active: number; last_24h: number };
  /** the channels switched on (absent from an older appliance: no warning then) */
  notifications?: { enabled_channels: string[] };
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

/** "1 active alarm", "3 active alarms". */
export function activeAlarmsText(n: number): string {
  return n === 1 ? t('overview.activeAlarmsOne') : t('overview.activeAlarmsMany', { n });
}

const LISTED_ALARMS = '/admin/alarms?isa=listed';

export function OverviewPage({ session }: PageProps) {
  const stats = useLoad(() => api.get<Stats>('/api/system/stats'), []);
  const health = useLoad(() => api.get<Health>('/api/system/health'), []);
  // ALM-11: the records the alarm lists show (active, or latched and unacknowledged), counted as the kiosk counts them.
  const listed = useLoad(() => api.get<{ total: number }>('/api/alarms?listed=true&size=1'), []);
  useEffect(() => {
    const timer = window.setInterval(() => {
      stats.reload();
      health.reload();
      listed.reload();
    }, 5000);
    return () => window.clearInterval(timer);
  }, []);
  const s = stats.data;
  const h = health.data;
  const alarms = listed.data?.total ?? null;
  const noChannels = s?.notifications !== undefined && s.notifications.enabled_channels.length === 0;
  return (
    <section>
      <h1>{t('nav.overview')}</h1>
      <Notice error={stats.error ?? health.error ?? listed.error} />
      {noChannels && (
        <p class="notice notice-warn" role="alert" data-warning="no-channels">
          ⚠ {t('overview.noChannels')}{' '}
          {can(session, 'admin') && <a href="/admin/channels" onClick={(e) => linkClick(e, '/admin/channels')}>{t('overview.setUpChannels')}</a>}
        </p>
      )}
      {s && (
        <div class="tiles">
          <Tile id="online" label={t('overview.online')} value={`${s.devices.online} / ${s.devices.total}`} tone="good" href="/admin/devices" />
          <Tile id="offline" label={t('overview.offline')} value={s.devices.offline} tone={s.devices.offline ? 'muted' : ''} href="/admin/devices" />
          <Tile id="alarms" label={t('overview.activeAlarms')} value={alarms ?? '—'} tone={alarms ? 'bad' : ''} href={LISTED_ALARMS} />
          <Tile id="alarms24h" label={t('overview.alarms24h')} value={s.alarms.last_24h} href="/admin/alarms" />
          <Tile id="rate" label={t('overview.messagesPerMin')} value={formatNumber(s.messages_per_min, 0)} />
          <Tile id="connections" label={t('overview.connections')} value={s.connections} />
        </div>
      )}
      {h && (
        <div class="card">
          <h2>
            {t('overview.system')}{' '}
            {alarms
              ? <a href={LISTED_ALARMS} class="pill pill-alarm overview-alarms" data-active-alarms={alarms} onClick={(e) => linkClick(e, LISTED_ALARMS)}>{activeAlarmsText(alarms)}</a>
              : h.status === 'ok' && alarms === 0 && <span class="pill pill-ok" data-health="ok">{t('health.ok')}</span>}
            {h.status !== 'ok' && <> <span class={`pill pill-${h.status}`} data-health={h.status}>{t('health.degraded')}</span></>}
          </h2>
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

// UI-3 system: health (OPS-1), license (LIC), storage/S3 settings and archives (ARC).
import { Fragment } from 'preact';
import { useEffect } from 'preact/hooks';
import { formatBytes, formatTime, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { can } from '../lib/session.ts';
import { Notice, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { Archives } from './Archives.tsx';
import type { Health } from './Overview.tsx';
import { uptimeText } from './Overview.tsx';
import { StorageSettings } from './StorageSettings.tsx';

/** Any flat JSON object as a definition list (the license answer grows with the license engineer's work). */
function Facts(props: { data: Record<string, unknown> }) {
  return (
    <dl class="facts">
      {Object.entries(props.data).map(([key, value]) => (
        <Fragment key={key}>
          <dt>{key}</dt>
          <dd>{value === null || value === undefined ? '—' : typeof value === 'object' ? JSON.stringify(value) : /_at$|date$/.test(key) && typeof value !== 'boolean' ? formatTime(value as string) : String(value)}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

export function SystemPage({ session }: PageProps) {
  const health = useLoad(() => api.get<Health & { uptime_s: number; version: string; broker: { connections: number } }>('/api/system/health'), []);
  const license = useLoad(() => api.get<Record<string, unknown>>('/api/system/license'), []);
  useEffect(() => {
    const timer = window.setInterval(health.reload, 10_000);
    return () => window.clearInterval(timer);
  }, []);
  const h = health.data;
  return (
    <section>
      <h1>{t('nav.system')}</h1>
      <div class="card" data-section="health">
        <h2>{t('system.health')} {h && <span class={`pill pill-${h.status}`}>{t(h.status === 'ok' ? 'health.ok' : 'health.degraded')}</span>}</h2>
        <Notice error={health.error} />
        {h && (
          <dl class="facts">
            <dt>{t('overview.uptime')}</dt><dd>{uptimeText(h.uptime_s)} · v{h.version}</dd>
            <dt>{t('overview.database')}</dt><dd>{formatBytes(h.database.size_bytes)} · schema {h.database.schema_version}</dd>
            <dt>{t('overview.connections')}</dt><dd>{h.broker.connections}</dd>
            <dt>{t('overview.backlog')}</dt><dd>{h.pipeline.backlog}</dd>
            <dt>{t('overview.disk')}</dt><dd>{h.disk.used_pct} % · {t('overview.free', { size: formatBytes(h.disk.free_bytes) })}</dd>
            <dt>{t('overview.outbox')}</dt><dd>{h.notifications.backlog}</dd>
            {h.problems.length > 0 && <><dt>{t('system.problems')}</dt><dd>{h.problems.join('; ')}</dd></>}
          </dl>
        )}
      </div>
      <div class="card" data-section="license">
        <h2>{t('system.license')}</h2>
        <Notice error={license.error} />
        {license.data && <Facts data={license.data} />}
      </div>
      {can(session, 'admin') && <StorageSettings admin />}
      {can(session, 'operator') && <Archives />}
    </section>
  );
}

// UI-3 system: health (OPS-1), license (LIC), storage/S3 settings and archives (ARC).
import { useEffect } from 'preact/hooks';
import { formatBytes, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { can } from '../lib/session.ts';
import { Notice, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { Archives } from './Archives.tsx';
import { LicenseCard } from './License.tsx';
import type { Health } from './Overview.tsx';
import { uptimeText } from './Overview.tsx';
import { StorageSettings } from './StorageSettings.tsx';
import { CloudSyncPage, SystemTabs } from './CloudSync.tsx';
import { usePath } from '../lib/router.ts';

/** /admin/system, and /admin/system/cloud-sync (issue 17.7) for operators and admins. */
export function SystemPage(props: PageProps) {
  const sub = usePath().replace(/^\/admin\/system\/?/, '').split('/')[0];
  return sub === 'cloud-sync' && can(props.session, 'operator') ? <CloudSyncPage {...props} /> : <SystemOverview {...props} />;
}

function SystemOverview({ session }: PageProps) {
  const health = useLoad(() => api.get<Health & { uptime_s: number; version: string; broker: { connections: number } }>('/api/system/health'), []);
  useEffect(() => {
    const timer = window.setInterval(health.reload, 10_000);
    return () => window.clearInterval(timer);
  }, []);
  const h = health.data;
  return (
    <section>
      <h1>{t('nav.system')}</h1>
      <SystemTabs session={session} current="system" />
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
      <LicenseCard admin={can(session, 'admin')} />
      {can(session, 'admin') && <StorageSettings admin />}
      {can(session, 'operator') && <Archives />}
    </section>
  );
}

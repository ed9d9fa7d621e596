// UI-3 / API-5 the audit log: who changed what, when, from where, with before/after; newest first.
import { useState } from 'preact/hooks';
import { formatTime, t } from '../i18n/i18n.ts';
import { api, query } from '../lib/api.ts';
import { inputValue, Notice, Pager, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import type { AuditEntryView } from '../../../appliance/contract/api.ts';

type Entry = AuditEntryView;
const SIZE = 50;
const brief = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value));

export function AuditPage(_props: PageProps) {
  const [filters, setFilters] = useState({ username: '', action: '', target: '' });
  const [page, setPage] = useState(1);
  const log = useLoad(() => api.get<{ total: number; data: Entry[] }>(`/api/system/logs${query({ page, size: SIZE, ...filters })}`), [page, filters]);
  const set = (key: keyof typeof filters) => (e: Event) => (setFilters({ ...filters, [key]: inputValue(e).trim() }), setPage(1));
  return (
    <section>
      <h1>{t('nav.audit')}</h1>
      <div class="filters">
        <input name="username" placeholder={t('login.username')} onChange={set('username')} />
        <input name="action" placeholder={t('audit.actionHint')} onChange={set('action')} />
        <input name="target" placeholder={t('audit.target')} onChange={set('target')} />
      </div>
      <Notice error={log.error} />
      <div class="table-wrap">
        <table class="table" data-table="audit">
          <thead><tr><th>{t('alarms.time')}</th><th>{t('login.username')}</th><th>{t('audit.action')}</th><th>{t('audit.target')}</th><th>{t('audit.change')}</th><th>IP</th></tr></thead>
          <tbody>
            {log.data?.data.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.at)}</td><td>{e.username}</td><td><code>{e.action}</code></td><td>{e.target ?? '—'}</td>
                <td class="change">
                  {e.before !== null && e.before !== undefined && <div class="before" title={brief(e.before)}>− {brief(e.before).slice(0, 160)}</div>}
                  {e.after !== null && e.after !== undefined && <div class="after" title={brief(e.after)}>+ {brief(e.after).slice(0, 160)}</div>}
                </td>
                <td>{e.ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {log.data && <Pager page={page} size={SIZE} total={log.data.total} onPage={setPage} />}
    </section>
  );
}

// UI-3 / API-5 the audit log: who changed what, when, from where, with before/after; newest first.
// Issue 16.11: a change is shown as the fields that changed, `field: old → new`, not as raw JSON.
import { useState } from 'preact/hooks';
import { formatTime, t } from '../i18n/i18n.ts';
import { api, fieldLabel, query } from '../lib/api.ts';
import { inputValue, Notice, Pager, useLoad, useSiteTimezone } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import type { AuditEntryView } from '../../../appliance/contract/api.ts';

type Entry = AuditEntryView;
const SIZE = 50;
/** Nested settings as dotted paths → values (arrays are values: a list is shown whole). */
export function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
    if (!prefix && Object.keys(value).length === 0) out.set('', value);
  } else out.set(prefix, value);
  return out;
}

/** A value as people read it: text as it is, lists comma-separated, nothing as "(empty)". */
function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return t('audit.empty');
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') : t('audit.empty');
  return JSON.stringify(value);
}

/** The fields that differ between before and after (all of them for a creation or removal). */
export function changes(before: unknown, after: unknown): { field: string; before: unknown; after: unknown }[] {
  const a = flatten(before ?? null);
  const b = flatten(after ?? null);
  const fields = [...new Set([...a.keys(), ...b.keys()])];
  return fields
    .filter((f) => JSON.stringify(a.get(f)) !== JSON.stringify(b.get(f)))
    .map((field) => ({ field, before: a.get(field), after: b.get(field) }));
}

function Change(props: { before: unknown; after: unknown }) {
  const list = changes(props.before, props.after);
  if (!list.length) return <span class="muted">—</span>;
  const row = (c: (typeof list)[number]) => (
    <li key={c.field} data-field={c.field}>
      {c.field && <><span class="change-field" title={c.field}>{fieldLabel(c.field)}</span>: </>}
      {props.before !== null && props.before !== undefined && <><span class="before">{shown(c.before)}</span> → </>}
      <span class="after">{props.after === null || props.after === undefined ? t('audit.empty') : shown(c.after)}</span>
    </li>
  );
  const first = list.slice(0, 6);
  const rest = list.slice(6);
  return (
    <ul class="changes">
      {first.map(row)}
      {rest.length > 0 && <li><details><summary>+{rest.length}</summary><ul class="changes">{rest.map(row)}</ul></details></li>}
    </ul>
  );
}

export function AuditPage(_props: PageProps) {
  const [filters, setFilters] = useState({ username: '', action: '', target: '' });
  const [page, setPage] = useState(1);
  useSiteTimezone(); // times in the plant's timezone (OPS-5)
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
                <td class="change"><Change before={e.before} after={e.after} /></td>
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

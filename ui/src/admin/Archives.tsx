// UI-3 / ARC-3: archived days and their download (GET /api/system/archives,
// …/archives/{date}/download with the token via fetch → blob). Shows "not available yet" while
// the route does not exist on this appliance.
import { formatBytes, formatTime, t } from '../i18n/i18n.ts';
import { api, download, notAvailable } from '../lib/api.ts';
import { Notice, useAction, useLoad } from '../lib/ui.tsx';

interface Entry {
  day?: string;
  date?: string;
  part?: number;
  rows?: number;
  bytes?: number;
  size?: number;
  archived_at?: number | string;
  key?: string;
  /** the download path the API gives (with ?part= for later parts of a day) */
  download?: string;
}

/** ARC-5: whether archiving runs, and how far it got. */
interface ArchiveStatus {
  enabled?: boolean;
  retention_days?: number;
  last_archived_day?: string | null;
  last_success_at?: number | null;
  pending_days?: number;
  last_attempt?: { day: string; status: string; error: string | null } | null;
}

/** The list in whatever envelope the route answers: an array, {data}, {archives} or {items}. */
export function archiveEntries(answer: unknown): Entry[] {
  if (Array.isArray(answer)) return answer as Entry[];
  if (answer && typeof answer === 'object') {
    for (const key of ['data', 'archives', 'items']) {
      const value = (answer as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as Entry[];
    }
  }
  return [];
}

export function Archives() {
  const loaded = useLoad(() => api.get<unknown>('/api/system/archives'), []);
  const action = useAction();
  if (notAvailable(loaded.error)) return <div class="card" data-section="archives"><h2>{t('system.archives')}</h2><p class="muted" data-unavailable>{t('common.notAvailable')}</p></div>;
  const entries = archiveEntries(loaded.data);
  const status = (loaded.data as { status?: ArchiveStatus } | null)?.status;
  return (
    <div class="card" data-section="archives">
      <h2>
        {t('system.archives')} <span class="badge">{entries.length}</span>
        {status && (status.enabled ? <span class="pill pill-ok">{t('system.archivingOn')}</span> : <span class="pill pill-offline" data-archiving="off">{t('system.archivingOff')}</span>)}
      </h2>
      {status && (
        <dl class="facts">
          <dt>{t('system.retention')}</dt><dd>{status.retention_days ?? '—'}</dd>
          <dt>{t('system.lastArchived')}</dt><dd>{status.last_archived_day ?? '—'}{status.last_success_at ? ` · ${formatTime(status.last_success_at)}` : ''}</dd>
          <dt>{t('system.pendingDays')}</dt><dd>{status.pending_days ?? 0}</dd>
          {status.last_attempt?.error && <><dt>{t('system.lastError')}</dt><dd class="problems">{status.last_attempt.day}: {status.last_attempt.error}</dd></>}
        </dl>
      )}
      <Notice error={loaded.error ?? action.error} />
      {loaded.data !== null && entries.length === 0 && <p class="muted">{t('system.noArchives')}</p>}
      {entries.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th>{t('system.day')}</th><th class="num">{t('system.rows')}</th><th class="num">{t('system.size')}</th><th>{t('system.archivedAt')}</th><th /></tr></thead>
            <tbody>
              {entries.map((e) => {
                const day = e.day ?? e.date ?? '';
                return (
                  <tr key={`${day}-${e.part ?? 1}`}>
                    <td>{day}{e.part && e.part > 1 ? ` (${e.part})` : ''}</td>
                    <td class="num">{e.rows ?? '—'}</td>
                    <td class="num">{formatBytes(e.bytes ?? e.size)}</td>
                    <td>{formatTime(e.archived_at)}</td>
                    <td><button type="button" disabled={!day} onClick={() => void action.run(() => download(e.download ?? `/api/system/archives/${encodeURIComponent(day)}/download`, `sensor_data_${day}.csv.gz`))}>{t('system.download')}</button></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

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
  return (
    <div class="card" data-section="archives">
      <h2>{t('system.archives')} <span class="badge">{entries.length}</span></h2>
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
                    <td><button type="button" disabled={!day} onClick={() => void action.run(() => download(`/api/system/archives/${encodeURIComponent(day)}/download`, `sensor_data_${day}.csv.gz`))}>{t('system.download')}</button></td>
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

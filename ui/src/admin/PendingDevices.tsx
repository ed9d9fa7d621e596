// ING-3 / UI-3: serials that tried to connect but are not registered; adopting one registers it
// (keeping its factory-derived password unless a new one is generated).
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { formatTime, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { Notice, useAction, useLoad } from '../lib/ui.tsx';

interface Pending {
  sn: string;
  first_seen: string;
  last_seen: string;
  messages: number;
  remote_address: string | null;
}

export function PendingDevices(props: { onAdopted: (created: { device: DeviceView; password: string | null }) => void }) {
  const pending = useLoad(() => api.get<{ data: Pending[] }>('/api/devices/pending'), []);
  const action = useAction();
  const adopt = (sn: string, credentials: 'factory' | 'generate') =>
    void action.run(async () => {
      const created = await api.post<{ device: DeviceView; password: string | null }>(`/api/devices/pending/${encodeURIComponent(sn)}/adopt`, { credentials });
      pending.reload();
      props.onAdopted(created);
    });
  const rows = pending.data?.data ?? [];
  return (
    <div class="card" data-section="pending">
      <h2>{t('devices.pending')} <span class="badge">{rows.length}</span></h2>
      <Notice error={pending.error ?? action.error} />
      {rows.length === 0 ? <p class="muted">{t('devices.noPending')}</p> : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th>{t('devices.sn')}</th><th>{t('devices.firstSeen')}</th><th>{t('devices.lastSeen')}</th><th class="num">{t('devices.messages')}</th><th>{t('devices.address')}</th><th /></tr></thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.sn} data-pending={p.sn}>
                  <td><code>{p.sn}</code></td><td>{formatTime(p.first_seen)}</td><td>{formatTime(p.last_seen)}</td><td class="num">{p.messages}</td><td>{p.remote_address ?? '—'}</td>
                  <td class="actions">
                    <button type="button" disabled={action.busy} onClick={() => adopt(p.sn, 'factory')}>{t('devices.adoptFactory')}</button>
                    <button type="button" disabled={action.busy} onClick={() => adopt(p.sn, 'generate')}>{t('devices.adoptGenerate')}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// ING-3 / UI-3: serials that tried to connect but are not registered. Approving one opens the
// device form (ALM-9: its gas, unit and a setpoint are required, as for any new device) and
// registers it, keeping its factory-derived password unless a new one is generated.
import { useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { formatTime, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { Notice, useLoad } from '../lib/ui.tsx';
import { DeviceForm } from './DeviceForm.tsx';

interface Pending {
  sn: string;
  first_seen: string;
  last_seen: string;
  messages: number;
  remote_address: string | null;
}

export function PendingDevices(props: { onAdopted: (created: { device: DeviceView; password: string | null }) => void }) {
  const pending = useLoad(() => api.get<{ data: Pending[] }>('/api/devices/pending'), []);
  const [approving, setApproving] = useState<string | null>(null);
  const rows = pending.data?.data ?? [];
  return (
    <div class="card" data-section="pending">
      <h2>{t('devices.pending')} <span class="badge">{rows.length}</span></h2>
      <Notice error={pending.error} />
      {rows.length === 0 ? <p class="muted">{t('devices.noPending')}</p> : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th>{t('devices.sn')}</th><th>{t('devices.firstSeen')}</th><th>{t('devices.lastSeen')}</th><th class="num">{t('devices.messages')}</th><th>{t('devices.address')}</th><th /></tr></thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.sn} data-pending={p.sn}>
                  <td><code>{p.sn}</code></td><td>{formatTime(p.first_seen)}</td><td>{formatTime(p.last_seen)}</td><td class="num">{p.messages}</td><td>{p.remote_address ?? '—'}</td>
                  <td class="actions">
                    <button type="button" data-action="approve" onClick={() => setApproving(p.sn)}>{t('devices.approveButton')}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {approving && (
        <DeviceForm device={null} adopting={approving} onClose={() => setApproving(null)}
          onSaved={(created) => {
            setApproving(null);
            pending.reload();
            if (created) props.onAdopted(created);
          }} />
      )}
    </div>
  );
}

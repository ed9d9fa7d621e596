// UI-3 devices: the list with search, status filter and paging; add / edit (admin), commands
// (operator), remove and new password (admin), and serials waiting to be adopted (ING-3).
// ALM-9: each row names its gas; values and setpoints are in the device's unit, with the
// equivalent in the gas's companion unit (≈ mg/m³ beside ppm, ≈ % LEL beside % VOL); a detector
// without a setpoint is yellow "no alarm setpoint", never a reassuring green (GB 16808).
import { useEffect, useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { companionUnit, convert, unitLabel } from '../../../appliance/contract/gas.ts';
import { formatNumber, formatTime, t } from '../i18n/i18n.ts';
import { api, query } from '../lib/api.ts';
import { can } from '../lib/session.ts';
import { inputValue, Notice, Pager, useAction, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { DeviceCommands } from './DeviceCommands.tsx';
import { DevicePage, devicePath } from './DevicePage.tsx';
import { linkClick, usePath } from '../lib/router.ts';
import { CredentialsOnce, DeviceForm, gasName } from './DeviceForm.tsx';
import { PendingDevices } from './PendingDevices.tsx';

interface Page {
  total: number;
  data: DeviceView[];
}
const SIZE = 20;
const REFRESH_MS = 5000;

export function stateText(device: DeviceView): string {
  if (device.state === 'alarm') return t('kiosk.state.alarm');
  if (device.status !== 'online') return t('kiosk.state.offline');
  if (device.state === 'fault') return t('kiosk.state.fault');
  if (device.state === 'unprotected') return t('kiosk.state.unprotected');
  return t('kiosk.state.ok');
}

/** "12.5 ppm" with "≈ 14.3 mg/m³" where the gas defines the conversion. */
function valueWithUnit(value: number, device: Pick<DeviceView, 'gas' | 'unit'>) {
  const other = companionUnit(device.gas, device.unit);
  const converted = other === null ? null : convert(value, device.unit, other, device.gas);
  return (
    <>
      {formatNumber(value)} {unitLabel(device.unit)}
      {converted !== null && <small class="muted" data-converted={other}> ≈ {formatNumber(Number(converted.toPrecision(3)))} {unitLabel(other!)}</small>}
    </>
  );
}

/** Issue 15.5: an output module's relays as it last reported them ("1 on · 2 off"), instead of a gas value. */
export function RelayStates({ relay }: { relay: DeviceView['relay'] }) {
  if (relay === null) return <span class="muted" data-relay="unknown">{t('devices.relayUnknown')}</span>;
  return (
    <span class="relays">
      {Object.entries(relay).sort(([a], [b]) => Number(a) - Number(b)).map(([ch, on], i) => (
        <span key={ch} data-relay={ch} data-on={String(on)}>{i > 0 ? ' · ' : ''}{ch} <span class={`pill pill-${on ? 'alarm' : 'ok'}`}>{t(on ? 'devices.relayOn' : 'devices.relayOff')}</span></span>
      ))}
    </span>
  );
}

function limitsText(d: DeviceView): string {
  if (d.kind === 'output') return '—';
  const levels = [d.high_limit, d.high2_limit].filter((v) => v !== null).join(' / ');
  const text = `${d.low_limit !== null ? `${d.low_limit} – ` : ''}${levels || (d.low_limit !== null ? '' : '—')}`;
  return d.high_limit === null && d.low_limit === null ? text : `${text} ${unitLabel(d.unit)}`;
}

/** /admin/devices: the list; /admin/devices/<sn>: that detector's page (issue 15.6). */
export function DevicesPage(props: PageProps) {
  const match = /^\/admin\/devices\/([^/]+)\/?$/.exec(usePath());
  return match ? <DevicePage {...props} sn={decodeURIComponent(match[1])} /> : <DeviceList {...props} />;
}

function DeviceList({ session }: PageProps) {
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [editing, setEditing] = useState<DeviceView | null | 'new'>(null);
  const [commanding, setCommanding] = useState<DeviceView | null>(null);
  const [shown, setShown] = useState<{ sn: string; password: string | null } | null>(null);
  const list = useLoad(() => api.get<Page>(`/api/devices${query({ page, size: SIZE, q: search, status })}`), [page, search, status]);
  const action = useAction();
  const admin = can(session, 'admin');
  useEffect(() => {
    const timer = window.setInterval(list.reload, REFRESH_MS); // states and values move on by themselves
    return () => window.clearInterval(timer);
  }, []);

  const remove = (device: DeviceView) => {
    if (!confirm(t('devices.confirmRemove', { sn: device.sn }))) return;
    void action.run(() => api.del(`/api/devices/${encodeURIComponent(device.sn)}`), t('devices.removed', { sn: device.sn })).then(list.reload);
  };
  const resetPassword = (device: DeviceView) => {
    if (!confirm(t('devices.confirmReset', { sn: device.sn }))) return;
    void action.run(async () => {
      const answer = await api.post<{ password: string | null }>(`/api/devices/${encodeURIComponent(device.sn)}/reset-password`);
      setShown({ sn: device.sn, password: answer.password });
    });
  };

  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.devices')}</h1>
        {admin && <button type="button" class="primary" data-action="add-device" onClick={() => setEditing('new')}>+ {t('devices.add')}</button>}
      </div>
      <div class="filters">
        <input type="search" name="q" placeholder={t('devices.search')} value={search} onInput={(e) => (setSearch(inputValue(e)), setPage(1))} />
        <select name="status" value={status} onChange={(e) => (setStatus(inputValue(e)), setPage(1))}>
          <option value="">{t('devices.allStates')}</option>
          <option value="online">{t('kiosk.state.ok')}</option>
          <option value="offline">{t('kiosk.state.offline')}</option>
        </select>
      </div>
      <Notice error={list.error ?? action.error} ok={action.ok} />
      <div class="table-wrap">
        <table class="table stack" data-table="devices">
          <thead>
            <tr>
              <th>{t('devices.sn')}</th><th>{t('devices.name')}</th><th>{t('devices.location')}</th><th>{t('devices.gas')}</th><th>{t('devices.state')}</th>
              <th class="num">{t('devices.value')}</th><th>{t('devices.limits')}</th><th>{t('device.lastReading')}</th><th />
            </tr>
          </thead>
          <tbody>
            {list.data?.data.map((d) => (
              <tr key={d.sn} data-sn={d.sn}>
                <td data-label={t('devices.sn')}><a href={devicePath(d.sn)} data-action="open-device" title={t('device.open', { sn: d.sn })} onClick={(e) => linkClick(e, devicePath(d.sn))}><code>{d.sn}</code></a></td>
                <td data-label={t('devices.name')}>{d.name}</td>
                <td data-label={t('devices.location')}>{d.location}</td>
                <td data-label={t('devices.gas')} data-gas={d.gas} data-kind={d.kind}>{d.kind === 'output' ? t('devices.output') : gasName(d.gas)}</td>
                <td data-label={t('devices.state')}><span class={`pill pill-${d.state}`} data-state={d.state}>{stateText(d)}</span>{d.alarms.length > 0 && <small> {d.alarms.join(', ')}</small>}</td>
                <td class="num" data-label={d.kind === 'output' ? t('devices.relays') : t('devices.value')}>{d.kind === 'output' ? <RelayStates relay={d.relay} /> : d.status === 'online' && d.state !== 'fault' && d.last_ppm !== null ? valueWithUnit(d.last_ppm, d) : '—'}</td>
                <td data-label={t('devices.limits')}>{limitsText(d)}</td>
                <td data-label={t('device.lastReading')}>{formatTime(d.last_received_at)}</td>
                <td class="actions">
                  {admin && <button type="button" data-action="edit" onClick={() => setEditing(d)}>{t('common.edit')}</button>}
                  {can(session, 'operator') && <button type="button" data-action="commands" onClick={() => setCommanding(d)}>{t('devices.commands')}</button>}
                  {admin && <button type="button" data-action="reset" onClick={() => resetPassword(d)}>{t('devices.newPassword')}</button>}
                  {admin && <button type="button" class="danger" data-action="remove" onClick={() => remove(d)}>{t('common.remove')}</button>}
                </td>
              </tr>
            ))}
            {list.data && list.data.data.length === 0 && <tr><td colSpan={9} class="empty">{t('devices.none')}</td></tr>}
          </tbody>
        </table>
      </div>
      {list.data && <Pager page={page} size={SIZE} total={list.data.total} onPage={setPage} />}
      {admin && <PendingDevices onAdopted={(created) => (setShown({ sn: created.device.sn, password: created.password }), list.reload())} />}
      {editing !== null && (
        <DeviceForm device={editing === 'new' ? null : editing} onClose={() => setEditing(null)}
          onSaved={(created) => {
            setEditing(null);
            if (created) setShown({ sn: created.device.sn, password: created.password });
            list.reload();
          }} />
      )}
      {commanding && <DeviceCommands device={commanding} onClose={() => setCommanding(null)} />}
      {shown && <CredentialsOnce sn={shown.sn} password={shown.password} onClose={() => setShown(null)} />}
    </section>
  );
}

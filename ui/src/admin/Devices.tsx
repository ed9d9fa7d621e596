// UI-3 devices: the list with search, status filter and paging; add / edit (admin), commands
// (operator), remove and new password (admin), and serials waiting to be adopted (ING-3).
// ALM-9: each row names its gas; values and setpoints are in the device's unit, with the
// equivalent in the gas's companion unit (≈ mg/m³ beside ppm, ≈ % LEL beside % VOL); a detector
// without a setpoint is yellow "no alarm setpoint", never a reassuring green (GB 16808).
// Issue 15.1 masking (屏蔽, ISA-18.2 shelving): a masked detector shows a yellow MASKED badge with
// the minutes left; operators mask one, or the selected ones, for a bounded time with a reason,
// and unmask by hand (the server bounds the time, audits both and journals the alarms).
import { useEffect, useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { MASK_REASONS, type MaskingSettings, type MaskView } from '../../../appliance/contract/masking.ts';
import { companionUnit, convert, unitLabel } from '../../../appliance/contract/gas.ts';
import { formatNumber, formatTime, t, type TextKey } from '../i18n/i18n.ts';
import { api, ApiError, query } from '../lib/api.ts';
import { can } from '../lib/session.ts';
import { Field, inputChecked, inputValue, Modal, Notice, Pager, useAction, useLoad } from '../lib/ui.tsx';
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

// ---- masking (issue 15.1) ------------------------------------------------------------------------

export interface Masks {
  data: MaskView[];
  settings: MaskingSettings;
}

/** GET /api/masks, again every few seconds (masks end by themselves); `of(sn)` is that detector's mask. */
export function useMasks() {
  const masks = useLoad(() => api.get<Masks>('/api/masks'), []);
  useEffect(() => {
    const timer = window.setInterval(masks.reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);
  const of = (sn: string) => masks.data?.data.find((m) => m.sn === sn) ?? null;
  return { ...masks, of };
}

/** Whole minutes a mask has left, at least 1 while it is in force (as the kiosk counts them). */
export const maskMinutesLeft = (mask: MaskView, now = Date.now()) => Math.max(1, Math.ceil((Date.parse(mask.until) - now) / 60_000));

/** The yellow "MASKED · 12 min left" badge; who masked it and why as its tooltip. */
export function MaskBadge({ mask }: { mask: MaskView | null }) {
  if (!mask) return null;
  const left = maskMinutesLeft(mask);
  return (
    <span class="pill pill-masked" data-masked={mask.sn} data-mask-left={left} title={t('mask.by', { by: mask.masked_by, reason: mask.reason })}>
      {t('kiosk.state.masked')} · {t('kiosk.maskLeft', { n: left })}
    </span>
  );
}

const REASON_TEXT: Record<(typeof MASK_REASONS)[number], TextKey> = {
  'bump test': 'mask.reason.bump', calibration: 'mask.reason.calibration', maintenance: 'mask.reason.maintenance',
};

/** The server's refusal of a mask's length in the user's language; other errors as the Notice says them. */
function maskError(error: unknown, max: number): unknown {
  if (error instanceof ApiError && error.status === 400 && typeof (error.detail as { max_minutes?: unknown } | null)?.max_minutes === 'number') {
    return new Error(t('mask.tooLong', { max: (error.detail as { max_minutes: number }).max_minutes }));
  }
  if (error instanceof ApiError && error.status === 400 && problemsOfMinutes(error)) return new Error(t('mask.tooLong', { max }));
  return error;
}
const problemsOfMinutes = (error: ApiError) => Array.isArray(error.detail) && error.detail.some((p: { field?: string }) => p?.field === 'minutes');

/**
 * Mask `sns` for a bounded time with a reason: bump test, calibration, maintenance or free text;
 * minutes default to masking.default_minutes and are checked against masking.max_minutes here
 * and again by the server (ISA-18.2: shelving is time-limited).
 */
export function MaskDialog(props: { sns: string[]; settings: MaskingSettings; onClose: () => void; onDone: (sns: string[]) => void }) {
  const { default_minutes: fallback, max_minutes: max } = props.settings;
  const [reason, setReason] = useState<string>(MASK_REASONS[0]);
  const [other, setOther] = useState('');
  const [minutes, setMinutes] = useState(String(fallback));
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const text = reason === 'other' ? other.trim() : reason;
    const length = Number(minutes);
    if (!text) return setProblem(t('mask.needReason'));
    if (!Number.isInteger(length) || length < 1 || length > max) return setProblem(t('mask.tooLong', { max }));
    setProblem(null);
    void action.run(() => api.post('/api/devices/mask', { sns: props.sns, minutes: length, reason: text })).then((ok) => ok && props.onDone(props.sns));
  };
  const what = props.sns.length === 1 ? props.sns[0] : `${props.sns.length} × ${t('nav.devices')}`;
  return (
    <Modal title={t('mask.title', { what })} onClose={props.onClose}>
      <form class="form-grid" onSubmit={submit} data-form="mask" noValidate>
        <p class="field-wide muted">{t('mask.hint')}</p>
        <p class="field-wide" data-mask-sns>{props.sns.map((sn) => <code key={sn}>{sn} </code>)}</p>
        <Field label={t('mask.reason')}>
          <select name="reason" value={reason} onChange={(e) => setReason(inputValue(e))}>
            {MASK_REASONS.map((r) => <option key={r} value={r}>{t(REASON_TEXT[r])}</option>)}
            <option value="other">{t('mask.reason.other')}</option>
          </select>
        </Field>
        {reason === 'other' && <Field label={t('mask.reasonText')}><input name="reason_text" maxLength={200} value={other} onInput={(e) => setOther(inputValue(e))} /></Field>}
        <Field label={t('mask.minutes')} hint={t('mask.minutesHint', { d: fallback, max })}>
          <input type="number" name="minutes" min={1} max={max} step={1} value={minutes} onInput={(e) => setMinutes(inputValue(e))} />
        </Field>
        <div class="field-wide">
          {problem ? <p class="notice notice-error" role="alert" data-error="mask">{problem}</p> : <Notice error={action.error && maskError(action.error, max)} />}
          <div class="row">
            <button type="submit" class="primary" data-action="mask-confirm" disabled={action.busy}>{t('mask.action').replace('…', '')}</button>
            <button type="button" onClick={props.onClose}>{t('common.cancel')}</button>
          </div>
        </div>
      </form>
    </Modal>
  );
}

/** POST /api/devices/unmask for one detector, asked first: a standing alarm is notified at once. */
export function unmask(sn: string, action: ReturnType<typeof useAction>): Promise<boolean> {
  if (!confirm(t('mask.confirmUnmask', { sn }))) return Promise.resolve(false);
  return action.run(() => api.post('/api/devices/unmask', { sns: [sn] }), t('mask.undone', { sns: sn }));
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
  const operator = can(session, 'operator');
  const masks = useMasks();
  const [selected, setSelected] = useState<string[]>([]);
  const [masking, setMasking] = useState<string[] | null>(null);
  const toggle = (sn: string, on: boolean) => setSelected((now) => (on ? [...now.filter((s) => s !== sn), sn] : now.filter((s) => s !== sn)));
  const masked = (sns: string[]) => {
    setMasking(null);
    setSelected([]);
    void action.run(async () => undefined, t('mask.done', { sns: sns.join(', ') }));
    masks.reload();
    list.reload();
  };
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
        {operator && selected.length > 0 && masks.data && (
          <button type="button" data-action="mask-selected" onClick={() => setMasking(selected)}>{t('mask.selected', { n: selected.length })}</button>
        )}
      </div>
      <Notice error={list.error ?? masks.error ?? action.error} ok={action.ok} />
      <div class="table-wrap">
        <table class="table stack" data-table="devices">
          <thead>
            <tr>
              {operator && <th class="select" />}
              <th>{t('devices.sn')}</th><th>{t('devices.name')}</th><th>{t('devices.location')}</th><th>{t('devices.gas')}</th><th>{t('devices.state')}</th>
              <th class="num">{t('devices.value')}</th><th>{t('devices.limits')}</th><th>{t('device.lastReading')}</th><th />
            </tr>
          </thead>
          <tbody>
            {list.data?.data.map((d) => (
              <tr key={d.sn} data-sn={d.sn}>
                {operator && (
                  <td class="select">
                    {d.kind !== 'output' && <input type="checkbox" name="select" aria-label={t('mask.select', { sn: d.sn })} checked={selected.includes(d.sn)} onChange={(e) => toggle(d.sn, inputChecked(e))} />}
                  </td>
                )}
                <td data-label={t('devices.sn')}><a href={devicePath(d.sn)} data-action="open-device" title={t('device.open', { sn: d.sn })} onClick={(e) => linkClick(e, devicePath(d.sn))}><code>{d.sn}</code></a></td>
                <td data-label={t('devices.name')}>{d.name}</td>
                <td data-label={t('devices.location')}>{d.location}</td>
                <td data-label={t('devices.gas')} data-gas={d.gas} data-kind={d.kind}>{d.kind === 'output' ? t('devices.output') : gasName(d.gas)}</td>
                <td data-label={t('devices.state')}><span class={`pill pill-${d.state}`} data-state={d.state}>{stateText(d)}</span>{d.alarms.length > 0 && <small> {d.alarms.join(', ')}</small>} <MaskBadge mask={masks.of(d.sn)} /></td>
                <td class="num" data-label={d.kind === 'output' ? t('devices.relays') : t('devices.value')}>{d.kind === 'output' ? <RelayStates relay={d.relay} /> : d.status === 'online' && d.state !== 'fault' && d.last_ppm !== null ? valueWithUnit(d.last_ppm, d) : '—'}</td>
                <td data-label={t('devices.limits')}>{limitsText(d)}</td>
                <td data-label={t('device.lastReading')}>{formatTime(d.last_received_at)}</td>
                <td class="actions">
                  {admin && <button type="button" data-action="edit" onClick={() => setEditing(d)}>{t('common.edit')}</button>}
                  {can(session, 'operator') && <button type="button" data-action="commands" onClick={() => setCommanding(d)}>{t('devices.commands')}</button>}
                  {operator && d.kind !== 'output' && masks.data && (masks.of(d.sn)
                    ? <button type="button" data-action="unmask" onClick={() => void unmask(d.sn, action).then((ok) => ok && (masks.reload(), list.reload()))}>{t('mask.unmask')}</button>
                    : <button type="button" data-action="mask" onClick={() => setMasking([d.sn])}>{t('mask.action')}</button>)}
                  {admin && <button type="button" data-action="reset" onClick={() => resetPassword(d)}>{t('devices.newPassword')}</button>}
                  {admin && <button type="button" class="danger" data-action="remove" onClick={() => remove(d)}>{t('common.remove')}</button>}
                </td>
              </tr>
            ))}
            {list.data && list.data.data.length === 0 && <tr><td colSpan={operator ? 10 : 9} class="empty">{t('devices.none')}</td></tr>}
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
      {masking && masks.data && <MaskDialog sns={masking} settings={masks.data.settings} onClose={() => setMasking(null)} onDone={masked} />}
      {commanding && <DeviceCommands device={commanding} onClose={() => setCommanding(null)} />}
      {shown && <CredentialsOnce sn={shown.sn} password={shown.password} onClose={() => setShown(null)} />}
    </section>
  );
}

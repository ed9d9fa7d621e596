// UI-3 alarm records (ALM-7): filter by device, type, state, acknowledgement and time;
// acknowledge one or many with a comment (operator); export CSV (Excel-friendly, with the token
// through fetch → blob).
import { useState } from 'preact/hooks';
import type { AlarmView } from '../../../appliance/contract/live.ts';
import { formatTime, lang, t } from '../i18n/i18n.ts';
import { alarmTypeText } from '../kiosk/AlarmList.tsx';
import { alarmLimitText, alarmValueText } from '../lib/alarm-value.ts';
import { api, download, query } from '../lib/api.ts';
import { can } from '../lib/session.ts';
import { Field, inputValue, Modal, Notice, Pager, useAction, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const SIZE = 20;
const TYPES = ['HIGH', 'LOW', 'OFFLINE', 'LOW_BAT', 'FAULT', 'DISK', 'ARCHIVE', 'LICENSE', 'CHANNEL'];

interface Filters {
  sn: string;
  type: string;
  state: string;
  acknowledged: string;
  start: string;
  end: string;
}

/** A date input (local day) as an ISO instant: the start of that day, or the start of the next for `end`. */
export function dayToIso(day: string, endOfDay = false): string | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T00:00:00`);
  if (endOfDay) d.setDate(d.getDate() + 1);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function filterQuery(f: Filters) {
  return { sn: f.sn.trim(), type: f.type, state: f.state, acknowledged: f.acknowledged, start: dayToIso(f.start), end: dayToIso(f.end, true) };
}

/** Value / limit in the alarm's own terms (battery %, error code, concentration in the device's unit); the detail on hover. */
function ValueCell({ alarm }: { alarm: AlarmView }) {
  const value = alarmValueText(alarm, lang(), alarm.unit);
  const limit = alarmLimitText(alarm, lang(), alarm.unit);
  return (
    <td data-label={t('alarms.valueLimit')} title={alarm.detail ?? undefined}>
      {value || '—'}{limit && <small class="muted"> / {limit}</small>}
    </td>
  );
}

export function AlarmsPage({ session }: PageProps) {
  const [filters, setFilters] = useState<Filters>({ sn: '', type: '', state: '', acknowledged: '', start: '', end: '' });
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [acking, setAcking] = useState<number[] | null>(null);
  const [comment, setComment] = useState('');
  const list = useLoad(() => api.get<{ total: number; data: AlarmView[] }>(`/api/alarms${query({ page, size: SIZE, ...filterQuery(filters) })}`), [page, filters]);
  const action = useAction();
  const operator = can(session, 'operator');
  const set = (key: keyof Filters) => (e: Event) => {
    setFilters({ ...filters, [key]: inputValue(e) });
    setPage(1);
  };
  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const ack = async () => {
    const ids = acking!;
    const ok = await action.run(async () => {
      if (ids.length === 1) await api.post(`/api/alarms/${ids[0]}/ack`, { comment });
      else await api.post('/api/alarms/ack', { ids, comment });
    }, t('alarms.acked', { n: ids.length }));
    if (ok) {
      setAcking(null);
      setComment('');
      setSelected(new Set());
      list.reload();
    }
  };
  const exportCsv = () => void action.run(() => download(`/api/alarms/export${query({ ...filterQuery(filters), language: lang() })}`, 'alarms.csv'));

  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.alarms')}</h1>
        {operator && (
          <div class="row">
            <button type="button" data-action="bulk-ack" disabled={selected.size === 0} onClick={() => setAcking([...selected])}>{t('alarms.ackSelected', { n: selected.size })}</button>
            <button type="button" data-action="export-alarms" onClick={exportCsv}>{t('common.exportCsv')}</button>
          </div>
        )}
      </div>
      <div class="filters">
        <input name="sn" placeholder={t('alarms.snFilter')} value={filters.sn} onInput={set('sn')} />
        <select name="type" value={filters.type} onChange={set('type')}>
          <option value="">{t('alarms.allTypes')}</option>
          {TYPES.map((type) => <option key={type} value={type}>{alarmTypeText(type)}</option>)}
        </select>
        <select name="state" value={filters.state} onChange={set('state')}>
          <option value="">{t('alarms.allStates')}</option>
          <option value="active">{t('alarms.active')}</option>
          <option value="cleared">{t('alarms.cleared')}</option>
        </select>
        <select name="acknowledged" value={filters.acknowledged} onChange={set('acknowledged')}>
          <option value="">{t('alarms.allAcks')}</option>
          <option value="false">{t('alarms.unacked')}</option>
          <option value="true">{t('alarms.acked0')}</option>
        </select>
        <input type="date" name="start" value={filters.start} onInput={set('start')} aria-label={t('common.from')} />
        <input type="date" name="end" value={filters.end} onInput={set('end')} aria-label={t('common.to')} />
      </div>
      <Notice error={list.error ?? action.error} ok={action.ok} />
      <div class="table-wrap">
        <table class="table stack" data-table="alarms">
          <thead>
            <tr>
              {operator && <th />}
              <th>{t('alarms.time')}</th><th>{t('alarms.source')}</th><th>{t('alarms.type')}</th><th>{t('alarms.state')}</th>
              <th>{t('alarms.valueLimit')}</th><th>{t('alarms.ack')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.data.map((a) => (
              <tr key={a.id} data-alarm-id={a.id} class={a.state === 'active' && !a.ack_at ? 'row-hot' : ''}>
                {operator && <td class="select">{!a.ack_at && <input type="checkbox" aria-label={`#${a.id}`} checked={selected.has(a.id)} onChange={() => toggle(a.id)} />}</td>}
                <td data-label={t('alarms.time')}>{formatTime(a.triggered_at)}{a.cleared_at && <small class="muted"><br />→ {formatTime(a.cleared_at)}</small>}</td>
                <td data-label={t('alarms.source')}><code>{a.source}</code></td>
                <td data-label={t('alarms.type')}>{alarmTypeText(a.type)}{a.repeat_count > 0 && <small class="muted"> ×{a.repeat_count + 1}</small>}</td>
                <td data-label={t('alarms.state')}><span class={`pill pill-${a.state === 'active' ? 'alarm' : 'offline'}`}>{a.state === 'active' ? t('alarms.active') : t('alarms.cleared')}</span></td>
                <ValueCell alarm={a} />
                <td data-label={t('alarms.ack')}>
                  {a.ack_at
                    ? <span data-acked="yes">✓ {a.ack_by} <small class="muted">{formatTime(a.ack_at)}</small>{a.ack_comment && <><br /><small>{a.ack_comment}</small></>}</span>
                    : operator && <button type="button" data-action="ack" onClick={() => setAcking([a.id])}>{t('alarms.ackOne')}</button>}
                </td>
              </tr>
            ))}
            {list.data && list.data.data.length === 0 && <tr><td colSpan={7} class="empty">{t('alarms.none')}</td></tr>}
          </tbody>
        </table>
      </div>
      {list.data && <Pager page={page} size={SIZE} total={list.data.total} onPage={setPage} />}
      {acking && (
        <Modal title={t('alarms.ackTitle', { n: acking.length })} onClose={() => setAcking(null)}>
          <Field label={t('alarms.comment')} wide>
            <textarea name="comment" rows={3} maxLength={500} value={comment} onInput={(e) => setComment(inputValue(e))} />
          </Field>
          <Notice error={action.error} />
          <div class="row">
            <button type="button" class="primary" data-action="confirm-ack" disabled={action.busy} onClick={() => void ack()}>{t('alarms.ackOne')}</button>
            <button type="button" onClick={() => setAcking(null)}>{t('common.cancel')}</button>
          </div>
        </Modal>
      )}
    </section>
  );
}

// UI-3 alarm records (ALM-7, issue 14.9): by priority (ALM-10) with the gas level (一级/二级,
// ALM-9) and the ISA-18.2 state in words (ALM-11), each detector by its name and location (the
// serial as secondary text); free-text search, type, state and time filters; a click opens the
// record's journal (ALM-12); acknowledge one or many with a comment, required where the policy
// says so (operator); export CSV (Excel-friendly, with the token through fetch → blob).
import { useEffect, useState } from 'preact/hooks';
import type { AlarmView } from '../../../appliance/contract/live.ts';
import { formatTime, lang, t, type TextKey } from '../i18n/i18n.ts';
import { alarmTypeText } from '../kiosk/AlarmList.tsx';
import { ISA_STATES } from '../lib/alarm-order.ts';
import { alarmLimitText, alarmValueText } from '../lib/alarm-value.ts';
import { api, download, query } from '../lib/api.ts';
import { linkClick, navigate, usePath } from '../lib/router.ts';
import { can } from '../lib/session.ts';
import { inputValue, Notice, Pager, useAction, useLoad } from '../lib/ui.tsx';
import { AckDialog, AlarmJournalPage, IsaStatePill, LevelChip, PriorityChip, useAckPolicy, useSiteTimezone } from './AlarmJournal.tsx';
import type { PageProps } from './AdminApp.tsx';

const SIZE = 20;
const TYPES = ['HIGH', 'LOW', 'OFFLINE', 'LOW_BAT', 'FAULT', 'DISK', 'ARCHIVE', 'LICENSE', 'CHANNEL', 'SYNC'];
/** How long the search waits for the typing to pause before it asks the appliance. */
const SEARCH_PAUSE_MS = 250;
/** The list follows the plant by itself, like the overview. */
const REFRESH_MS = 5000;

interface Filters {
  q: string;
  type: string;
  /** '' all, 'listed' all but normal (ALM-11), or one ISA-18.2 state */
  isa: string;
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
  return {
    q: f.q.trim(), type: f.type, start: dayToIso(f.start), end: dayToIso(f.end, true),
    ...(f.isa === 'listed' ? { listed: true } : { isa_state: f.isa }),
  };
}

/** `/admin/alarms?isa=listed` (the overview's link) opens the list on the alarms needing attention. */
function initialFilters(): Filters {
  const isa = new URLSearchParams(location.search).get('isa') ?? '';
  return { q: '', type: '', isa: isa === 'listed' || (ISA_STATES as readonly string[]).includes(isa) ? isa : '', start: '', end: '' };
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

/** The detector by name and location, its serial as secondary text; a system alarm by its source. */
function DeviceCell({ alarm }: { alarm: AlarmView }) {
  const name = alarm.device_name || alarm.source;
  return (
    <td data-label={t('alarms.device')} data-device={alarm.sn ?? alarm.source}>
      <strong data-device-name>{name}</strong>
      {alarm.device_location && <><br /><span data-device-location>{alarm.device_location}</span></>}
      {alarm.sn && alarm.device_name && <><br /><small class="muted"><code>{alarm.sn}</code></small></>}
    </td>
  );
}

const journalPath = (id: number) => `/admin/alarms/${id}`;

/** A click anywhere on a row opens the journal, except on its own controls (checkbox, buttons, links). */
function openOnRowClick(e: MouseEvent, id: number) {
  if ((e.target as Element).closest('button, input, a, label, textarea, select')) return;
  navigate(journalPath(id));
}

function AlarmList({ session }: PageProps) {
  useSiteTimezone();
  const policy = useAckPolicy();
  const [filters, setFilters] = useState<Filters>(initialFilters);
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<Map<number, AlarmView>>(new Map());
  const [acking, setAcking] = useState<AlarmView[] | null>(null);
  const list = useLoad(() => api.get<{ total: number; data: AlarmView[] }>(`/api/alarms${query({ page, size: SIZE, ...filterQuery(filters) })}`), [page, filters]);
  const action = useAction();
  const operator = can(session, 'operator');
  useEffect(() => {
    const timer = window.setInterval(list.reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);
  useEffect(() => {
    if (search === filters.q) return;
    const timer = window.setTimeout(() => (setFilters((f) => ({ ...f, q: search })), setPage(1)), SEARCH_PAUSE_MS);
    return () => window.clearTimeout(timer);
  }, [search]);
  const set = (key: keyof Filters) => (e: Event) => {
    setFilters({ ...filters, [key]: inputValue(e) });
    setPage(1);
  };
  const toggle = (alarm: AlarmView) => {
    const next = new Map(selected);
    if (next.has(alarm.id)) next.delete(alarm.id);
    else next.set(alarm.id, alarm);
    setSelected(next);
  };
  const acked = () => {
    const n = acking?.length ?? 0;
    setAcking(null);
    setSelected(new Map());
    list.reload();
    void action.run(async () => undefined, t('alarms.acked', { n }));
  };
  const exportCsv = () => void action.run(() => download(`/api/alarms/export${query({ ...filterQuery(filters), language: lang() })}`, 'alarms.csv'));

  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.alarms')}</h1>
        {operator && (
          <div class="row">
            <button type="button" data-action="bulk-ack" disabled={selected.size === 0} onClick={() => setAcking([...selected.values()])}>{t('alarms.ackSelected', { n: selected.size })}</button>
            <button type="button" data-action="export-alarms" onClick={exportCsv}>{t('common.exportCsv')}</button>
          </div>
        )}
      </div>
      <div class="filters">
        <input type="search" name="q" class="alarm-search" placeholder={t('alarms.search')} aria-label={t('alarms.search')} value={search} onInput={(e) => setSearch(inputValue(e))} />
        <select name="type" value={filters.type} onChange={set('type')}>
          <option value="">{t('alarms.allTypes')}</option>
          {TYPES.map((type) => <option key={type} value={type}>{alarmTypeText(type)}</option>)}
        </select>
        <select name="isa" value={filters.isa} onChange={set('isa')} aria-label={t('alarms.isaState')}>
          <option value="">{t('alarms.allIsaStates')}</option>
          <option value="listed">{t('alarms.listedOnly')}</option>
          {ISA_STATES.map((state) => <option key={state} value={state}>{t(`alarmState.${state}` as TextKey)}</option>)}
        </select>
        <input type="date" name="start" value={filters.start} onInput={set('start')} aria-label={t('common.from')} />
        <input type="date" name="end" value={filters.end} onInput={set('end')} aria-label={t('common.to')} />
      </div>
      <Notice error={list.error ?? action.error} ok={action.ok} />
      <div class="table-wrap">
        <table class="table stack alarm-table" data-table="alarms">
          <thead>
            <tr>
              {operator && <th />}
              <th>{t('alarms.priority')}</th><th>{t('alarms.level')}</th><th>{t('alarms.isaState')}</th><th>{t('alarms.device')}</th>
              <th>{t('alarms.type')}</th><th>{t('alarms.valueLimit')}</th><th>{t('alarms.time')}</th><th>{t('alarms.ack')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.data.map((a) => (
              <tr key={a.id} data-alarm-id={a.id} data-isa={a.isa_state} data-priority={a.priority} data-level={a.level ?? ''}
                class={`alarm-row${a.isa_state === 'active_unacknowledged' ? ' row-hot' : ''}`} onClick={(e) => openOnRowClick(e, a.id)}>
                {operator && <td class="select">{!a.ack_at && <input type="checkbox" aria-label={`#${a.id}`} checked={selected.has(a.id)} onChange={() => toggle(a)} />}</td>}
                <td data-label={t('alarms.priority')}><PriorityChip priority={a.priority} /></td>
                <td data-label={t('alarms.level')}><LevelChip level={a.level} /></td>
                <td data-label={t('alarms.isaState')}><IsaStatePill state={a.isa_state} /></td>
                <DeviceCell alarm={a} />
                <td data-label={t('alarms.type')}>
                  <a href={journalPath(a.id)} data-action="journal" title={t('alarms.openJournal', { id: a.id })} onClick={(e) => linkClick(e, journalPath(a.id))}>{alarmTypeText(a.type)}</a>
                  {a.repeat_count > 0 && <small class="muted"> ×{a.repeat_count + 1}</small>}
                </td>
                <ValueCell alarm={a} />
                <td data-label={t('alarms.time')}>{formatTime(a.triggered_at)}{a.cleared_at && <small class="muted"><br />→ {formatTime(a.cleared_at)}</small>}</td>
                <td data-label={t('alarms.ack')}>
                  {a.ack_at
                    ? <span data-acked="yes">✓ {a.ack_by} <small class="muted">{formatTime(a.ack_at)}</small>{a.ack_comment && <><br /><small>{a.ack_comment}</small></>}</span>
                    : operator && <button type="button" data-action="ack" onClick={() => setAcking([a])}>{t('alarms.ackOne')}</button>}
                </td>
              </tr>
            ))}
            {list.data && list.data.data.length === 0 && <tr><td colSpan={9} class="empty">{t('alarms.none')}</td></tr>}
          </tbody>
        </table>
      </div>
      {list.data && <Pager page={page} size={SIZE} total={list.data.total} onPage={setPage} />}
      {acking && <AckDialog alarms={acking} policy={policy} onClose={() => setAcking(null)} onDone={acked} />}
    </section>
  );
}

/** /admin/alarms: the list; /admin/alarms/<id>: that record's journal. */
export function AlarmsPage(props: PageProps) {
  const path = usePath();
  const id = Number(/^\/admin\/alarms\/(\d+)\/?$/.exec(path)?.[1] ?? NaN);
  return Number.isInteger(id) && id > 0 ? <AlarmJournalPage {...props} id={id} /> : <AlarmList {...props} />;
}

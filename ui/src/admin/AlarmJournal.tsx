// UI-3 / ALM-12: one alarm episode and its journal — raised (level, value), level changes, peaks,
// repeats within the debounce, each notification per channel with its result, acknowledgements
// (who, when, comment), kiosk silences (GB 16808 消音), escalations, the clear — in site-local
// 24-hour time (OPS-5). Also the acknowledgement dialog the list shares: its comment is required
// for the priorities the acknowledgement policy names (ALM-11), and the server's refusal is shown in
// the user's language. The journal downloads as CSV (ALM-12, GET /api/alarms/:id/journal.csv).
import { useEffect, useState } from 'preact/hooks';
import type { AlarmPriority } from '../../../appliance/contract/alarm.ts';
import type { AlarmView } from '../../../appliance/contract/live.ts';
import { formatNumber, formatTime, lang, setSiteTimezone, t, type TextKey } from '../i18n/i18n.ts';
import { alarmTone, alarmTypeText, levelText, priorityText } from '../kiosk/AlarmList.tsx';
import { PRIORITIES } from '../lib/alarm-order.ts';
import { alarmLimitText, alarmValueKind, alarmValueText } from '../lib/alarm-value.ts';
import { api, ApiError, download } from '../lib/api.ts';
import { linkClick } from '../lib/router.ts';
import { can } from '../lib/session.ts';
import { Field, inputValue, Modal, Notice, useAction, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

/** One event of GET /api/alarms/:id/journal (contract JournalEntryView). */
export interface JournalEntry {
  id: number;
  at: string;
  kind: string;
  level: number | null;
  value: number | null;
  actor: string | null;
  detail: string | null;
}

// ---- the site's timezone (OPS-5: stored UTC, shown as the plant's clock) -----------------------

let siteTimezone: string | null = null;

/** Loads the site timezone once per page load and makes formatTime() use it; returns it when known. */
export function useSiteTimezone(): string | null {
  const [zone, setZone] = useState(siteTimezone);
  useEffect(() => {
    if (siteTimezone) return;
    api.get<{ timezone: string }>('/api/system/stats').then(({ timezone }) => {
      siteTimezone = timezone;
      setSiteTimezone(timezone);
      setZone(timezone);
    }, () => undefined); // the browser's own zone meanwhile; the page's own loads report failures
  }, []);
  return zone;
}

// ---- the acknowledgement policy and dialog (ALM-11) ---------------------------------------------

/** Per priority: whether acknowledging needs a comment. */
export type AckPolicy = Record<AlarmPriority, boolean>;
const NO_COMMENT_REQUIRED: AckPolicy = { critical: false, high: false, medium: false, low: false };
/** API-2 business code of a refused acknowledgement without a required comment (core/errors.ts). */
const ACK_COMMENT_REQUIRED = 50005;

/**
 * GET /api/alarms/ack-policy. An appliance without the route (404) requires no comment; any other
 * failure is treated alike, because the server enforces the policy anyway: the dialog only marks the
 * field, and shows the server's refusal when the mark was wrong.
 */
export function useAckPolicy(): AckPolicy {
  const policy = useLoad(() => api.get<{ data: AckPolicy }>('/api/alarms/ack-policy').then((answer) => answer.data), []);
  return policy.data ?? NO_COMMENT_REQUIRED;
}

/** The most urgent priority among `alarms` whose acknowledgement needs a comment; null when none does. */
export function commentRequiredFor(alarms: readonly { priority: string }[], policy: AckPolicy): AlarmPriority | null {
  return PRIORITIES.find((priority) => policy[priority] && alarms.some((a) => a.priority === priority)) ?? null;
}

/** Acknowledges one alarm or many with a comment; `onDone` after the server took it. */
export function AckDialog(props: { alarms: { id: number; priority: string }[]; policy: AckPolicy; onDone: () => void; onClose: () => void }) {
  const [comment, setComment] = useState('');
  const action = useAction();
  const required = commentRequiredFor(props.alarms, props.policy);
  const ids = props.alarms.map((a) => a.id);
  const submit = async () => {
    const text = comment.trim();
    const missing = (priority: string | null | undefined) => new Error(t('alarms.commentMissing', { priority: priorityText(priority ?? undefined) }));
    const ok = await action.run(async () => {
      if (required && !text) throw missing(required);
      try {
        if (ids.length === 1) await api.post(`/api/alarms/${ids[0]}/ack`, { comment: text });
        else await api.post('/api/alarms/ack', { ids, comment: text });
      } catch (err) {
        // The server's refusal (a policy changed since this page loaded it) in the user's language,
        // naming the most urgent priority it found needing a comment.
        if (err instanceof ApiError && err.code === ACK_COMMENT_REQUIRED) {
          const priorities = (err.detail as { priorities?: string[] } | null)?.priorities ?? [];
          throw missing(PRIORITIES.find((p) => priorities.includes(p)) ?? props.alarms[0]?.priority);
        }
        throw err;
      }
    });
    if (ok) props.onDone();
  };
  return (
    <Modal title={t('alarms.ackTitle', { n: ids.length })} onClose={props.onClose}>
      <Field label={`${t('alarms.comment')}${required ? ' *' : ''}`} hint={required ? t('alarms.commentRequired', { priority: priorityText(required) }) : undefined} wide>
        <textarea name="comment" rows={3} maxLength={500} required={required !== null} aria-required={required !== null} data-required={required ? 'yes' : 'no'}
          value={comment} onInput={(e) => setComment(inputValue(e))} />
      </Field>
      <Notice error={action.error} />
      <div class="row">
        <button type="button" class="primary" data-action="confirm-ack" disabled={action.busy} onClick={() => void submit()}>{t('alarms.ackOne')}</button>
        <button type="button" onClick={props.onClose}>{t('common.cancel')}</button>
      </div>
    </Modal>
  );
}

// ---- small shared cells ------------------------------------------------------------------------

export function PriorityChip({ priority }: { priority: string }) {
  return <span class={`alarm-priority prio-${priority}`} data-priority={priority}>{priorityText(priority) || priority}</span>;
}

/** 一级 / 二级 (Level 1 / Level 2) for a gas alarm; nothing for the other types. */
export function LevelChip({ level }: { level: number | null | undefined }) {
  const text = levelText(level);
  return text ? <span class={`alarm-level level-${level}`} data-level={level}>{text}</span> : null;
}

export function IsaStatePill({ state }: { state: AlarmView['isa_state'] }) {
  return <span class={`pill isa isa-${state}`} data-isa={state}>{t(`alarmState.${state}` as TextKey)}</span>;
}

// ---- the journal ---------------------------------------------------------------------------------

/** A journal value in the alarm's own terms: a concentration in the device's unit, a battery %, an error code. */
function valueText(alarm: AlarmView, value: number | null, unit: string | undefined): string {
  if (value === null) return '';
  if (alarmValueKind(alarm) === 'gas') return `${formatNumber(value)}${unit ? ` ${unit}` : ''}`;
  return alarmValueText({ ...alarm, value, peak: null }, lang(), unit);
}

/** A notification entry's detail, `<event>: <outcome>[: <what the channel answered>]` (notify/outbox.ts). */
export function notificationOutcome(detail: string | null): { event: string; outcome: 'queued' | 'sent' | 'failed' | null; rest: string } {
  const [event = '', outcome = '', ...rest] = (detail ?? '').split(': ');
  const known = outcome === 'queued' || outcome === 'sent' ? outcome : outcome.startsWith('failed') ? 'failed' : null;
  return { event, outcome: known, rest: known === 'failed' ? [outcome, ...rest].join(': ') : rest.join(': ') };
}

function kindText(kind: string): string {
  const key = `journal.kind.${kind}` as TextKey;
  const text = t(key);
  return text === key ? kind : text;
}

function EntryDetails({ entry, previousLevel, alarm, unit }: { entry: JournalEntry; previousLevel: number | null; alarm: AlarmView; unit: string | undefined }) {
  const value = valueText(alarm, entry.value, unit);
  switch (entry.kind) {
    case 'raised':
    case 'repeat':
    case 'peak':
    case 'cleared':
      return <>{entry.kind !== 'peak' && <LevelChip level={entry.level} />}{value && <span data-value>{t('journal.value', { value })}</span>}</>;
    case 'level':
      return (
        <>
          {previousLevel !== null && <><LevelChip level={previousLevel} /> → </>}<LevelChip level={entry.level} />
          {value && <span data-value> {t('journal.value', { value })}</span>}
        </>
      );
    case 'acknowledged':
      return <>{t('journal.by', { who: entry.actor ?? '' })}{entry.detail && <> — <q data-comment>{entry.detail}</q></>}</>;
    case 'silenced':
      return <>{t('journal.by', { who: entry.actor ?? '' })}</>;
    case 'notification': {
      const { event, outcome, rest } = notificationOutcome(entry.detail);
      return (
        <>
          <code data-channel={entry.actor}>{entry.actor}</code>{' '}
          {outcome ? <span class={`outcome outcome-${outcome}`} data-outcome={outcome}>{t(`journal.outcome.${outcome}`)}</span> : entry.detail}
          {outcome && event && <small class="muted"> · {t('journal.forEvent', { event: kindText(event) })}</small>}
          {outcome && rest && <small class="muted"> · {rest}</small>}
        </>
      );
    }
    default: // escalated, reset and whatever the engine journals later: who and what, as recorded
      return <>{entry.actor && <code>{entry.actor}</code>} {entry.detail}{value && ` · ${t('journal.value', { value })}`}</>;
  }
}

export function JournalTable({ alarm, entries, unit }: { alarm: AlarmView; entries: JournalEntry[]; unit: string | undefined }) {
  let level: number | null = null;
  const rows = entries.map((entry) => {
    const previousLevel = level;
    if (entry.level !== null && entry.kind !== 'acknowledged') level = entry.level;
    return { entry, previousLevel };
  });
  return (
    <div class="table-wrap">
      <table class="table stack journal" data-journal={alarm.id}>
        <thead><tr><th>{t('journal.time')}</th><th>{t('journal.event')}</th><th>{t('journal.details')}</th></tr></thead>
        <tbody>
          {rows.map(({ entry, previousLevel }) => (
            <tr key={entry.id} data-kind={entry.kind} class={`journal-${entry.kind}`}>
              <td data-label={t('journal.time')} data-time>{formatTime(entry.at)}</td>
              <td data-label={t('journal.event')}><strong>{kindText(entry.kind)}</strong></td>
              <td data-label={t('journal.details')}><EntryDetails entry={entry} previousLevel={previousLevel} alarm={alarm} unit={unit} /></td>
            </tr>
          ))}
          {entries.length === 0 && <tr><td colSpan={3} class="empty">{t('journal.empty')}</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

interface DeviceInfo {
  name: string;
  location: string;
  unit: string;
}

/** /admin/alarms/<id>: the record, its device by name and location, and its journal. */
export function AlarmJournalPage({ session, id }: PageProps & { id: number }) {
  const zone = useSiteTimezone();
  const policy = useAckPolicy();
  const [acking, setAcking] = useState(false);
  const csv = useAction();
  const record = useLoad(async () => {
    const alarm = await api.get<AlarmView>(`/api/alarms/${id}`);
    const device = alarm.sn ? await api.get<DeviceInfo>(`/api/devices/${encodeURIComponent(alarm.sn)}`).catch(() => null) : null; // null: deleted since
    return { alarm, device };
  }, [id]);
  const journal = useLoad(() => api.get<{ data: JournalEntry[] }>(`/api/alarms/${id}/journal`), [id]);
  const reload = () => (record.reload(), journal.reload());
  useEffect(() => {
    const timer = window.setInterval(reload, 5000);
    return () => window.clearInterval(timer);
  }, [id]);
  const alarm = record.data?.alarm;
  const device = record.data?.device;
  const unit = device?.unit ?? alarm?.unit;
  const value = alarm ? alarmValueText(alarm, lang(), unit) : '';
  const limit = alarm ? alarmLimitText(alarm, lang(), unit) : '';
  return (
    <section data-alarm-journal={id}>
      <div class="page-head">
        <h1>{t('journal.title', { id })}</h1>
        <button type="button" data-action="journal-csv" disabled={csv.busy}
          onClick={() => void csv.run(() => download(`/api/alarms/${id}/journal.csv`, `alarm-${id}_journal.csv`))}>{t('common.exportCsv')}</button>
        <a href="/admin/alarms" class="button" data-action="back-to-alarms" onClick={(e) => linkClick(e, '/admin/alarms')}>{t('journal.back')}</a>
      </div>
      <Notice error={record.error ?? journal.error ?? csv.error} />
      {alarm && (
        <div class={`card alarm-card tone-${alarmTone(alarm)}`} data-alarm-id={alarm.id} data-isa={alarm.isa_state}>
          <h2>
            <span data-device-name>{device?.name || alarm.source}</span>{' '}
            <LevelChip level={alarm.level} /> {alarmTypeText(alarm.type)}{' '}
            <PriorityChip priority={alarm.priority} /> <IsaStatePill state={alarm.isa_state} />
          </h2>
          <dl class="facts">
            {device?.location && <><dt>{t('devices.location')}</dt><dd data-device-location>{device.location}</dd></>}
            {alarm.sn && <><dt>{t('alarms.source')}</dt><dd><code>{alarm.sn}</code></dd></>}
            <dt>{t('alarms.valueLimit')}</dt><dd>{value || '—'}{limit && <small class="muted"> / {limit}</small>}{alarm.detail && <small class="muted"> · {alarm.detail}</small>}</dd>
            <dt>{t('journal.triggered')}</dt><dd>{formatTime(alarm.triggered_at)}</dd>
            {alarm.cleared_at && <><dt>{t('journal.clearedAt')}</dt><dd>{formatTime(alarm.cleared_at)}</dd></>}
            {alarm.repeat_count > 0 && <><dt>{t('journal.repeats')}</dt><dd>×{alarm.repeat_count}</dd></>}
            <dt>{t('alarms.ack')}</dt>
            <dd>
              {alarm.ack_at
                ? <span data-acked="yes">✓ {alarm.ack_by} <small class="muted">{formatTime(alarm.ack_at)}</small>{alarm.ack_comment && <> — {alarm.ack_comment}</>}</span>
                : can(session, 'operator') ? <button type="button" data-action="ack" onClick={() => setAcking(true)}>{t('alarms.ackOne')}</button> : '—'}
            </dd>
          </dl>
        </div>
      )}
      <h2>{t('journal.events')}</h2>
      {zone && <p class="muted small" data-timezone={zone}>{t('journal.timezone', { tz: zone })}</p>}
      {alarm && journal.data && <JournalTable alarm={alarm} entries={journal.data.data} unit={unit} />}
      {acking && alarm && (
        <AckDialog alarms={[alarm]} policy={policy} onClose={() => setAcking(false)} onDone={() => (setAcking(false), reload())} />
      )}
    </section>
  );
}

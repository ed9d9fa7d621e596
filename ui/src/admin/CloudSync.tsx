// Issue 17.7 (SYNC-7): Admin → System → Cloud sync (云端同步). Per target a card with what an
// operator needs to trust the uplink — connected, last acknowledgement, backlog per lane and its
// age, lag, pace and estimated drain time, records and bytes today, downsampled readings and gap
// records (SYNC-3), the last error — polled every 2 s while the page is visible. The admin tests,
// pauses/resumes (with a confirmation), edits, adds and removes targets and sets the box id; a
// refused save shows each problem at its field in words (issue 16.11). Off by default.
import { useEffect, useState } from 'preact/hooks';
import type { UplinkLane, UplinkStatus, UplinkTarget, UplinkTargetKind, UplinkTargetStatus } from '../../../appliance/contract/uplink.ts';
import { formatBytes, formatNumber, formatTime, t, useLang, type TextKey } from '../i18n/i18n.ts';
import { api, ApiError, fieldLabel, notAvailable, problemsOf, problemText } from '../lib/api.ts';
import { linkClick } from '../lib/router.ts';
import { can, type Session } from '../lib/session.ts';
import { CopyButton, Field, inputChecked, inputValue, Modal, Notice, sameValues, useAction, useLoad, useSiteTimezone, useUnsavedChanges } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { fieldsOf, fromForm, TARGET_KINDS, toForm, type TargetField, type TargetForm } from './uplink-fields.ts';

export const CLOUD_SYNC_PATH = '/admin/system/cloud-sync';
const POLL_MS = 2000;

interface ConfigView {
  box_id: string;
  targets: UplinkTarget[];
  effective_box_id: string;
  updated_at: string | null;
  defaults: Record<UplinkTargetKind, Record<string, unknown>>;
}

/** System's own sub-navigation: the health/license/storage page and this one. */
export function SystemTabs(props: { session: Session; current: 'system' | 'cloud-sync' }) {
  if (!can(props.session, 'operator')) return null;
  const tab = (key: 'system' | 'cloud-sync', path: string, label: string) => (
    <a href={path} class={`button${props.current === key ? ' active' : ''}`} data-tab={key} aria-current={props.current === key ? 'page' : undefined}
      onClick={(e) => linkClick(e, path)}>{label}</a>
  );
  return <nav class="row wrap system-tabs">{tab('system', '/admin/system', t('system.tabOverview'))}{tab('cloud-sync', CLOUD_SYNC_PATH, t('nav.cloudSync'))}</nav>;
}

/** GET /api/system/uplink every 2 s while the page is visible (and at once when it becomes visible again). */
function useUplinkStatus() {
  const [state, setState] = useState<{ status: UplinkStatus | null; error: unknown }>({ status: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    let timer = 0;
    const tick = async () => {
      window.clearTimeout(timer);
      if (document.visibilityState === 'visible') {
        try {
          const status = await api.get<UplinkStatus>('/api/system/uplink');
          if (live) setState({ status, error: null });
        } catch (error) {
          if (live) setState((s) => ({ ...s, error })); // the last figures stay, with the error above them
        }
      }
      if (live) timer = window.setTimeout(() => void tick(), POLL_MS);
    };
    const onVisibility = () => document.visibilityState === 'visible' && void tick();
    void tick();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      live = false;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [round]);
  return { ...state, refresh: () => setRound((r) => r + 1) };
}

/** A span of seconds in words: 45 s, 12 min, 3.5 h, 2 d. */
export function duration(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 60) return t('uplink.s', { n: Math.round(s) });
  if (s < 3600) return t('uplink.min', { n: formatNumber(s / 60, s < 600 ? 1 : 0) });
  if (s < 172_800) return t('uplink.h', { n: formatNumber(s / 3600, 1) });
  return t('uplink.d', { n: formatNumber(s / 86_400, 1) });
}
const ago = (at: number) => t('uplink.ago', { time: duration((Date.now() - at) / 1000) });
const targetName = (target: { id: string; name?: string }) => target.name || target.id;

export function CloudSyncPage({ session }: PageProps) {
  useLang();
  useSiteTimezone(); // times in the plant's timezone (OPS-5)
  const admin = can(session, 'admin');
  const status = useUplinkStatus();
  const config = useLoad(() => (admin ? api.get<ConfigView>('/api/config/uplink') : Promise.resolve(null)), [admin]);
  const [editing, setEditing] = useState<{ index: number; target: Record<string, unknown> } | null>(null);
  const reload = () => (config.reload(), status.refresh());

  if (notAvailable(status.error) || notAvailable(config.error)) {
    return <section><h1>{t('nav.cloudSync')}</h1><SystemTabs session={session} current="cloud-sync" /><p class="muted" data-unavailable>{t('common.notAvailable')}</p></section>;
  }
  const statusOf = new Map((status.status?.targets ?? []).map((s) => [s.id, s]));
  // The admin sees every configured target (a switched-off one has no status); others what runs.
  const cards: { target: UplinkTarget | null; status: UplinkTargetStatus | undefined; id: string }[] = config.data
    ? config.data.targets.map((target) => ({ target, status: statusOf.get(target.id), id: target.id }))
    : (status.status?.targets ?? []).map((s) => ({ target: null, status: s, id: s.id }));
  const addTarget = (kind: UplinkTargetKind) => {
    const taken = new Set(config.data!.targets.map((tg) => tg.id));
    let n = 1;
    while (taken.has(`${kind}-${n}`)) n++;
    setEditing({ index: -1, target: { ...config.data!.defaults[kind], kind, id: `${kind}-${n}` } });
  };

  return (
    <section data-page-section="cloud-sync">
      <div class="page-head">
        <h1>{t('nav.cloudSync')}</h1>
      </div>
      <SystemTabs session={session} current="cloud-sync" />
      <Notice error={status.error ?? config.error} />
      {status.status && !status.status.clock_synced && <p class="notice notice-warn" data-warning="clock">{t('uplink.clockUnsynced')}</p>}
      {config.data && <BoxIdCard config={config.data} onSaved={reload} />}
      {!admin && status.status && <p class="muted">{t('uplink.boxId')}: <code data-box-id>{status.status.box_id}</code></p>}
      {cards.length === 0 && (config.data || status.status) && <p class="notice" data-empty>{t('uplink.offByDefault')}</p>}
      {cards.map((card) => (
        <TargetCard key={card.id} target={card.target} status={card.status} admin={admin} config={config.data}
          onEdit={() => setEditing({ index: config.data!.targets.findIndex((tg) => tg.id === card.id), target: card.target as unknown as Record<string, unknown> })}
          onChanged={reload} />
      ))}
      {admin && config.data && config.data.targets.length < 8 && (
        <div class="row wrap" data-section="add-target">
          {TARGET_KINDS.map((kind) => (
            <button key={kind} type="button" data-action={`add-${kind}`} onClick={() => addTarget(kind)}>+ {t(`uplink.add.${kind}` as TextKey)}</button>
          ))}
        </div>
      )}
      {editing && config.data && (
        <TargetEditor config={config.data} index={editing.index} original={editing.target}
          onClose={() => setEditing(null)} onSaved={() => (setEditing(null), reload())} />
      )}
    </section>
  );
}

/** The box id: set, or derived from the machine id (shown, with a copy button for the cloud side). */
function BoxIdCard(props: { config: ConfigView; onSaved: () => void }) {
  const [boxId, setBoxId] = useState(props.config.box_id);
  useEffect(() => setBoxId(props.config.box_id), [props.config.box_id]);
  const save = useAction();
  useUnsavedChanges(boxId !== props.config.box_id);
  const problem = problemsOf(save.error).find((p) => p.field === 'box_id');
  return (
    <div class="card" data-section="box-id">
      <div class="form-grid">
        <Field label={t('field.box_id')} hint={t('uplink.boxIdHint', { id: props.config.effective_box_id })}>
          <input name="box_id" value={boxId} placeholder={props.config.effective_box_id} class={problem ? 'input-bad' : undefined} onInput={(e) => setBoxId(inputValue(e))} />
          {problem && <small class="field-error" role="alert">{problemText(problem)}</small>}
        </Field>
        <div class="field">
          <span class="field-label">{t('uplink.effectiveBoxId')}</span>
          <span class="row"><code data-box-id>{props.config.effective_box_id}</code><CopyButton text={props.config.effective_box_id} /></span>
        </div>
      </div>
      <div class="row">
        <button type="button" data-action="save-box-id" disabled={save.busy || boxId === props.config.box_id}
          onClick={() => void save.run(() => api.put('/api/config/uplink', { box_id: boxId.trim(), targets: props.config.targets }), t('common.saved')).then((ok) => ok && props.onSaved())}>
          {t('common.save')}
        </button>
        <Notice error={save.error} ok={save.ok} />
      </div>
    </div>
  );
}

function Connection(props: { target: UplinkTarget | null; status: UplinkTargetStatus | undefined }) {
  const enabled = props.target?.enabled ?? props.status?.enabled ?? true;
  const paused = props.status?.paused ?? props.target?.paused ?? false;
  if (!enabled) return <span class="pill" data-state="off">{t('uplink.disabled')}</span>;
  if (paused) return <span class="pill pill-fault" data-state="paused">{t('uplink.paused')}</span>;
  if (!props.status) return <span class="pill" data-state="starting">{t('uplink.starting')}</span>;
  return props.status.connected
    ? <span class="pill pill-ok" data-state="connected"><span class="dot dot-ok" aria-hidden="true" /> {t('uplink.connected')}</span>
    : <span class="pill pill-alarm" data-state="disconnected"><span class="dot dot-bad" aria-hidden="true" /> {t('uplink.disconnected')}</span>;
}

function TargetCard(props: {
  target: UplinkTarget | null; status: UplinkTargetStatus | undefined; admin: boolean; config: ConfigView | null;
  onEdit: () => void; onChanged: () => void;
}) {
  const { target, status: s } = props;
  const id = target?.id ?? s!.id;
  const name = targetName(target ?? s!);
  const kind = (target?.kind ?? s!.kind) as UplinkTargetKind;
  const action = useAction();
  const [tested, setTested] = useState<{ ok: boolean; message: string } | null>(null);
  const paused = s?.paused ?? target?.paused ?? false;
  const pause = () => {
    if (!confirm(t(paused ? 'uplink.confirmResume' : 'uplink.confirmPause', { name }))) return;
    void action.run(() => api.post(`/api/system/uplink/${encodeURIComponent(id)}/${paused ? 'resume' : 'pause'}`), t(paused ? 'uplink.resumed' : 'uplink.pausedDone')).then((ok) => ok && props.onChanged());
  };
  const test = () => void action.run(async () => {
    setTested(null);
    setTested(await api.post<{ ok: boolean; message: string }>('/api/system/uplink/test', target));
  });
  const remove = () => {
    if (!confirm(t('uplink.confirmRemove', { name }))) return;
    const targets = props.config!.targets.filter((tg) => tg.id !== id);
    void action.run(() => api.put('/api/config/uplink', { box_id: props.config!.box_id, targets })).then((ok) => ok && props.onChanged());
  };
  return (
    <div class="card uplink-target" data-target={id} data-kind={kind}>
      <h2>
        <span data-name>{name}</span>
        <span class="muted small">{t(`uplink.kind.${kind}` as TextKey)} · <code>{id}</code></span>
        <Connection target={target} status={s} />
      </h2>
      {s && (
        <dl class="facts" data-section="figures">
          <dt>{t('uplink.lastAck')}</dt>
          <dd data-figure="last-ack">{s.last_ack_at === null ? t('uplink.never') : `${ago(s.last_ack_at)} · ${formatTime(s.last_ack_at)}`}</dd>
          <dt>{t('uplink.backlog')}</dt>
          <dd data-figure="backlog">
            {formatNumber(s.backlog, 0)}
            <table class="table lanes" data-table="lanes">
              <thead><tr><th>{t('uplink.lane')}</th><th class="num">{t('uplink.depth')}</th><th class="num">{t('uplink.age')}</th></tr></thead>
              <tbody>
                {s.lanes.map((lane) => (
                  <tr key={lane.lane} data-lane={lane.lane}>
                    <td>{t(`uplink.lane.${lane.lane as UplinkLane}` as TextKey)}</td>
                    <td class="num" data-depth>{formatNumber(lane.depth, 0)}</td>
                    <td class="num" data-age>{lane.oldest_at === null ? '—' : duration((Date.now() - lane.oldest_at) / 1000)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </dd>
          <dt>{t('uplink.lagLabel')}</dt>
          <dd data-figure="lag">{duration(s.lag_s)}</dd>
          <dt>{t('uplink.pace')}</dt>
          <dd data-figure="pace">
            {t('uplink.perSecond', { n: formatNumber(s.rate_per_s, 1) })} · {t('uplink.drain')}: {s.drain_estimate_s === null ? t('uplink.notDraining') : duration(s.drain_estimate_s)}
          </dd>
          <dt>{t('uplink.today')}</dt>
          <dd data-figure="today">{t('uplink.todayValue', { records: formatNumber(s.records_today, 0), bytes: formatBytes(s.bytes_today) })}</dd>
          <dt>{t('uplink.kept')}</dt>
          <dd data-figure="downsampled">{t('uplink.keptValue', { n: formatNumber(s.downsampled, 0), gaps: formatNumber(s.gaps, 0) })}</dd>
          {s.last_error && <><dt>{t('uplink.lastError')}</dt><dd data-figure="last-error" class="notice-error">{s.last_error}</dd></>}
        </dl>
      )}
      {props.admin && target && (
        <div class="row wrap">
          <button type="button" data-action="test" disabled={action.busy} onClick={test}>{t('uplink.test')}</button>
          <button type="button" data-action={paused ? 'resume' : 'pause'} disabled={action.busy || !target.enabled} onClick={pause}>{t(paused ? 'uplink.resume' : 'uplink.pause')}</button>
          <button type="button" data-action="edit" onClick={props.onEdit}>{t('common.edit')}</button>
          <button type="button" class="danger" data-action="remove" disabled={action.busy} onClick={remove}>{t('common.remove')}</button>
        </div>
      )}
      <Notice error={action.error} ok={action.ok} />
      {tested && <p class={`notice ${tested.ok ? 'notice-ok' : 'notice-error'}`} data-test-result={tested.ok ? 'ok' : 'failed'}>{tested.ok ? '✓' : '✗'} {tested.message}</p>}
    </div>
  );
}

/** A field of the form, with the API's problem for it (if any) under it. */
function TargetInput(props: { field: TargetField; form: TargetForm; error?: string; onChange: (value: string | boolean) => void }) {
  const { field, form } = props;
  const label = fieldLabel(`targets.0.${field.name}`);
  const value = form[field.name];
  const name = `target.${field.name}`;
  const bad = props.error ? 'input-bad' : undefined;
  const error = props.error && <small class="field-error" role="alert" data-field-error={field.name}>{props.error}</small>;
  if (field.input === 'bool') {
    return (
      <label class="check" data-field={field.name}>
        <input type="checkbox" name={name} checked={value === true} onChange={(e) => props.onChange(inputChecked(e))} />
        {label}{error}
      </label>
    );
  }
  const secretHint = (field.input === 'secret' || field.input === 'pemSecret') && value === '******' ? t('uplink.secretKept') : undefined;
  return (
    <Field label={label} wide={field.wide} hint={secretHint}>
      {field.input === 'select' ? (
        <select name={name} value={String(value)} class={bad} onChange={(e) => props.onChange(inputValue(e))}>
          {field.options!.map((o) => <option key={o.value} value={String(o.value)}>{t(o.label)}</option>)}
        </select>
      ) : field.input === 'pem' || field.input === 'pemSecret' ? (
        <textarea name={name} rows={field.input === 'pemSecret' && value === '******' ? 1 : 3} spellcheck={false} placeholder={field.placeholder} class={`mono${bad ? ` ${bad}` : ''}`}
          value={String(value)} onInput={(e) => props.onChange(inputValue(e))} />
      ) : (
        <input name={name} type={(field.input === 'secret' ? 'password' : field.input === 'number' ? 'number' : 'text') as 'text'} step={field.input === 'number' ? 'any' : undefined}
          autoComplete={field.input === 'secret' ? 'new-password' : 'off'} placeholder={field.placeholder} class={bad} value={String(value)} onInput={(e) => props.onChange(inputValue(e))} />
      )}
      {error}
    </Field>
  );
}

/** Add or edit one target (a dialog: Esc, × or Cancel ask first when something changed). Saving sends all targets. */
function TargetEditor(props: { config: ConfigView; index: number; original: Record<string, unknown>; onClose: () => void; onSaved: () => void }) {
  const kind = props.original.kind as UplinkTargetKind;
  const [initial] = useState(() => toForm(props.original));
  const [form, setForm] = useState<TargetForm>(initial);
  const save = useAction();
  const test = useAction();
  const [tested, setTested] = useState<{ ok: boolean; message: string } | null>(null);
  const confirmLeave = useUnsavedChanges(!sameValues(form, initial));
  const close = () => confirmLeave() && props.onClose();
  const isNew = props.index < 0;
  const index = isNew ? props.config.targets.length : props.index;
  const target = () => fromForm(props.original, form);

  // The API's problems for this target, at their fields; the rest (other targets, the box id) in the notice.
  // A save's problems are at /targets/<index>/<field>; a test's, of this one target, at /<field>:
  // named as a target's field either way (`targets.*.url` is the broker's address, not a webhook's).
  const testError = test.error instanceof ApiError && problemsOf(test.error).length
    ? new ApiError(test.error.status, test.error.code, test.error.serverMessage, problemsOf(test.error).map((p) => ({ ...p, field: `targets.0${p.field ? `.${p.field}` : ''}` })))
    : test.error;
  const error = save.error ?? testError;
  const prefix = save.error ? `/targets/${index}/` : '/';
  const fieldErrors = new Map<string, string>();
  for (const p of problemsOf(error)) {
    const at = p.path.startsWith(prefix) ? p.path.slice(prefix.length) : '';
    if (at && !at.includes('/') && !fieldErrors.has(at)) fieldErrors.set(at, problemText(p));
  }
  const submit = (e: Event) => {
    e.preventDefault();
    const targets: unknown[] = [...props.config.targets];
    if (isNew) targets.push(target());
    else targets[index] = target();
    void save.run(() => api.put('/api/config/uplink', { box_id: props.config.box_id, targets })).then((ok) => ok && props.onSaved());
  };
  const set = (name: string) => (value: string | boolean) => setForm({ ...form, [name]: value });
  const title = isNew ? t('uplink.newTitle', { kind: t(`uplink.kind.${kind}` as TextKey) }) : t('uplink.editTitle', { name: targetName(props.original as { id: string; name?: string }) });
  const inputs = (fields: TargetField[]) => fields.map((field) => <TargetInput key={field.name} field={field} form={form} error={fieldErrors.get(field.name)} onChange={set(field.name)} />);
  const common = new Set(['name', 'telemetry', 'max_records_per_s', 'max_bytes_per_day', 'backlog_max_hours', 'backlog_max_readings', 'lag_alarm_s', 'enabled', 'cloud_commands']);
  return (
    <Modal title={title} onClose={close} wide>
      <form onSubmit={submit} data-form="uplink-target" data-kind={kind}>
        <div class="form-grid">
          <Field label={fieldLabel('targets.0.id')} hint={isNew ? t('uplink.idHint') : undefined}>
            <input name="target.id" value={String(form.id)} disabled={!isNew} required pattern="[A-Za-z0-9_\-]{1,32}" class={fieldErrors.has('id') ? 'input-bad' : undefined}
              onInput={(e) => setForm({ ...form, id: inputValue(e) })} />
            {fieldErrors.has('id') && <small class="field-error" role="alert" data-field-error="id">{fieldErrors.get('id')}</small>}
          </Field>
          {inputs(fieldsOf(kind).filter((f) => f.name === 'name'))}
        </div>
        <h3>{t('uplink.connection')}</h3>
        <div class="form-grid">{inputs(fieldsOf(kind).filter((f) => !common.has(f.name) && f.name !== 'name'))}</div>
        <h3>{t('uplink.sending')}</h3>
        <div class="form-grid">{inputs(fieldsOf(kind).filter((f) => common.has(f.name) && f.name !== 'name'))}</div>
        <Notice error={error} ok={save.ok} />
        {tested && <p class={`notice ${tested.ok ? 'notice-ok' : 'notice-error'}`} data-test-result={tested.ok ? 'ok' : 'failed'}>{tested.ok ? '✓' : '✗'} {tested.message}</p>}
        <div class="row">
          <button type="submit" class="primary" data-action="save-target" disabled={save.busy}>{t('common.save')}</button>
          <button type="button" data-action="test-form" disabled={test.busy}
            onClick={() => void test.run(async () => {
              setTested(null);
              setTested(await api.post<{ ok: boolean; message: string }>('/api/system/uplink/test', target()));
            })}>
            {t('uplink.test')}
          </button>
          <button type="button" onClick={close}>{t('common.cancel')}</button>
        </div>
      </form>
    </Modal>
  );
}

// Issue 15.2 (JJG 693-2011): the due report of every detector — calibration and bump-test due
// dates in the site timezone, due soon yellow, overdue red — its CSV, and the form an operator
// records a calibration or bump test with (a new k/b is sent to the detector by the server).
import { useState } from 'preact/hooks';
import type { DueRowView, DueState, CalibrationKind } from '../../../appliance/contract/calibration.ts';
import { formatTime, t, useLang } from '../i18n/i18n.ts';
import { api, download } from '../lib/api.ts';
import { can } from '../lib/session.ts';
import { Field, inputChecked, inputValue, Modal, Notice, numberOrNull, useAction, useLoad, useSiteTimezone } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const PILL: Record<DueState, string> = { ok: 'pill-ok', due: 'pill-fault', overdue: 'pill-alarm' };

function Due(props: { at: string | null; state: DueState | null }) {
  if (props.at === null || props.state === null) return <span class="muted">—</span>;
  return (
    <span data-due={props.state}>
      {formatTime(props.at, false)} <span class={`pill ${PILL[props.state]}`}>{t(`cal.state.${props.state}`)}</span>
    </span>
  );
}

interface Form {
  kind: CalibrationKind;
  test_gas: string;
  concentration: string;
  as_found: string;
  as_left: string;
  passed: boolean;
  k: string;
  b: string;
  comment: string;
}
const EMPTY: Form = { kind: 'calibration', test_gas: '', concentration: '', as_found: '', as_left: '', passed: true, k: '', b: '', comment: '' };

/** The form's text as the API takes it: empty fields left out. */
function bodyOf(form: Form) {
  const number = (text: string) => numberOrNull(text) ?? undefined;
  return {
    kind: form.kind, passed: form.passed, test_gas: form.test_gas.trim() || undefined, concentration: number(form.concentration),
    as_found: number(form.as_found), as_left: number(form.as_left), comment: form.comment.trim() || undefined,
    ...(form.kind === 'calibration' ? { k: number(form.k), b: number(form.b) } : {}),
  };
}

function RecordForm(props: { row: DueRowView; onClose: () => void; onDone: (text: string) => void }) {
  const [form, setForm] = useState<Form>(EMPTY);
  const action = useAction();
  const set = (key: keyof Form) => (e: Event) => setForm({ ...form, [key]: inputValue(e) });
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const result = await api.post<{ command: 'sent' | 'offline' | null }>(`/api/calibration/devices/${encodeURIComponent(props.row.sn)}`, bodyOf(form));
      props.onDone(t(result.command === 'sent' ? 'cal.sent' : result.command === 'offline' ? 'cal.offline' : 'cal.recorded'));
    });
  };
  return (
    <Modal title={t('cal.recordFor', { sn: props.row.name || props.row.sn })} onClose={props.onClose}>
      <form class="form" data-form="calibration" onSubmit={submit}>
        <Field label={t('cal.kind')}>
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: inputValue(e) as CalibrationKind })}>
            <option value="calibration">{t('cal.kind.calibration')}</option>
            <option value="bump_test">{t('cal.kind.bump_test')}</option>
          </select>
        </Field>
        <Field label={t('cal.testGas')}><input name="test_gas" value={form.test_gas} onInput={set('test_gas')} /></Field>
        <Field label={t('cal.concentration')}><input name="concentration" inputMode="decimal" value={form.concentration} onInput={set('concentration')} /></Field>
        <Field label={t('cal.asFound')}><input name="as_found" inputMode="decimal" value={form.as_found} onInput={set('as_found')} /></Field>
        {form.kind === 'calibration' && <Field label={t('cal.asLeft')}><input name="as_left" inputMode="decimal" value={form.as_left} onInput={set('as_left')} /></Field>}
        {form.kind === 'calibration' && <Field label={t('cal.newK')}><input name="k" inputMode="decimal" value={form.k} onInput={set('k')} /></Field>}
        {form.kind === 'calibration' && <Field label={t('cal.newB')}><input name="b" inputMode="decimal" value={form.b} onInput={set('b')} /></Field>}
        <label class="check"><input type="checkbox" name="passed" checked={form.passed} onChange={(e) => setForm({ ...form, passed: inputChecked(e) })} /> {t('cal.passed')}</label>
        <Field label={t('cal.comment')} wide><input name="comment" value={form.comment} onInput={set('comment')} /></Field>
        <Notice error={action.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={action.busy}>{t('common.save')}</button>
          <button type="button" onClick={props.onClose}>{t('common.cancel')}</button>
        </div>
      </form>
    </Modal>
  );
}

export function CalibrationPage({ session }: PageProps) {
  const lang = useLang();
  useSiteTimezone(); // due dates in the plant's timezone (OPS-5)
  const [reload, setReload] = useState(0);
  const [recording, setRecording] = useState<DueRowView | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const report = useLoad(() => api.get<{ data: DueRowView[] }>('/api/calibration/due'), [reload]);
  const exporting = useAction();
  const mayRecord = can(session, 'operator');
  return (
    <section>
      <h1>{t('cal.title')}</h1>
      <p class="muted">{t('cal.intro')}</p>
      <div class="row">
        <button type="button" data-action="calibration-csv" disabled={exporting.busy}
          onClick={() => void exporting.run(() => download(`/api/calibration/due.csv?language=${lang}`, 'calibration-due.csv'))}>{t('common.exportCsv')}</button>
      </div>
      <Notice error={report.error ?? exporting.error} ok={done} />
      <div class="table-wrap">
        <table class="table" data-table="calibration">
          <thead><tr>
            <th>{t('cal.device')}</th><th>{t('cal.lastCalibration')}</th><th>{t('cal.calibrationDue')}</th><th>{t('cal.lastBump')}</th><th>{t('cal.bumpDue')}</th>{mayRecord && <th />}
          </tr></thead>
          <tbody>
            {report.data?.data.map((row) => (
              <tr key={row.sn} data-sn={row.sn}>
                <td>{row.name || row.sn}<br /><small class="muted">{row.sn}{row.location ? ` · ${row.location}` : ''}</small></td>
                <td>{formatTime(row.last_calibration_at, false)}</td>
                <td><Due at={row.calibration_due_at} state={row.calibration_state} /></td>
                <td>{formatTime(row.last_bump_test_at, false)}</td>
                <td><Due at={row.bump_test_due_at} state={row.bump_test_state} /></td>
                {mayRecord && <td><button type="button" data-action="record" onClick={() => (setDone(null), setRecording(row))}>{t('cal.record')}</button></td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {recording && <RecordForm row={recording} onClose={() => setRecording(null)} onDone={(text) => (setRecording(null), setDone(text), setReload(reload + 1))} />}
    </section>
  );
}

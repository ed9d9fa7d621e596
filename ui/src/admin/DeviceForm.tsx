// UI-3 add / edit / approve a detector: names, gas and unit, range, alarm setpoints and calibration
// (seed §3.2 ppm = (v_raw·k + b) + (T − t_ref)·t_comp). A new device's MQTT password is shown once.
// ALM-9: the gas comes from the catalogue and limits the units; choosing a gas proposes its
// GB/T 50493-compliant setpoints; beside each setpoint the standard's bound in the device's unit;
// a setpoint outside it needs a reason (an audited override), and a new device needs a setpoint.
// Issue 15.5: the kind (gas detector or output module, a relay box driven by linkage) is chosen at
// registration only; an output module measures no gas, so its form has no gas, unit, range,
// setpoints or calibration (the API refuses them).
import { useState } from 'preact/hooks';
import type { DeviceKind, DeviceView } from '../../../appliance/contract/device.ts';
import {
  convert, defaultsIn, GAS_IDS, gasInfo, roundSignificant, setpointBounds, setpointViolations, unitLabel, UNITS,
  type GasKind, type SetpointField, type SetpointRefusal,
} from '../../../appliance/contract/gas.ts';
import { lang, t, useLang, type TextKey } from '../i18n/i18n.ts';
import { api, ApiError } from '../lib/api.ts';
import { CopyButton, Field, inputChecked, inputValue, Modal, Notice, numberOrNull, sameValues, useAction, useUnsavedChanges } from '../lib/ui.tsx';

interface Created {
  device: DeviceView;
  password: string | null;
}

type Form = Record<
  'sn' | 'name' | 'location' | 'gas' | 'unit' | 'range_max' | 'high_limit' | 'high2_limit' | 'low_limit' | 'k' | 'b' | 't_ref' | 't_comp' | 'override_reason',
  string
> & {
  enabled: boolean;
  credentials: 'generate' | 'factory';
  kind: DeviceKind;
};

const KIND_TEXT: Record<GasKind, TextKey> = {
  combustible: 'devices.kind.combustible', toxic: 'devices.kind.toxic', oxygen: 'devices.kind.oxygen', other: 'devices.kind.other',
};
const SETPOINTS: SetpointField[] = ['high_limit', 'high2_limit', 'low_limit'];
const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

function formOf(device: DeviceView | null, adopting: string | null): Form {
  return {
    sn: device?.sn ?? adopting ?? '', name: device?.name ?? '', location: device?.location ?? '',
    // a new detector starts as 'custom' (what the API assumes too): choosing its gas proposes setpoints
    gas: device?.gas ?? 'custom', unit: device?.unit ?? 'ppm',
    range_max: text(device?.range_max ?? 10000), high_limit: text(device?.high_limit ?? null), high2_limit: text(device?.high2_limit ?? null),
    low_limit: text(device?.low_limit ?? null),
    k: text(device?.calib.k ?? 1), b: text(device?.calib.b ?? 0), t_ref: text(device?.calib.t_ref ?? 25), t_comp: text(device?.calib.t_comp ?? 0),
    enabled: device?.enabled ?? true, credentials: adopting ? 'factory' : 'generate', override_reason: '', kind: device?.kind ?? 'detector',
  };
}

/** The gas's default setpoints and range in the form's unit, where the catalogue has them. */
function withDefaults(form: Form): Form {
  const defaults = defaultsIn(form.gas, form.unit);
  if (!defaults) return form;
  return {
    ...form, high_limit: text(defaults.high_limit), high2_limit: text(defaults.high2_limit), low_limit: text(defaults.low_limit),
    range_max: defaults.range_max === null ? form.range_max : text(defaults.range_max),
  };
}

/** Another unit of the same gas: the setpoints and range keep their meaning where the conversion is defined. */
function inUnit(form: Form, unit: string): Form {
  const next = { ...form, unit };
  // the proposed defaults stay the defaults (not a twice-rounded conversion of them)
  const defaults = defaultsIn(form.gas, form.unit);
  if (defaults && SETPOINTS.every((key) => numberOrNull(form[key]) === defaults[key])) return withDefaults(next);
  for (const key of [...SETPOINTS, 'range_max'] as const) {
    const value = numberOrNull(form[key]);
    const converted = value === null ? null : convert(value, form.unit, unit, form.gas);
    if (converted !== null) next[key] = String(roundSignificant(converted, 4, key === 'low_limit' ? 'up' : 'down'));
  }
  return next;
}

const setpointsOf = (form: Form) => Object.fromEntries(SETPOINTS.map((key) => [key, numberOrNull(form[key])])) as Record<SetpointField, number | null>;

function bodyOf(form: Form, mode: 'create' | 'edit' | 'adopt', overriding: boolean) {
  if (form.kind === 'output') {
    const body: Record<string, unknown> = { name: form.name, location: form.location, enabled: form.enabled };
    if (mode === 'create') Object.assign(body, { sn: form.sn.trim(), kind: 'output', credentials: form.credentials });
    if (mode === 'adopt') Object.assign(body, { kind: 'output', credentials: form.credentials });
    return body;
  }
  const body: Record<string, unknown> = {
    name: form.name, location: form.location, gas: form.gas, unit: form.unit, range_max: Number(form.range_max),
    ...setpointsOf(form), enabled: form.enabled,
    calib: { k: Number(form.k), b: Number(form.b), t_ref: Number(form.t_ref), t_comp: Number(form.t_comp) },
  };
  if (overriding && form.override_reason.trim()) body.setpoint_override_reason = form.override_reason.trim();
  if (mode === 'create') Object.assign(body, { sn: form.sn.trim(), kind: 'detector', credentials: form.credentials });
  if (mode === 'adopt') Object.assign(body, { kind: 'detector', credentials: form.credentials });
  return body;
}

export function CredentialsOnce(props: { sn: string; password: string | null; onClose: () => void }) {
  return (
    <Modal title={t('devices.credentialsTitle')} onClose={props.onClose}>
      <p class="notice notice-warn">{t('devices.credentialsOnce')}</p>
      <dl class="facts credentials" data-credentials={props.sn}>
        <dt>{t('devices.mqttUser')}</dt><dd><code>device_{props.sn}</code></dd>
        <dt>{t('devices.mqttPassword')}</dt><dd><code data-password>{props.password ?? t('devices.factoryPassword')}</code>{props.password && <> <CopyButton text={props.password} /></>}</dd>
      </dl>
      <button type="button" class="primary" onClick={props.onClose}>{t('devices.credentialsSaved')}</button>
    </Modal>
  );
}

/** The gas as people name it: "CH₄ 甲烷" / "CH₄ Methane". */
export function gasName(id: string): string {
  const gas = gasInfo(id);
  const name = gas.name[lang() === 'zh-CN' ? 'zh-CN' : 'en'];
  return gas.formula && gas.formula !== name ? `${gas.formula} ${name}` : name;
}

/** The standard's bound of one setpoint, in the form's unit, or why there is none. */
function boundText(form: Form, field: SetpointField): string {
  const bound = setpointBounds(form.gas, form.unit).find((b) => b.field === field);
  if (!bound) return field === 'high_limit' ? t('devices.boundNone') : t('devices.emptyNone');
  const limit = roundSignificant(bound.limit, 3, bound.relation === 'max' ? 'down' : 'up');
  const basis = bound.basis[lang() === 'zh-CN' ? 'zh-CN' : 'en'];
  return t(bound.relation === 'max' ? 'devices.boundMax' : 'devices.boundMin', { limit, unit: unitLabel(form.unit), basis });
}

/**
 * `device` to edit, or `adopting` a pending serial (ING-3 approval), or neither for a new one.
 * `onSaved` gets the registration (with the password shown once) when one was created.
 */
export function DeviceForm(props: { device: DeviceView | null; adopting?: string; onClose: () => void; onSaved: (created?: Created) => void }) {
  useLang();
  const mode = props.device ? 'edit' : props.adopting ? 'adopt' : 'create';
  const [form, setForm] = useState<Form>(() => formOf(props.device, props.adopting ?? null));
  const action = useAction();
  const [initial] = useState(form);
  const confirmLeave = useUnsavedChanges(!sameValues(form, initial)); // issue 16.11: Esc, ×, Cancel or leaving the page ask first
  const close = () => confirmLeave() && props.onClose();
  const set = (key: keyof Form) => (e: Event) => setForm({ ...form, [key]: inputValue(e) });
  const input = (key: keyof Form, type: 'text' | 'number' = 'text', extra: Record<string, unknown> = {}) => (
    <input name={key} type={type as 'text'} step={type === 'number' ? 'any' : undefined} value={form[key] as string} onInput={set(key)} {...extra} />
  );
  const gas = gasInfo(form.gas);
  const units = form.gas === 'custom' ? [...new Set<string>([...UNITS, form.unit])] : [...gas.units];
  const chooseGas = (id: string) => {
    const next = gasInfo(id);
    // the gas's usual unit, unless the detector already had a named gas read in a unit this one has too
    const unit = form.gas !== 'custom' && next.units.includes(form.unit) ? form.unit : next.units[0];
    setForm(withDefaults({ ...form, gas: id, unit }));
  };
  const output = form.kind === 'output';
  const violations = output ? [] : setpointViolations(form.gas, form.unit, setpointsOf(form));
  const refusal = action.error instanceof ApiError && action.error.code === 40005 ? (action.error.detail as SetpointRefusal) : null;
  const overriding = violations.length > 0 || Boolean(refusal?.overridable);
  const unprotected = !output && mode !== 'edit' && numberOrNull(form.high_limit) === null && numberOrNull(form.low_limit) === null;
  const say = (p: { en: string; 'zh-CN': string }) => p[lang() === 'zh-CN' ? 'zh-CN' : 'en'];

  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const body = bodyOf(form, mode, overriding);
      if (mode === 'create') props.onSaved(await api.post<Created>('/api/devices', body));
      else if (mode === 'adopt') props.onSaved(await api.post<Created>(`/api/devices/pending/${encodeURIComponent(props.adopting!)}/adopt`, body));
      else {
        await api.put<DeviceView>(`/api/devices/${encodeURIComponent(props.device!.sn)}`, body);
        props.onSaved();
      }
    });
  };
  const setpoint = (field: SetpointField, label: string) => {
    const broken = violations.find((v) => v.field === field);
    return (
      <Field label={`${label} (${unitLabel(form.unit)})`} hint={broken ? say(broken) : boundText(form, field)}>
        {input(field, 'number', { 'data-bound': broken ? 'outside' : 'within', class: broken ? 'input-bad' : undefined })}
      </Field>
    );
  };
  const title = mode === 'create' ? t('devices.add') : mode === 'adopt' ? t('devices.approve', { sn: props.adopting! }) : t('devices.edit', { sn: props.device!.sn });
  return (
    <Modal title={title} onClose={close} wide>
      <form class="form-grid" onSubmit={submit} data-form="device">
        {mode === 'create' && <Field label={t('devices.sn')}>{input('sn', 'text', { required: true, pattern: '[A-Za-z0-9_-]{1,32}' })}</Field>}
        {mode !== 'edit' && (
          <Field label={t('devices.kindLabel')} hint={t('devices.kindHint')}>
            <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: inputValue(e) as DeviceKind })}>
              <option value="detector">{t('devices.kindDetector')}</option>
              <option value="output">{t('devices.output')}</option>
            </select>
          </Field>
        )}
        <Field label={t('devices.name')}>{input('name')}</Field>
        <Field label={t('devices.location')}>{input('location')}</Field>
        {!output && <>
          <Field label={t('devices.gas')} hint={t(KIND_TEXT[gas.kind])}>
            <select name="gas" value={form.gas} onChange={(e) => chooseGas(inputValue(e))}>
              {GAS_IDS.map((id) => <option key={id} value={id}>{gasName(id)}</option>)}
            </select>
          </Field>
          <Field label={t('devices.unit')}>
            <select name="unit" value={form.unit} onChange={(e) => setForm(inUnit(form, inputValue(e)))}>
              {units.map((unit) => <option key={unit} value={unit}>{unitLabel(unit)}</option>)}
            </select>
          </Field>
          <Field label={t('devices.rangeMax')}>{input('range_max', 'number')}</Field>
          {setpoint('high_limit', t('devices.highLimit'))}
          {setpoint('high2_limit', t('devices.high2Limit'))}
          {setpoint('low_limit', t('devices.lowLimit'))}
          {gas.defaults && (
            <div class="field-wide row">
              <button type="button" data-action="gas-defaults" onClick={() => setForm(withDefaults(form))}>{t('devices.useDefaults')}</button>
              <small class="muted">{t('devices.defaultsNote')}</small>
            </div>
          )}
          {unprotected && <p class="field-wide notice notice-warn" data-warning="no-setpoint">{t('devices.needsSetpoint')}</p>}
          {overriding && (
            <div class="field-wide notice notice-warn" data-section="override">
              <ul>{(violations.length ? violations : refusal!.problems).map((p) => <li key={p.en}>{say(p)}</li>)}</ul>
              <label class="field">
                <span class="field-label">{t('devices.overrideReason')}</span>
                <input name="override_reason" value={form.override_reason} onInput={set('override_reason')} maxLength={500} />
                <small class="field-hint">{t('devices.overrideHint')}</small>
              </label>
            </div>
          )}
          <fieldset class="field-wide">
            <legend>{t('devices.calibration')}</legend>
            <div class="form-grid">
              <Field label="k" hint={t('devices.calibK')}>{input('k', 'number')}</Field>
              <Field label="b" hint={t('devices.calibB')}>{input('b', 'number')}</Field>
              <Field label="t_ref" hint="°C">{input('t_ref', 'number')}</Field>
              <Field label="t_comp" hint={t('devices.calibTComp')}>{input('t_comp', 'number')}</Field>
            </div>
          </fieldset>
        </>}
        {mode !== 'edit' && (
          <Field label={t('devices.credentials')}>
            <select name="credentials" value={form.credentials} onChange={(e) => setForm({ ...form, credentials: inputValue(e) as Form['credentials'] })}>
              <option value="generate">{t('devices.credGenerate')}</option>
              <option value="factory">{t('devices.credFactory')}</option>
            </select>
          </Field>
        )}
        <label class="check">
          <input type="checkbox" name="enabled" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: inputChecked(e) })} />
          {t('devices.enabled')}
        </label>
        <div class="field-wide">
          {refusal ? <p class="notice notice-error" role="alert" data-error="40005">{t('err.40005')}: {refusal.problems.map(say).join('; ')}</p> : <Notice error={action.error} />}
          <div class="row">
            <button type="submit" class="primary" disabled={action.busy}>{mode === 'adopt' ? t('devices.approveSave') : t('common.save')}</button>
            <button type="button" onClick={close}>{t('common.cancel')}</button>
          </div>
        </div>
      </form>
    </Modal>
  );
}

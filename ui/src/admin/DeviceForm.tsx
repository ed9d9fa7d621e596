// UI-3 add / edit a detector: names, gas and unit, range, alarm limits and calibration (seed
// §3.2 ppm = (v_raw·k + b) + (T − t_ref)·t_comp). A new device's MQTT password is shown once.
import { useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { Field, inputChecked, inputValue, Modal, Notice, numberOrNull, useAction } from '../lib/ui.tsx';

interface Created {
  device: DeviceView;
  password: string | null;
}

type Form = Record<'sn' | 'name' | 'location' | 'gas' | 'unit' | 'range_max' | 'high_limit' | 'low_limit' | 'k' | 'b' | 't_ref' | 't_comp', string> & {
  enabled: boolean;
  credentials: 'generate' | 'factory';
};

const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

function formOf(device: DeviceView | null): Form {
  return {
    sn: device?.sn ?? '', name: device?.name ?? '', location: device?.location ?? '', gas: device?.gas ?? 'CH4', unit: device?.unit ?? 'ppm',
    range_max: text(device?.range_max ?? 10000), high_limit: text(device?.high_limit ?? null), low_limit: text(device?.low_limit ?? null),
    k: text(device?.calib.k ?? 1), b: text(device?.calib.b ?? 0), t_ref: text(device?.calib.t_ref ?? 25), t_comp: text(device?.calib.t_comp ?? 0),
    enabled: device?.enabled ?? true, credentials: 'generate',
  };
}

function bodyOf(form: Form, creating: boolean) {
  const body: Record<string, unknown> = {
    name: form.name, location: form.location, gas: form.gas, unit: form.unit, range_max: Number(form.range_max),
    high_limit: numberOrNull(form.high_limit), low_limit: numberOrNull(form.low_limit), enabled: form.enabled,
    calib: { k: Number(form.k), b: Number(form.b), t_ref: Number(form.t_ref), t_comp: Number(form.t_comp) },
  };
  if (creating) Object.assign(body, { sn: form.sn.trim(), credentials: form.credentials });
  return body;
}

export function CredentialsOnce(props: { sn: string; password: string | null; onClose: () => void }) {
  return (
    <Modal title={t('devices.credentialsTitle')} onClose={props.onClose}>
      <p class="notice notice-warn">{t('devices.credentialsOnce')}</p>
      <dl class="facts credentials" data-credentials={props.sn}>
        <dt>{t('devices.mqttUser')}</dt><dd><code>device_{props.sn}</code></dd>
        <dt>{t('devices.mqttPassword')}</dt><dd><code data-password>{props.password ?? t('devices.factoryPassword')}</code></dd>
      </dl>
      <button type="button" class="primary" onClick={props.onClose}>{t('devices.credentialsSaved')}</button>
    </Modal>
  );
}

export function DeviceForm(props: { device: DeviceView | null; onClose: () => void; onSaved: (created?: Created) => void }) {
  const creating = props.device === null;
  const [form, setForm] = useState<Form>(() => formOf(props.device));
  const action = useAction();
  const set = (key: keyof Form) => (e: Event) => setForm({ ...form, [key]: inputValue(e) });
  const input = (key: keyof Form, type: 'text' | 'number' = 'text', extra: Record<string, unknown> = {}) => (
    <input name={key} type={type as 'text'} step={type === 'number' ? 'any' : undefined} value={form[key] as string} onInput={set(key)} {...extra} />
  );
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (creating) props.onSaved(await api.post<Created>('/api/devices', bodyOf(form, true)));
      else {
        await api.put<DeviceView>(`/api/devices/${encodeURIComponent(props.device!.sn)}`, bodyOf(form, false));
        props.onSaved();
      }
    });
  };
  return (
    <Modal title={creating ? t('devices.add') : t('devices.edit', { sn: props.device!.sn })} onClose={props.onClose} wide>
      <form class="form-grid" onSubmit={submit} data-form="device">
        {creating && <Field label={t('devices.sn')}>{input('sn', 'text', { required: true, pattern: '[A-Za-z0-9_-]{1,32}' })}</Field>}
        <Field label={t('devices.name')}>{input('name')}</Field>
        <Field label={t('devices.location')}>{input('location')}</Field>
        <Field label={t('devices.gas')}>{input('gas')}</Field>
        <Field label={t('devices.unit')}>{input('unit')}</Field>
        <Field label={t('devices.rangeMax')}>{input('range_max', 'number')}</Field>
        <Field label={t('devices.highLimit')} hint={t('devices.emptyNone')}>{input('high_limit', 'number')}</Field>
        <Field label={t('devices.lowLimit')} hint={t('devices.emptyNone')}>{input('low_limit', 'number')}</Field>
        <fieldset class="field-wide">
          <legend>{t('devices.calibration')}</legend>
          <div class="form-grid">
            <Field label="k" hint={t('devices.calibK')}>{input('k', 'number')}</Field>
            <Field label="b" hint={t('devices.calibB')}>{input('b', 'number')}</Field>
            <Field label="t_ref" hint="°C">{input('t_ref', 'number')}</Field>
            <Field label="t_comp" hint={t('devices.calibTComp')}>{input('t_comp', 'number')}</Field>
          </div>
        </fieldset>
        {creating && (
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
          <Notice error={action.error} />
          <div class="row">
            <button type="submit" class="primary" disabled={action.busy}>{t('common.save')}</button>
            <button type="button" onClick={props.onClose}>{t('common.cancel')}</button>
          </div>
        </div>
      </form>
    </Modal>
  );
}

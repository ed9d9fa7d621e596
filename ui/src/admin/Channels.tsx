// UI-3 alarm channels (ALM-3..ALM-5): debounce, deadband, low-battery level, the notification
// schedule, and each channel with on/off, its settings and a test send. Secrets show as ******.
// Issue 16.11: fields are labelled in words in both languages, schedule times are 24-hour HH:MM in
// the site's timezone, the save button sits where the form ends, and leaving with unsaved changes asks.
import { useEffect, useState } from 'preact/hooks';
import type { AlarmSettings } from '../../../appliance/contract/alarm.ts';
import { t, type TextKey } from '../i18n/i18n.ts';
import { api, fieldLabel } from '../lib/api.ts';
import { Field, inputChecked, inputValue, Notice, sameValues, useAction, useLoad, useSiteTimezone, useUnsavedChanges } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { AlarmPolicy } from './AlarmPolicy.tsx';
import { CHANNEL_FIELDS, CHANNEL_KINDS, fromForm, toForm, type ChannelKind, type FormValues } from './channel-fields.ts';

type ChannelForms = Record<ChannelKind, { present: boolean; enabled: boolean; values: FormValues }>;
const DAYS = [1, 2, 3, 4, 5, 6, 7];

function channelForms(settings: AlarmSettings): ChannelForms {
  const forms = {} as ChannelForms;
  for (const kind of CHANNEL_KINDS) {
    const entry = settings.channels[kind];
    forms[kind] = { present: !!entry, enabled: entry?.enabled ?? false, values: toForm(kind, entry?.settings) };
  }
  return forms;
}

function ChannelCard(props: { kind: ChannelKind; form: ChannelForms[ChannelKind]; onChange: (form: ChannelForms[ChannelKind]) => void }) {
  const { kind, form } = props;
  const test = useAction();
  const setValue = (name: string, value: string | boolean) => props.onChange({ ...form, present: true, values: { ...form.values, [name]: value } });
  return (
    <div class="card channel" data-channel={kind}>
      <header class="row">
        <h3>{t(`channel.${kind}` as TextKey)}</h3>
        <label class="check">
          <input type="checkbox" name={`${kind}.enabled`} checked={form.enabled} onChange={(e) => props.onChange({ ...form, present: true, enabled: inputChecked(e) })} />
          {t('channels.enabled')}
        </label>
      </header>
      <div class="form-grid">
        {CHANNEL_FIELDS[kind].map((field) => field.kind === 'bool' ? (
          <label key={field.name} class="check">
            <input type="checkbox" name={`${kind}.${field.name}`} checked={form.values[field.name] === true} onChange={(e) => setValue(field.name, inputChecked(e))} />
            {fieldLabel(field.name)}
          </label>
        ) : (
          <Field key={field.name} label={fieldLabel(field.name)} wide={field.kind === 'list' || field.kind === 'json'}>
            {field.kind === 'list'
              ? <textarea name={`${kind}.${field.name}`} rows={2} placeholder={field.placeholder} value={form.values[field.name] as string} onInput={(e) => setValue(field.name, inputValue(e))} />
              : <input name={`${kind}.${field.name}`} type={(field.kind === 'secret' ? 'password' : field.kind === 'number' ? 'number' : 'text') as 'text'} autoComplete="off"
                  placeholder={field.placeholder} value={form.values[field.name] as string} onInput={(e) => setValue(field.name, inputValue(e))} />}
          </Field>
        ))}
      </div>
      <div class="row">
        <button type="button" data-action="test-send" disabled={test.busy}
          onClick={() => void test.run(async () => {
            const answer = await api.post<{ message: string; detail: string }>('/api/config/alarm/test', { channel: kind, settings: fromForm(kind, form.values) });
            return answer;
          }, t('channels.testSent'))}>
          {t('channels.test')}
        </button>
        <Notice error={test.error} ok={test.ok} />
      </div>
    </div>
  );
}

export function ChannelsPage(_props: PageProps) {
  const loaded = useLoad(() => api.get<AlarmSettings & { updated_at: string | null }>('/api/config/alarm'), []);
  const [rules, setRules] = useState<Omit<AlarmSettings, 'channels'> | null>(null);
  const [forms, setForms] = useState<ChannelForms | null>(null);
  const save = useAction();
  const zone = useSiteTimezone();
  const baseline = loaded.data && (({ channels: _channels, ...rest }) => ({ rules: rest, forms: channelForms(loaded.data!) }))(loaded.data);
  useUnsavedChanges(!!baseline && !!rules && !!forms && !sameValues({ rules, forms }, baseline));

  useEffect(() => {
    if (!loaded.data) return;
    const { channels: _channels, ...rest } = loaded.data;
    setRules(rest);
    setForms(channelForms(loaded.data));
  }, [loaded.data]);

  if (!rules || !forms) return <section><h1>{t('nav.channels')}</h1><Notice error={loaded.error} /></section>;
  const schedule = rules.schedule;
  const setSchedule = (patch: Partial<typeof schedule>) => setRules({ ...rules, schedule: { ...schedule, ...patch } });
  const submit = () => void save.run(async () => {
    const channels: AlarmSettings['channels'] = {};
    for (const kind of CHANNEL_KINDS) {
      if (forms[kind].present) channels[kind] = { enabled: forms[kind].enabled, settings: fromForm(kind, forms[kind].values) };
    }
    const { updated_at: _u, ...body } = { ...rules, channels } as AlarmSettings & { updated_at?: unknown };
    await api.put('/api/config/alarm', body);
    loaded.reload();
  }, t('common.saved'));

  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.channels')}</h1>
      </div>
      <div class="card">
        <h2>{t('channels.rules')}</h2>
        <div class="form-grid">
          <Field label={t('channels.debounce')} hint={t('channels.debounceHint')}>
            <input type="number" name="debounce_min" min={0} max={1440} value={rules.debounce_min} onInput={(e) => setRules({ ...rules, debounce_min: Number(inputValue(e)) })} />
          </Field>
          <Field label={t('channels.deadband')}>
            <input type="number" name="deadband_pct" min={0} max={50} value={rules.deadband_pct} onInput={(e) => setRules({ ...rules, deadband_pct: Number(inputValue(e)) })} />
          </Field>
          <Field label={t('channels.lowBattery')}>
            <input type="number" name="low_battery_pct" min={1} max={100} value={rules.low_battery_pct} onInput={(e) => setRules({ ...rules, low_battery_pct: Number(inputValue(e)) })} />
          </Field>
        </div>
        <h3>{t('channels.schedule')}</h3>
        <div class="row wrap">
          {DAYS.map((day) => (
            <label key={day} class="check">
              <input type="checkbox" checked={schedule.days.includes(day)}
                onChange={(e) => setSchedule({ days: inputChecked(e) ? [...schedule.days, day].sort((a, b) => a - b) : schedule.days.filter((d) => d !== day) })} />
              {t(`day.${day}` as TextKey)}
            </label>
          ))}
        </div>
        <div class="form-grid">
          {/* Text, not <input type="time">: that one shows 12-hour AM/PM in an English browser, and the times are the site's. */}
          <Field label={t('channels.from')} hint={t('channels.timesIn', { tz: zone ?? '…' })}>
            <input name="schedule.start" inputMode="numeric" placeholder="HH:MM" maxLength={5} pattern="([01][0-9]|2[0-3]):[0-5][0-9]" value={schedule.start} onInput={(e) => setSchedule({ start: inputValue(e) })} />
          </Field>
          <Field label={t('channels.to')} hint={`24:00 = ${t('channels.endOfDay')}`}>
            <input name="schedule.end" inputMode="numeric" placeholder="HH:MM" maxLength={5} pattern="([01][0-9]|2[0-3]):[0-5][0-9]|24:00" value={schedule.end} onInput={(e) => setSchedule({ end: inputValue(e) })} />
          </Field>
          <Field label={t('channels.alwaysNotify')} hint="HIGH, FAULT, …">
            <input name="schedule.always_notify" value={schedule.always_notify.join(', ')}
              onInput={(e) => setSchedule({ always_notify: inputValue(e).split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean) })} />
          </Field>
          <label class="check">
            <input type="checkbox" checked={schedule.notify_cleared} onChange={(e) => setSchedule({ notify_cleared: inputChecked(e) })} />
            {t('channels.notifyCleared')}
          </label>
        </div>
      </div>
      <AlarmPolicy rules={rules} onChange={setRules} />
      {CHANNEL_KINDS.map((kind) => (
        <ChannelCard key={kind} kind={kind} form={forms[kind]} onChange={(form) => setForms({ ...forms, [kind]: form })} />
      ))}
      <div class="form-end" data-section="save-channels">
        <Notice error={save.error} ok={save.ok} />
        <button type="button" class="primary" data-action="save-channels" disabled={save.busy} onClick={submit}>{t('common.save')}</button>
      </div>
    </section>
  );
}

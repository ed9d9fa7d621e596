// UI-3 / ARC-1: the S3/R2 storage settings (GET/PUT /api/config/storage, POST …/test). The form
// is built from what the API returns (booleans as switches, "******" secrets as password fields
// that round-trip unchanged), so it follows the archive engineer's schema as it lands; until the
// route exists it says "not available yet".
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import { api, fieldLabel, notAvailable } from '../lib/api.ts';
import { Field, inputChecked, inputValue, Notice, sameValues, useAction, useLoad, useUnsavedChanges } from '../lib/ui.tsx';

type Settings = Record<string, unknown>;
const HIDDEN = new Set(['updated_at']);
const isSecretField = (key: string, value: unknown) => value === '******' || /secret|password|pass$/.test(key);

export function StorageSettings(props: { admin: boolean }) {
  const loaded = useLoad(() => api.get<Settings>('/api/config/storage'), []);
  const [form, setForm] = useState<Settings | null>(null);
  const save = useAction();
  const test = useAction();
  const [testResult, setTestResult] = useState<{ ok?: boolean; message?: string } | null>(null);
  useEffect(() => setForm(loaded.data), [loaded.data]);
  useUnsavedChanges(!!form && !!loaded.data && !sameValues(form, loaded.data)); // issue 16.11

  if (notAvailable(loaded.error)) return <div class="card" data-section="storage"><h2>{t('system.storage')}</h2><p class="muted" data-unavailable>{t('common.notAvailable')}</p></div>;
  if (!form) return <div class="card" data-section="storage"><h2>{t('system.storage')}</h2><Notice error={loaded.error} /></div>;

  const keys = Object.keys(form).filter((k) => !HIDDEN.has(k) && (typeof form[k] !== 'object' || form[k] === null));
  const body = () => Object.fromEntries(keys.map((k) => [k, form[k]]));
  return (
    <div class="card" data-section="storage">
      <h2>{t('system.storage')} {form.enabled === false && <span class="pill pill-offline">{t('system.archivingOff')}</span>}</h2>
      <div class="form-grid">
        {keys.map((key) => typeof form[key] === 'boolean' ? (
          <label key={key} class="check">
            <input type="checkbox" name={key} disabled={!props.admin} checked={form[key] as boolean} onChange={(e) => setForm({ ...form, [key]: inputChecked(e) })} />
            {fieldLabel(key)}
          </label>
        ) : (
          <Field key={key} label={fieldLabel(key)}>
            <input name={key} disabled={!props.admin} autoComplete="off" type={(isSecretField(key, form[key]) ? 'password' : typeof form[key] === 'number' ? 'number' : 'text') as 'text'}
              value={form[key] === null ? '' : String(form[key])}
              onInput={(e) => setForm({ ...form, [key]: typeof form[key] === 'number' ? Number(inputValue(e)) : inputValue(e) })} />
          </Field>
        ))}
      </div>
      {props.admin && (
        <div class="row">
          <button type="button" class="primary" disabled={save.busy} onClick={() => void save.run(() => api.put('/api/config/storage', body()), t('common.saved')).then((ok) => ok && loaded.reload())}>{t('common.save')}</button>
          <button type="button" disabled={test.busy} onClick={() => void test.run(async () => setTestResult(await api.post('/api/config/storage/test', body())))}>{t('system.testConnection')}</button>
        </div>
      )}
      <Notice error={save.error ?? test.error} ok={save.ok} />
      {testResult && <p class={`notice ${testResult.ok === false ? 'notice-error' : 'notice-ok'}`}>{testResult.ok === false ? '✗' : '✓'} {testResult.message ?? ''}</p>}
    </div>
  );
}

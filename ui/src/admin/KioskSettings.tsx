// UI-2 settings the kiosk reads: its title, when a device's value counts as stale, how long
// without a heartbeat means "connection lost", and whether unplaced devices are listed; the kiosk's
// address to copy; with several plans (issue 15.8) how often the kiosk turns to the next one
// (rotate_s, 0: it stays; a plan with an active critical alarm comes forward anyway). Leaving with unsaved changes asks first (issue 16.11).
import { useState } from 'preact/hooks';
import type { DashboardView } from '../../../appliance/contract/dashboard.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { CopyButton, Field, inputChecked, inputValue, Notice, sameValues, useAction, useUnsavedChanges } from '../lib/ui.tsx';

const formOf = (view: DashboardView) => ({
  title: view.title, stale_after_s: String(view.stale_after_s), connection_timeout_s: String(view.connection_timeout_s), show_unplaced: view.show_unplaced, rotate_s: String(view.rotate_s),
});

export function KioskSettings(props: { view: DashboardView; onSaved: () => void }) {
  const [form, setForm] = useState(() => formOf(props.view));
  useUnsavedChanges(!sameValues(form, formOf(props.view)));
  const kioskAddress = `${location.origin}/dashboard`;
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(() => api.put('/api/config/dashboard', {
      title: form.title, stale_after_s: Number(form.stale_after_s), connection_timeout_s: Number(form.connection_timeout_s), show_unplaced: form.show_unplaced,
      rotate_s: Number(form.rotate_s),
    }), t('common.saved')).then((ok) => ok && props.onSaved());
  };
  return (
    <form class="card" onSubmit={submit} data-form="kiosk-settings">
      <h2>{t('editor.kioskSettings')}</h2>
      <p class="row" data-kiosk-address>
        <span class="muted">{t('nav.kiosk')}:</span> <code>{kioskAddress}</code> <CopyButton text={kioskAddress} />
      </p>
      <div class="form-grid">
        <Field label={t('editor.title')}><input name="title" maxLength={80} value={form.title} onInput={(e) => setForm({ ...form, title: inputValue(e) })} /></Field>
        <Field label={t('editor.staleAfter')} hint={t('editor.staleAfterHint')}>
          <input type="number" name="stale_after_s" min={10} max={3600} value={form.stale_after_s} onInput={(e) => setForm({ ...form, stale_after_s: inputValue(e) })} />
        </Field>
        <Field label={t('editor.connectionTimeout')} hint={t('editor.connectionTimeoutHint')}>
          <input type="number" name="connection_timeout_s" min={3} max={120} value={form.connection_timeout_s} onInput={(e) => setForm({ ...form, connection_timeout_s: inputValue(e) })} />
        </Field>
        <Field label={t('editor.rotate')} hint={t('editor.rotateHint')}>
          <input type="number" name="rotate_s" min={0} max={3600} step={1} value={form.rotate_s} onInput={(e) => setForm({ ...form, rotate_s: inputValue(e) })} />
        </Field>
        <label class="check">
          <input type="checkbox" name="show_unplaced" checked={form.show_unplaced} onChange={(e) => setForm({ ...form, show_unplaced: inputChecked(e) })} />
          {t('editor.showUnplaced')}
        </label>
      </div>
      <Notice error={action.error} ok={action.ok} />
      <button type="submit" class="primary" disabled={action.busy}>{t('common.save')}</button>
    </form>
  );
}

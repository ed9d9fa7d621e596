// LIC-2..LIC-6 in the admin: the license card on the System page (state, what it means, install
// a license file from the vendor) and the banner on every page — evaluation, grace (with the time
// left) or the lock screen saying why and what to do (LIC-4; the kiosk keeps showing live values).
import { useEffect, useState } from 'preact/hooks';
import type { LicenseState } from '../../../appliance/contract/license.ts';
import { formatTime, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { linkClick } from '../lib/router.ts';
import { Notice, useAction, useLoad } from '../lib/ui.tsx';

const hours = (ms: number | null) => (ms === null ? '—' : `${Math.max(0, Math.round(ms / 3_600_000))} h`);

export function LicenseBanner() {
  const [state, setState] = useState<LicenseState | null>(null);
  useEffect(() => {
    const load = () => api.get<LicenseState>('/api/system/license').then(setState, () => undefined);
    void load();
    const timer = window.setInterval(load, 60_000);
    return () => window.clearInterval(timer);
  }, []);
  if (!state || state.mode === 'valid') return null;
  const tone = state.mode === 'locked' ? 'license-locked' : state.mode === 'grace' ? 'notice-warn' : 'license-eval';
  return (
    <div class={`notice license-banner ${tone}`} role={state.mode === 'locked' ? 'alert' : 'status'} data-license={state.mode}>
      <strong>{t(`license.${state.mode}`)}</strong>{' '}
      {state.mode === 'evaluation' && t('license.evaluationText', { n: state.max_devices })}
      {state.mode === 'grace' && t('license.graceText', { left: hours(state.grace_left_ms) })}
      {state.mode === 'locked' && t('license.lockedText')}
      {state.mode !== 'evaluation' && <div class="small">{state.message}</div>}
      {state.mode !== 'evaluation' && <a href="/admin/system" onClick={(e) => linkClick(e, '/admin/system')}>{t('license.toSystem')}</a>}
    </div>
  );
}

export function LicenseCard(props: { admin: boolean }) {
  const license = useLoad(() => api.get<LicenseState>('/api/system/license'), []);
  const install = useAction();
  const s = license.data;
  const onFile = (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    void install.run(async () => {
      await api.post('/api/system/license', { file: await file.text() });
      license.reload();
    }, t('license.installed'));
  };
  return (
    <div class="card" data-section="license">
      <h2>{t('system.license')} {s && <span class={`pill pill-${s.mode === 'valid' ? 'ok' : s.mode === 'locked' ? 'alarm' : 'offline'}`} data-license-mode={s.mode}>{t(`license.${s.mode}`)}</span>}</h2>
      <Notice error={license.error ?? install.error} ok={install.ok} />
      {s && (
        <dl class="facts">
          <dt>{t('license.state')}</dt><dd>{s.message}</dd>
          <dt>{t('license.customer')}</dt><dd>{s.customer ?? '—'}</dd>
          <dt>{t('license.devices')}</dt><dd>{s.devices_used} / {s.max_devices}</dd>
          <dt>{t('license.expires')}</dt><dd>{s.expires ?? '—'}</dd>
          {s.grace_left_ms !== null && <><dt>{t('license.graceLeft')}</dt><dd>{hours(s.grace_left_ms)}</dd></>}
          <dt>{t('license.key')}</dt><dd><code>{s.license_key ?? '—'}</code></dd>
          <dt>{t('license.machine')}</dt><dd><code>{s.machine_id ?? '—'}</code></dd>
          <dt>{t('license.checkin')}</dt><dd>{s.last_checkin ? `${formatTime(s.last_checkin.at)} · ${s.last_checkin.result}${s.last_checkin.detail ? ` · ${s.last_checkin.detail}` : ''}` : '—'}</dd>
        </dl>
      )}
      {props.admin && (
        <label class="button">
          {t('license.install')}
          <input type="file" name="license" accept=".key,.json,.lic,text/plain,application/json" hidden onChange={onFile} />
        </label>
      )}
    </div>
  );
}

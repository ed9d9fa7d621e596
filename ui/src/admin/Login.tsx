// UI-3 login, and the forced first-login password change (API-4: login answers
// must_change_password and every other route is refused until POST /api/auth/password).
import { useState } from 'preact/hooks';
import { lang, setLang, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { Field, inputValue, Notice, useAction } from '../lib/ui.tsx';

interface LoginAnswer {
  access_token: string;
  must_change_password: boolean;
}

export function LangSwitch() {
  return (
    <button type="button" class="lang-switch" onClick={() => setLang(lang() === 'zh-CN' ? 'en' : 'zh-CN')}>
      {lang() === 'zh-CN' ? 'English' : '中文'}
    </button>
  );
}

export function Login(props: { onLoggedIn: (token: string, password: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const answer = await api.post<LoginAnswer>('/api/auth/login', { username, password });
      props.onLoggedIn(answer.access_token, password);
    });
  };
  return (
    <div class="login-page">
      <form class="card login-card" onSubmit={submit}>
        <div class="login-head">
          <h1>MCS Edge</h1>
          <LangSwitch />
        </div>
        <p class="muted">{t('login.subtitle')}</p>
        <Field label={t('login.username')}>
          <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername(inputValue(e))} required />
        </Field>
        <Field label={t('login.password')}>
          <input name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(inputValue(e))} required />
        </Field>
        <Notice error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>{t('login.submit')}</button>
        <a class="muted small" href="/dashboard">{t('nav.kiosk')} →</a>
      </form>
    </div>
  );
}

export function PasswordChange(props: { username: string; currentPassword: string; forced: boolean; onChanged: (newPassword: string) => void; onCancel?: () => void }) {
  const [current, setCurrent] = useState(props.currentPassword);
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setMismatch(next !== again);
    if (next !== again) return;
    void action.run(async () => {
      await api.post('/api/auth/password', { current_password: current, new_password: next });
      props.onChanged(next);
    });
  };
  return (
    <div class="login-page">
      <form class="card login-card" onSubmit={submit} data-form="password-change">
        <h1>{t('password.title')}</h1>
        {props.forced && <p class="notice notice-warn">{t('password.forced', { user: props.username })}</p>}
        <Field label={t('password.current')}>
          <input name="current_password" type="password" autoComplete="current-password" value={current} onInput={(e) => setCurrent(inputValue(e))} required />
        </Field>
        <Field label={t('password.new')} hint={t('password.rule')}>
          <input name="new_password" type="password" autoComplete="new-password" minLength={8} value={next} onInput={(e) => setNext(inputValue(e))} required />
        </Field>
        <Field label={t('password.again')}>
          <input name="new_password_again" type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain(inputValue(e))} required />
        </Field>
        {mismatch && <p class="notice notice-error">{t('password.mismatch')}</p>}
        <Notice error={action.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={action.busy}>{t('password.submit')}</button>
          {props.onCancel && <button type="button" onClick={props.onCancel}>{t('common.cancel')}</button>}
        </div>
      </form>
    </div>
  );
}

// UI-3 users and kiosk links (API-3): add users (they change the password at first login), change
// role, disable, set a new password, remove; create a long-lived viewer token for a control-room
// screen (shown once, as a ready /dashboard?token=… link, with a copy button) and revoke it.
// An initial password can be generated here, shown in clear and copied (issue 16.10).
import { useState } from 'preact/hooks';
import type { Role, UserView } from '../../../appliance/contract/users.ts';
import { formatTime, t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { CopyButton, Field, inputValue, Modal, Notice, useAction, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const ROLES: Role[] = ['viewer', 'operator', 'admin'];

interface KioskToken {
  id: number;
  name: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
}

/** Letters and digits people can read aloud and type: no 0/O, 1/l/I, and never a leading '-'. */
const READABLE = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function readablePassword(length = 14): string {
  const limit = 256 - (256 % READABLE.length); // no modulo bias
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) if (byte < limit && out.length < length) out += READABLE[byte % READABLE.length];
  }
  return out;
}

function AddUser(props: { onClose: () => void; onAdded: () => void }) {
  const [form, setForm] = useState({ username: '', role: 'viewer' as Role, password: '' });
  const [generated, setGenerated] = useState(false);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(() => api.post('/api/users', form)).then((ok) => ok && props.onAdded());
  };
  return (
    <Modal title={t('users.add')} onClose={props.onClose}>
      <form onSubmit={submit} data-form="user">
        <Field label={t('login.username')}><input name="username" required value={form.username} onInput={(e) => setForm({ ...form, username: inputValue(e) })} /></Field>
        <Field label={t('users.role')}>
          <select name="role" value={form.role} onChange={(e) => setForm({ ...form, role: inputValue(e) as Role })}>
            {ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
          </select>
        </Field>
        <Field label={t('users.initialPassword')} hint={t('users.initialHint')}>
          <div class="row">
            <input name="password" type={(generated ? 'text' : 'password') as 'text'} minLength={8} required autoComplete="new-password" value={form.password}
              onInput={(e) => (setGenerated(false), setForm({ ...form, password: inputValue(e) }))} />
            <button type="button" data-action="generate-password" onClick={() => (setGenerated(true), setForm({ ...form, password: readablePassword() }))}>{t('common.generate')}</button>
            {generated && <CopyButton text={form.password} />}
          </div>
        </Field>
        <Notice error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>{t('common.save')}</button>
      </form>
    </Modal>
  );
}

function KioskTokens() {
  const tokens = useLoad(() => api.get<{ data: KioskToken[] }>('/api/auth/kiosk-tokens'), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const action = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      setCreated(await api.post<{ name: string; token: string }>('/api/auth/kiosk-tokens', { name }));
      setName('');
      tokens.reload();
    });
  };
  const link = created ? `${location.origin}/dashboard?token=${encodeURIComponent(created.token)}` : '';
  return (
    <div class="card" data-section="kiosk-tokens">
      <h2>{t('users.kioskTokens')}</h2>
      <p class="muted">{t('users.kioskHelp')}</p>
      <form class="row" onSubmit={create}>
        <input name="kiosk_name" required maxLength={64} placeholder={t('users.kioskName')} value={name} onInput={(e) => setName(inputValue(e))} />
        <button type="submit" disabled={action.busy}>{t('users.kioskCreate')}</button>
      </form>
      <Notice error={tokens.error ?? action.error} />
      {created && (
        <div class="notice notice-warn" data-kiosk-link>
          <p>{t('users.kioskOnce', { name: created.name })}</p>
          <div class="row">
            <input readOnly class="grow" value={link} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
            <CopyButton text={link} />
          </div>
        </div>
      )}
      <div class="table-wrap">
        <table class="table">
          <thead><tr><th>{t('users.kioskName')}</th><th>{t('users.createdBy')}</th><th>{t('users.created')}</th><th>{t('users.lastUsed')}</th><th /></tr></thead>
          <tbody>
            {tokens.data?.data.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td><td>{k.created_by}</td><td>{formatTime(k.created_at)}</td><td>{formatTime(k.last_used_at)}</td>
                <td><button type="button" class="danger" onClick={() => confirm(t('users.confirmRevoke', { name: k.name })) && void action.run(() => api.del(`/api/auth/kiosk-tokens/${k.id}`)).then(tokens.reload)}>{t('users.revoke')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function UsersPage({ session }: PageProps) {
  const users = useLoad(() => api.get<{ data: UserView[] }>('/api/users'), []);
  const [adding, setAdding] = useState(false);
  const action = useAction();
  const update = (u: UserView, body: Record<string, unknown>, okText: string) => void action.run(() => api.put(`/api/users/${encodeURIComponent(u.username)}`, body), okText).then(users.reload);
  const setPassword = (u: UserView) => {
    const password = prompt(t('users.newPasswordPrompt', { user: u.username }));
    if (password) update(u, { password }, t('users.passwordSet', { user: u.username }));
  };
  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.users')}</h1>
        <button type="button" class="primary" onClick={() => setAdding(true)}>+ {t('users.add')}</button>
      </div>
      <Notice error={users.error ?? action.error} ok={action.ok} />
      <div class="table-wrap">
        <table class="table" data-table="users">
          <thead><tr><th>{t('login.username')}</th><th>{t('users.role')}</th><th>{t('users.enabled')}</th><th>{t('users.lastLogin')}</th><th /></tr></thead>
          <tbody>
            {users.data?.data.map((u) => (
              <tr key={u.username} data-user={u.username}>
                <td>{u.username}{u.username === session.username && <small class="muted"> ({t('users.you')})</small>}{u.must_change_password && <small class="muted"> · {t('users.mustChange')}</small>}</td>
                <td>
                  <select value={u.role} disabled={u.username === session.username} onChange={(e) => update(u, { role: inputValue(e) }, t('common.saved'))}>
                    {ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
                  </select>
                </td>
                <td>
                  <input type="checkbox" checked={u.enabled} disabled={u.username === session.username} aria-label={t('users.enabled')}
                    onChange={(e) => update(u, { enabled: (e.currentTarget as HTMLInputElement).checked }, t('common.saved'))} />
                </td>
                <td>{formatTime(u.last_login_at)}</td>
                <td class="actions">
                  <button type="button" onClick={() => setPassword(u)}>{t('users.setPassword')}</button>
                  {u.username !== session.username && (
                    <button type="button" class="danger" onClick={() => confirm(t('users.confirmRemove', { user: u.username })) && void action.run(() => api.del(`/api/users/${encodeURIComponent(u.username)}`)).then(users.reload)}>{t('common.remove')}</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <KioskTokens />
      {adding && <AddUser onClose={() => setAdding(false)} onAdded={() => (setAdding(false), users.reload())} />}
    </section>
  );
}

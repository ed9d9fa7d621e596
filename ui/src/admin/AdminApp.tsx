// UI-3 the admin app (/admin): log in (and the forced password change), then a page per task.
// Role-aware (API-3): pages and buttons a role may not use are not shown; the API refuses them
// anyway, and its refusals are shown in the user's language.
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Role } from '../../../appliance/contract/users.ts';
import { t, useLang, type TextKey } from '../i18n/i18n.ts';
import { api, setApiToken } from '../lib/api.ts';
import { linkClick, usePath } from '../lib/router.ts';
import { adminToken, can, clearAdminToken, saveAdminToken, type Session } from '../lib/session.ts';
import { AlarmsPage } from './Alarms.tsx';
import { AuditPage } from './Audit.tsx';
import { CalibrationPage } from './Calibration.tsx';
import { ChannelsPage } from './Channels.tsx';
import { DataPage } from './DataQuery.tsx';
import { DevicesPage } from './Devices.tsx';
import { EditorPage } from './DashboardEditor.tsx';
import { LicenseBanner } from './License.tsx';
import { LinkagePage } from './Linkage.tsx';
import { LangSwitch, Login, PasswordChange } from './Login.tsx';
import { OverviewPage } from './Overview.tsx';
import { SystemPage } from './System.tsx';
import { UsersPage } from './Users.tsx';

export interface PageProps {
  session: Session;
}

const PAGES: { path: string; label: TextKey; role: Role; view: FunctionComponent<PageProps> }[] = [
  { path: 'overview', label: 'nav.overview', role: 'viewer', view: OverviewPage },
  { path: 'devices', label: 'nav.devices', role: 'viewer', view: DevicesPage },
  { path: 'alarms', label: 'nav.alarms', role: 'viewer', view: AlarmsPage },
  { path: 'data', label: 'nav.data', role: 'operator', view: DataPage },
  { path: 'calibration', label: 'nav.calibration', role: 'viewer', view: CalibrationPage },
  { path: 'channels', label: 'nav.channels', role: 'admin', view: ChannelsPage },
  { path: 'linkage', label: 'nav.linkage', role: 'admin', view: LinkagePage },
  { path: 'editor', label: 'nav.editor', role: 'admin', view: EditorPage },
  { path: 'system', label: 'nav.system', role: 'viewer', view: SystemPage },
  { path: 'users', label: 'nav.users', role: 'admin', view: UsersPage },
  { path: 'audit', label: 'nav.audit', role: 'admin', view: AuditPage },
];

interface Me {
  username: string;
  role: Role;
  must_change_password: boolean;
}

type Stage = { kind: 'checking' } | { kind: 'login' } | { kind: 'change'; username: string; password: string } | { kind: 'in'; session: Session };

export function AdminApp() {
  useLang();
  const path = usePath();
  const [stage, setStage] = useState<Stage>({ kind: 'checking' });
  const [menuOpen, setMenuOpen] = useState(false);

  const logout = () => {
    clearAdminToken();
    setApiToken(null);
    setStage({ kind: 'login' });
  };

  async function enter(token: string, password = '') {
    saveAdminToken(token);
    setApiToken(token, logout);
    const me = await api.get<Me>('/api/auth/me');
    if (me.must_change_password) setStage({ kind: 'change', username: me.username, password });
    else setStage({ kind: 'in', session: { token, username: me.username, role: me.role, mustChangePassword: false } });
  }

  useEffect(() => {
    const token = adminToken();
    if (!token) return setStage({ kind: 'login' });
    enter(token).catch(logout);
  }, []);

  if (stage.kind === 'checking') return <div class="login-page"><p class="muted">{t('common.loading')}</p></div>;
  if (stage.kind === 'login') return <Login onLoggedIn={(token, password) => void enter(token, password).catch(logout)} />;
  if (stage.kind === 'change') {
    return (
      <PasswordChange username={stage.username} currentPassword={stage.password} forced onCancel={logout}
        onChanged={async (next) => {
          const answer = await api.post<{ access_token: string }>('/api/auth/login', { username: stage.username, password: next });
          await enter(answer.access_token, next);
        }} />
    );
  }

  const { session } = stage;
  const name = path.replace(/^\/admin\/?/, '').split('/')[0] || 'overview';
  const page = PAGES.find((p) => p.path === name && can(session, p.role)) ?? PAGES[0];
  const View = page.view;
  return (
    <div class="admin" data-role={session.role}>
      <header class="admin-top">
        <button type="button" class="menu-toggle" aria-label={t('nav.menu')} onClick={() => setMenuOpen(!menuOpen)}>☰</button>
        <a class="brand" href="/admin" onClick={(e) => linkClick(e, '/admin')}>MCS Edge</a>
        <span class="spacer" />
        <a class="kiosk-link" href="/dashboard" target="_blank" rel="noopener">{t('nav.kiosk')} ↗</a>
        <span class="whoami" data-user={session.username}>{session.username} · {t(`role.${session.role}`)}</span>
        <LangSwitch />
        <button type="button" onClick={logout}>{t('nav.logout')}</button>
      </header>
      <nav class={`admin-nav${menuOpen ? ' open' : ''}`}>
        {PAGES.filter((p) => can(session, p.role)).map((p) => (
          <a key={p.path} href={`/admin/${p.path}`} class={p === page ? 'active' : ''} data-nav={p.path}
            onClick={(e) => {
              setMenuOpen(false);
              linkClick(e, `/admin/${p.path}`);
            }}>
            {t(p.label)}
          </a>
        ))}
      </nav>
      <main class="admin-main" data-page={page.path}>
        <LicenseBanner />
        <View session={session} />
      </main>
    </div>
  );
}


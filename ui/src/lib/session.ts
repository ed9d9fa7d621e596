// Who is logged in: the admin token in localStorage (the kiosk reuses it), and a kiosk token kept
// apart so a control-room screen stays on its own viewer token (UI-2).
import type { Role } from '../../../appliance/contract/users.ts';

const TOKEN_KEY = 'mcs.token';
const KIOSK_KEY = 'mcs.kioskToken';

export interface Session {
  token: string;
  username: string;
  role: Role;
  mustChangePassword: boolean;
}

export const adminToken = (): string | null => localStorage.getItem(TOKEN_KEY);
export const saveAdminToken = (token: string) => localStorage.setItem(TOKEN_KEY, token);
export const clearAdminToken = () => localStorage.removeItem(TOKEN_KEY);

/** The kiosk's token: ?token= in the URL (then remembered and removed from the address bar), else the saved one, else the admin's. */
export function kioskToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    localStorage.setItem(KIOSK_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return localStorage.getItem(KIOSK_KEY) ?? adminToken();
}

export function forgetKioskToken() {
  localStorage.removeItem(KIOSK_KEY);
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** API-3 in the UI: hide what the role may not do (the API refuses it anyway). */
export const can = (session: Pick<Session, 'role'> | null, needed: Role): boolean => !!session && RANK[session.role] >= RANK[needed];

// Which screen this is, for the alarm journal when SILENCE is pressed (UI-5): `?kiosk=<name>` in
// the kiosk link (then remembered), else the one remembered, else the token's subject
// (`kiosk:<id>` for a kiosk token, the user name for a logged-in user), else "kiosk".
const NAME_KEY = 'mcs.kioskName';

/** The subject of a JWT, without checking it (the server does): only a label. */
export function tokenSubject(token: string | null): string | null {
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof json.sub === 'string' && json.sub ? json.sub : null;
  } catch {
    return null;
  }
}

export function kioskName(token: string | null): string {
  const fromUrl = new URL(location.href).searchParams.get('kiosk')?.trim().slice(0, 64);
  if (fromUrl) {
    localStorage.setItem(NAME_KEY, fromUrl);
    return fromUrl;
  }
  return localStorage.getItem(NAME_KEY) ?? tokenSubject(token) ?? 'kiosk';
}

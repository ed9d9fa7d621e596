// API-3 users and kiosk tokens: the people who log in to the admin UI, and the long-lived viewer
// tokens of control-room screens.
import type { Db } from './db.ts';
import type { Role } from '../contract/users.ts';

export interface User {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  must_change_password: boolean;
  enabled: boolean;
  token_version: number;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface KioskToken {
  id: number;
  name: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

type UserRow = Omit<User, 'must_change_password' | 'enabled'> & { must_change_password: number; enabled: number };

const fromRow = (row: UserRow): User => ({ ...row, must_change_password: row.must_change_password === 1, enabled: row.enabled === 1 });

export interface UserChange {
  role?: Role;
  enabled?: boolean;
  password_hash?: string;
  must_change_password?: boolean;
}

export function createUserRepository(db: Db) {
  const byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  const all = db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username');
  const insert = db.prepare(`
    INSERT INTO users (username, role, password_hash, must_change_password, created_at, updated_at)
    VALUES (@username, @role, @password_hash, @must_change_password, @now, @now)`);
  const remove = db.prepare<[string]>('DELETE FROM users WHERE username = ?');
  const enabledAdmins = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM users WHERE role = 'admin' AND enabled = 1");
  const loggedIn = db.prepare<[number, string]>('UPDATE users SET last_login_at = ? WHERE username = ?');
  const insertToken = db.prepare<[string, string, number]>('INSERT INTO kiosk_tokens (name, created_by, created_at) VALUES (?, ?, ?)');
  const tokenById = db.prepare<[number], KioskToken>('SELECT * FROM kiosk_tokens WHERE id = ?');
  const tokens = db.prepare<[], KioskToken>('SELECT * FROM kiosk_tokens WHERE revoked_at IS NULL ORDER BY id');
  const revoke = db.prepare<[number, number]>('UPDATE kiosk_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const used = db.prepare<[number, number]>('UPDATE kiosk_tokens SET last_used_at = ? WHERE id = ?');

  return {
    get(username: string): User | undefined {
      const row = byName.get(username);
      return row && fromRow(row);
    },
    all: (): User[] => all.all().map(fromRow),
    count: (): number => all.all().length,
    enabledAdminCount: (): number => enabledAdmins.get()!.n,
    insert(user: { username: string; role: Role; password_hash: string; must_change_password: boolean }, now: number): User {
      insert.run({ ...user, must_change_password: user.must_change_password ? 1 : 0, now });
      return fromRow(byName.get(user.username)!);
    },
    /** Applies a change; a password, role or enabled change also ends the sessions issued before it. */
    update(username: string, change: UserChange, now: number): User | undefined {
      const sets: string[] = ['updated_at = @now'];
      if (change.role !== undefined) sets.push('role = @role');
      if (change.enabled !== undefined) sets.push('enabled = @enabled');
      if (change.password_hash !== undefined) sets.push('password_hash = @password_hash');
      if (change.must_change_password !== undefined) sets.push('must_change_password = @must_change_password');
      if (change.role !== undefined || change.enabled !== undefined || change.password_hash !== undefined) {
        sets.push('token_version = token_version + 1');
      }
      const params = {
        username, now, role: change.role, password_hash: change.password_hash,
        enabled: change.enabled === undefined ? undefined : change.enabled ? 1 : 0,
        must_change_password: change.must_change_password === undefined ? undefined : change.must_change_password ? 1 : 0,
      };
      const defined = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
      const changed = db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE username = @username`).run(defined).changes;
      return changed ? fromRow(byName.get(username)!) : undefined;
    },
    remove: (username: string): boolean => remove.run(username).changes > 0,
    markLogin: (username: string, now: number): void => void loggedIn.run(now, username),
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),

    createKioskToken(name: string, createdBy: string, now: number): KioskToken {
      return tokenById.get(Number(insertToken.run(name, createdBy, now).lastInsertRowid))!;
    },
    kioskToken: (id: number): KioskToken | undefined => tokenById.get(id),
    kioskTokens: (): KioskToken[] => tokens.all(),
    revokeKioskToken: (id: number, now: number): boolean => revoke.run(now, id).changes > 0,
    markKioskTokenUsed: (id: number, now: number): void => void used.run(now, id),
  };
}
export type UserRepository = ReturnType<typeof createUserRepository>;

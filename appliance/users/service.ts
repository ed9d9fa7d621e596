// API-3/API-4 users: the first admin, login with a rate limit, sessions as JWTs (24 h), kiosk
// viewer tokens, password changes and user management that never leaves the box without an
// enabled admin.
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { hashPassword, randomPassword, verifyScrypt } from '../core/passwords.ts';
import { ROLES, type Role, type UserCreate, type UserUpdate } from '../contract/users.ts';
import type { Jwt } from './jwt.ts';
import type { KioskToken, User, UserRepository } from '../storage/users.ts';
import { createLoginLimiter, type LoginLimits } from './login-limiter.ts';

export const SESSION_TTL_S = 24 * 3600;
/** Kiosk tokens live until revoked; the exp claim is only a far horizon. */
const KIOSK_TTL_S = 10 * 365 * 24 * 3600;
export const FIRST_ADMIN = 'admin';

/** Who is calling, as the routes and the WebSocket see it. */
export interface Principal {
  username: string;
  role: Role;
  kind: 'user' | 'kiosk';
  mustChangePassword: boolean;
}

export interface UserServiceDeps {
  users: UserRepository;
  jwt: Jwt;
  clock: Clock;
  log: Logger;
  loginLimits?: LoginLimits;
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const expired = (detail: string) => new AppError('AUTH_TOKEN_EXPIRED', detail);

export function createUserService({ users, jwt, clock, log, loginLimits }: UserServiceDeps) {
  const limiter = createLoginLimiter(clock, loginLimits);
  const seconds = () => Math.floor(clock.now() / 1000);

  function mustExist(username: string): User {
    const user = users.get(username);
    if (!user) throw new AppError('NOT_FOUND', { username }, `no user ${username}`);
    return user;
  }

  /** Refuses a change that would leave no enabled admin (the box would be unmanageable). */
  function keepAnAdmin(user: User, next: { role: Role; enabled: boolean } | null) {
    const staysAdmin = next !== null && next.role === 'admin' && next.enabled;
    if (user.role === 'admin' && user.enabled && !staysAdmin && users.enabledAdminCount() <= 1) {
      throw new AppError('CONFLICT', { username: user.username }, 'the last enabled admin cannot be removed, disabled or demoted');
    }
  }

  return {
    /**
     * API-4: on a box without users, creates `admin` with MCS_ADMIN_PASSWORD, or with a random
     * password printed once to the log and a forced change at first login.
     */
    async ensureFirstAdmin(configured: string): Promise<{ created: boolean; generated: string | null }> {
      if (users.count() > 0) return { created: false, generated: null };
      const password = configured || randomPassword();
      users.insert({ username: FIRST_ADMIN, role: 'admin', password_hash: await hashPassword(password), must_change_password: !configured }, clock.now());
      if (!configured) {
        log.warn({ username: FIRST_ADMIN, password }, 'first admin created with this one-time password; it must be changed at first login');
      } else {
        log.info({ username: FIRST_ADMIN }, 'first admin created from MCS_ADMIN_PASSWORD');
      }
      return { created: true, generated: configured ? null : password };
    },

    async login(username: string, password: string, address: string) {
      // API-3: the attempt counts as failed before scrypt runs, so a burst sent at once cannot check
      // more passwords than the limit allows; past it even the right password waits (429).
      const attempt = limiter.reserve(address, username);
      if (!attempt.ok) throw new AppError('TOO_MANY_LOGINS', { retry_after_s: Math.ceil(attempt.retryAfterMs / 1000) });
      const user = users.get(username);
      const ok = await verifyScrypt(user?.password_hash ?? DUMMY_HASH, password); // same cost for unknown names
      if (!user || !ok || !user.enabled) {
        attempt.failed();
        throw new AppError('AUTH_BAD_CREDENTIALS');
      }
      attempt.succeeded();
      users.markLogin(user.username, clock.now());
      const iat = seconds();
      const token = jwt.sign({ sub: user.username, role: user.role, ver: user.token_version, iat, exp: iat + SESSION_TTL_S });
      return { access_token: token, token_type: 'bearer' as const, expires_in: SESSION_TTL_S, role: user.role, must_change_password: user.must_change_password };
    },

    /** Checks a bearer token and that its user or kiosk token is still valid (seed §7.3). */
    authenticate(token: string): Principal {
      const result = jwt.verify(token, clock.now());
      if (!result.ok) throw expired(result.reason === 'expired' ? 'token expired, log in again' : 'token invalid');
      const { claims } = result;
      if (claims.kid !== undefined) {
        const kiosk = users.kioskToken(claims.kid);
        if (!kiosk || kiosk.revoked_at !== null) throw expired('kiosk token revoked');
        if (kiosk.last_used_at === null || clock.now() - kiosk.last_used_at > 3_600_000) users.markKioskTokenUsed(kiosk.id, clock.now());
        return { username: claims.sub, role: 'viewer', kind: 'kiosk', mustChangePassword: false };
      }
      const user = users.get(claims.sub);
      if (!user || !user.enabled || user.token_version !== claims.ver) throw expired('session ended, log in again');
      return { username: user.username, role: user.role, kind: 'user', mustChangePassword: user.must_change_password };
    },

    async changeOwnPassword(username: string, current: string, next: string): Promise<void> {
      const user = mustExist(username);
      if (!(await verifyScrypt(user.password_hash, current))) throw new AppError('AUTH_BAD_CREDENTIALS', null, 'the current password is wrong');
      if (current === next) throw new AppError('REQUEST_INVALID', { field: 'new_password' }, 'the new password must differ from the current one');
      users.update(username, { password_hash: await hashPassword(next), must_change_password: false }, clock.now());
    },

    /** Whether `username` is a user of this box (the login audit records only such names). */
    exists: (username: string): boolean => !!users.get(username),
    list: (): User[] => users.all(),
    get: mustExist,

    async create(input: UserCreate): Promise<User> {
      if (users.get(input.username)) throw new AppError('CONFLICT', { username: input.username }, `user ${input.username} exists`);
      return users.insert({ username: input.username, role: input.role, password_hash: await hashPassword(input.password), must_change_password: true }, clock.now());
    },

    async update(username: string, input: UserUpdate): Promise<{ before: User; after: User }> {
      const before = mustExist(username);
      const password_hash = input.password === undefined ? undefined : await hashPassword(input.password);
      const after = users.transaction(() => {
        const current = mustExist(username);
        keepAnAdmin(current, { role: input.role ?? current.role, enabled: input.enabled ?? current.enabled });
        return users.update(username, { role: input.role, enabled: input.enabled, password_hash, must_change_password: password_hash ? true : undefined }, clock.now())!;
      });
      return { before, after };
    },

    remove(username: string): User {
      return users.transaction(() => {
        const user = mustExist(username);
        keepAnAdmin(user, null);
        users.remove(username);
        return user;
      });
    },

    createKioskToken(name: string, createdBy: string): { kiosk: KioskToken; token: string } {
      const kiosk = users.createKioskToken(name, createdBy, clock.now());
      const iat = seconds();
      return { kiosk, token: jwt.sign({ sub: `kiosk:${kiosk.id}`, role: 'viewer', kid: kiosk.id, iat, exp: iat + KIOSK_TTL_S }) };
    },
    kioskTokens: (): KioskToken[] => users.kioskTokens(),
    revokeKioskToken(id: number): KioskToken {
      const kiosk = users.kioskToken(id);
      if (!kiosk || !users.revokeKioskToken(id, clock.now())) throw new AppError('NOT_FOUND', { id }, `no kiosk token ${id}`);
      return kiosk;
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
export { ROLES };

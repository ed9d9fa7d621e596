// API-3 login rate limit: failed logins are counted per client address and per user name in a
// sliding window; past the limit a login is refused with 429 before the password is checked, so
// guessing is slow from one address and slow against one account from many.
import type { Clock } from '../core/clock.ts';

export interface LoginLimits {
  windowMs: number;
  perAddress: number;
  perUser: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 15 * 60_000, perAddress: 20, perUser: 5 };
const MAX_TRACKED_KEYS = 10_000;

export function createLoginLimiter(clock: Clock, limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
  const failures = new Map<string, number[]>();

  function recent(key: string): number[] {
    const since = clock.now() - limits.windowMs;
    const kept = (failures.get(key) ?? []).filter((at) => at > since);
    if (kept.length) failures.set(key, kept);
    else failures.delete(key);
    return kept;
  }

  return {
    /** ms to wait before the next attempt, or 0 when one is allowed. */
    retryAfterMs(address: string, username: string): number {
      const byAddress = recent(`a:${address}`);
      const byUser = recent(`u:${username.toLowerCase()}`);
      const blockedUntil = Math.max(
        byAddress.length >= limits.perAddress ? byAddress[byAddress.length - limits.perAddress] + limits.windowMs : 0,
        byUser.length >= limits.perUser ? byUser[byUser.length - limits.perUser] + limits.windowMs : 0,
      );
      return Math.max(0, blockedUntil - clock.now());
    },
    failed(address: string, username: string): void {
      if (failures.size > MAX_TRACKED_KEYS) failures.clear(); // bounded memory under a spray of names
      for (const key of [`a:${address}`, `u:${username.toLowerCase()}`]) failures.set(key, [...recent(key), clock.now()]);
    },
    succeeded(username: string): void {
      failures.delete(`u:${username.toLowerCase()}`);
    },
  };
}
export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

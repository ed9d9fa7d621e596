// API-3 login rate limit, also used for MQTT CONNECTs (DEV-5, wired in app.ts): failed logins
// are counted per client address and per user name in a sliding window; past the limit a login is
// refused before the password is checked, so guessing is slow from one address and slow against
// one account from many.
//
// An attempt is counted as a failure when it starts (reserve()), before the password is hashed,
// and taken back only if the password was right: 60 guesses sent at once must not all reach scrypt
// because none of them had failed yet when the others were let in.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';

export interface LoginLimits {
  windowMs: number;
  perAddress: number;
  perUser: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 15 * 60_000, perAddress: 20, perUser: 5 };
const MAX_TRACKED_KEYS = 10_000;
/** User names listed in one summary line. */
const NAMES_PER_SUMMARY = 5;

/** An admitted attempt, counted as failed until succeeded() takes it back. */
export interface LoginAttempt {
  ok: true;
  succeeded(): void;
  failed(): void;
}
export type LoginReservation = LoginAttempt | { ok: false; retryAfterMs: number };

export interface LoginLimiterOptions {
  /** Failed and refused attempts are logged as one warn line per address per window, not one per attempt. */
  log?: Logger;
  /** What is being logged into, for the log line ('MQTT login', 'login'). */
  what?: string;
}

interface AddressSummary {
  since: number;
  failed: number;
  refused: number;
  names: Set<string>;
}

/**
 * `address` null: the caller does not know it; only the user name is limited (never one key shared
 * by every client, which would let one guesser lock everybody out).
 */
export function createLoginLimiter(clock: Clock, limits: LoginLimits = DEFAULT_LOGIN_LIMITS, options: LoginLimiterOptions = {}) {
  const failures = new Map<string, number[]>();
  const summaries = new Map<string, AddressSummary>();
  const what = options.what ?? 'login';

  function recent(key: string): number[] {
    const since = clock.now() - limits.windowMs;
    const kept = (failures.get(key) ?? []).filter((at) => at > since);
    if (kept.length) failures.set(key, kept);
    else failures.delete(key);
    return kept;
  }

  /** The counted keys of an attempt with their limits. */
  function limited(address: string | null, username: string): [string, number][] {
    const user: [string, number] = [`u:${username.toLowerCase()}`, limits.perUser];
    return address === null ? [user] : [[`a:${address}`, limits.perAddress], user];
  }

  /** Only the newest `limit` failures decide a wait; keeping no more bounds the work per attempt under a flood. */
  const keepNewest = Math.max(limits.perAddress, limits.perUser);

  function add(key: string, at: number) {
    const list = [...recent(key), at].slice(-keepNewest);
    failures.delete(key); // re-inserted last: the oldest keys are the first evicted
    failures.set(key, list);
    // Bounded memory under a spray of names; evicting the oldest keeps the busy ones counted.
    for (const oldest of failures.keys()) {
      if (failures.size <= MAX_TRACKED_KEYS) break;
      failures.delete(oldest);
    }
  }

  function remove(key: string, at: number) {
    const list = failures.get(key);
    const index = list ? list.indexOf(at) : -1;
    if (index >= 0) list!.splice(index, 1);
  }

  function retryAfterMs(address: string | null, username: string): number {
    let until = 0;
    for (const [key, limit] of limited(address, username)) {
      const list = recent(key);
      if (list.length >= limit) until = Math.max(until, list[list.length - limit] + limits.windowMs);
    }
    return Math.max(0, until - clock.now());
  }

  const span = limits.windowMs >= 60_000 ? `${Math.round(limits.windowMs / 60_000)} min` : `${Math.round(limits.windowMs / 1000)} s`;

  /**
   * One warn line per address (or, when it is unknown, per user name) per window: the first
   * failure of a window is logged with the totals of the window before it; the rest is counted.
   */
  function note(address: string | null, username: string, kind: 'failed' | 'refused') {
    if (!options.log) return;
    const key = address ?? `user ${username.toLowerCase()}`;
    const now = clock.now();
    let summary = summaries.get(key);
    if (!summary || now - summary.since >= limits.windowMs) {
      const before = summary;
      summaries.delete(key);
      if (summaries.size >= MAX_TRACKED_KEYS) summaries.delete(summaries.keys().next().value!);
      summary = { since: now, failed: 0, refused: 0, names: new Set() };
      summaries.set(key, summary);
      const from = address === null ? 'an unknown address' : address;
      const event = kind === 'failed' ? `failed ${what} from ${from} as ${JSON.stringify(username)}` : `${what} from ${from} as ${JSON.stringify(username)} refused unchecked: too many failures`;
      const earlier = before ? `; before that, from ${new Date(before.since).toISOString()}: ${before.failed} failed, ${before.refused} refused unchecked` : '';
      options.log.warn({
        address, username, outcome: kind,
        previous_window: before && { since: new Date(before.since).toISOString(), failed: before.failed, refused_unchecked: before.refused, usernames: [...before.names] },
      }, `${event}${earlier}; failures in the next ${span} are only counted, and reported with the first one after them`);
    }
    summary[kind]++;
    if (summary.names.size < NAMES_PER_SUMMARY) summary.names.add(username);
  }

  return {
    /** ms to wait before the next attempt, or 0 when one is allowed. */
    retryAfterMs,

    /**
     * Admits an attempt and counts it as failed at once, or refuses it (counted in the log summary)
     * while the address or user name is over its limit. Check the password only when admitted.
     */
    reserve(address: string | null, username: string): LoginReservation {
      const wait = retryAfterMs(address, username);
      if (wait > 0) {
        note(address, username, 'refused');
        return { ok: false, retryAfterMs: wait };
      }
      const at = clock.now();
      for (const [key] of limited(address, username)) add(key, at);
      let settled = false;
      return {
        ok: true,
        succeeded() {
          if (settled) return;
          settled = true;
          if (address !== null) remove(`a:${address}`, at);
          failures.delete(`u:${username.toLowerCase()}`); // the right password clears the user's count
        },
        failed() {
          if (settled) return;
          settled = true;
          note(address, username, 'failed');
        },
      };
    },

    /** A failure of an attempt that was not reserved (see reserve()). */
    failed(address: string | null, username: string): void {
      const at = clock.now();
      for (const [key] of limited(address, username)) add(key, at);
      note(address, username, 'failed');
    },
    succeeded(username: string): void {
      failures.delete(`u:${username.toLowerCase()}`);
    },
  };
}
export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

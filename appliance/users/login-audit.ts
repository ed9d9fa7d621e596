// API-5 / issue 16.11: logins, failed logins and lock-outs in the audit log, without passwords and
// without letting a brute-force attack flood the log.
//
// - A successful login is one entry (auth.login): a person got in, from where.
// - Failed logins are counted per client address in the login limiter's window (15 min). An entry
//   (auth.login_failed) is written at the 1st, 10th, 100th, 1000th… failure of a window, carrying
//   the running count: a slow guesser leaves one line per window, a fast one a handful.
// - A lock-out (the first attempt refused unchecked in a window, API-3 rate limit) is one entry
//   (auth.lockout), then again at the 10th, 100th… refusal with the count.
// - Across all addresses at most MAX_ENTRIES_PER_WINDOW failure/lock-out entries are written per
//   window; what is held back is counted and reported (`suppressed`) in the next entry written.
// So an attack from one address costs O(log n) rows per window, and from any number of addresses
// at most MAX_ENTRIES_PER_WINDOW + 1 rows, while each row still says how many attempts it stands for.
//
// A name typed at a failed login is recorded only when it is a user of this box: an unknown
// "name" is often a password typed into the wrong box, and must not land in the log.
import type { Clock } from '../core/clock.ts';
import type { NewAuditEntry } from '../storage/audit.ts';
import { DEFAULT_LOGIN_LIMITS } from './login-limiter.ts';

export const MAX_ENTRIES_PER_WINDOW = 100;
const MAX_TRACKED_ADDRESSES = 10_000;

interface AddressWindow {
  since: number;
  failed: number;
  refused: number;
}

/** 1, 10, 100, 1000, …: the counts at which a window's failures (or refusals) are written. */
const isMark = (n: number) => n >= 1 && 10 ** Math.round(Math.log10(n)) === n;

export interface LoginAuditDeps {
  record(entry: NewAuditEntry): unknown;
  clock: Clock;
  windowMs?: number;
}

export function createLoginAudit({ record, clock, windowMs = DEFAULT_LOGIN_LIMITS.windowMs }: LoginAuditDeps) {
  const windows = new Map<string, AddressWindow>();
  let budget = { since: clock.now(), written: 0, suppressed: 0 };

  function windowOf(address: string): AddressWindow {
    const now = clock.now();
    let entry = windows.get(address);
    if (!entry || now - entry.since >= windowMs) {
      windows.delete(address);
      entry = { since: now, failed: 0, refused: 0 };
      windows.set(address, entry);
      if (windows.size > MAX_TRACKED_ADDRESSES) windows.delete(windows.keys().next().value!);
    }
    return entry;
  }

  /** Writes a failure/lock-out entry unless the window's budget is spent (then only counted). */
  function writeLimited(entry: NewAuditEntry & { after: Record<string, unknown> }) {
    const now = clock.now();
    if (now - budget.since >= windowMs) budget = { since: now, written: 0, suppressed: budget.suppressed };
    if (budget.written >= MAX_ENTRIES_PER_WINDOW) {
      budget.suppressed++;
      return;
    }
    budget.written++;
    const suppressed = budget.suppressed;
    budget.suppressed = 0;
    record(suppressed ? { ...entry, after: { ...entry.after, suppressed } } : entry);
  }

  const iso = (ms: number) => new Date(ms).toISOString();

  return {
    succeeded(username: string, address: string, role: string) {
      record({ at: clock.now(), username, ip: address, action: 'auth.login', target: username, after: { role } });
    },

    /** `knownUser`: whether `username` is a user of this box (else it is not recorded). */
    failed(username: string, knownUser: boolean, address: string) {
      const window = windowOf(address);
      window.failed++;
      if (!isMark(window.failed)) return;
      writeLimited({
        at: clock.now(), username: knownUser ? username : 'anonymous', ip: address, action: 'auth.login_failed', target: knownUser ? username : null,
        after: { reason: knownUser ? 'wrong password or user disabled' : 'unknown user name', failed_in_window: window.failed, window_since: iso(window.since) },
      });
    },

    /** An attempt refused unchecked (too many failures from this address or for this name). */
    refused(username: string, knownUser: boolean, address: string, retryAfterS: number) {
      const window = windowOf(address);
      window.refused++;
      if (!isMark(window.refused)) return;
      writeLimited({
        at: clock.now(), username: knownUser ? username : 'anonymous', ip: address, action: 'auth.lockout', target: knownUser ? username : null,
        after: { refused_in_window: window.refused, failed_in_window: window.failed, retry_after_s: retryAfterS, window_since: iso(window.since) },
      });
    },
  };
}
export type LoginAudit = ReturnType<typeof createLoginAudit>;

// SYNC-4: every transport waits before it tries again (a reconnect, or the next HTTPS attempt after
// a failure) with exponential backoff and FULL jitter: the n-th wait is drawn uniformly from
// [0, min(cap, base·2ⁿ)] (the "full jitter" of the AWS Architecture Blog's "Exponential Backoff and
// Jitter"). A fleet of boxes that lost the same cloud at the same moment therefore comes back spread
// over the window instead of in step (no reconnect storm), and a box never retries at a fixed pace
// the way mqtt.js's `reconnectPeriod` would.

export interface BackoffOptions {
  /** The first window, ms (default 1 s). */
  baseMs?: number;
  /** The largest window, ms (default 60 s). */
  capMs?: number;
  /** Uniform in [0, 1); tests pin it. */
  random?: () => number;
}

export interface Backoff {
  /** The next wait, ms; each call widens the window until it reaches the cap. */
  next(): number;
  /** After a success: the next failure starts from the first window again. */
  reset(): void;
  /** Waits handed out since the last reset. */
  readonly failures: number;
}

export const DEFAULT_BACKOFF = { baseMs: 1000, capMs: 60_000 } as const;

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const capMs = Math.max(baseMs, options.capMs ?? DEFAULT_BACKOFF.capMs);
  const random = options.random ?? Math.random;
  let failures = 0;
  return {
    next() {
      // 2^failures stops growing once the window is at the cap (no overflow after a week offline).
      const window = Math.min(capMs, baseMs * 2 ** Math.min(failures, 30));
      failures += 1;
      return Math.floor(random() * window);
    },
    reset() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}

// LIC-3 in the appliance: the license guard's check-ins with the vendor's license server (the
// request and the answer's signature check are licensing/checkin.ts). One at a time: a call while
// one is in flight joins it. Never throws, so the job scheduler's daily 03:00 run (OPS-2) can call
// it as a plain async function; a failure is an error in the log. After a network failure or an
// answer not signed by the vendor it is tried again hourly while the guard runs. A stop ends the
// one in flight at once (OPS-4: a stop must not wait for a slow license server). A signed answer,
// valid or refused, replaces the kept token; each outcome is kept as `last_checkin` and the guard
// evaluates again.
import type { KeyObject } from 'node:crypto';
import { checkIn as checkInWithServer, type SignedCheckinAnswer } from '../../licensing/checkin.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { LicenseState } from '../contract/license.ts';

const RETRY_AFTER_FAILURE_MS = 3_600_000;

export type Checkin = NonNullable<LicenseState['last_checkin']>;

export interface CheckinScheduleDeps {
  /** `license.server_url`; empty: no server configured. */
  serverUrl: string;
  timeoutMs: number;
  version: string;
  /** The vendor's public key the answer's signature is checked with. */
  key: () => KeyObject;
  fetchImpl?: typeof fetch;
  clock: Clock;
  log: Logger;
  /** The license and machine to check in for; null when there is none (no good file, or no machine id). */
  subject: () => { licenseKey: string; machineId: string } | null;
  /** Keeps a signed answer (the token store). */
  keepAnswer: (licenseKey: string, signed: SignedCheckinAnswer) => void;
  /** Evaluates the license again after an outcome. */
  evaluate: () => void;
}

export function createCheckinSchedule(deps: CheckinScheduleDeps) {
  const { clock, log } = deps;
  let last: Checkin | null = null;
  let inFlight: Promise<Checkin | null> | null = null;
  let retry: NodeJS.Timeout | undefined;
  let running = false;
  let stopping = new AbortController();

  async function run(): Promise<Checkin | null> {
    const subject = deps.subject();
    if (!subject) return null;
    const { licenseKey, machineId } = subject;
    if (!deps.serverUrl) {
      last = { at: clock.now(), result: 'not_configured', detail: 'no license server configured (license.server_url)' };
      deps.evaluate();
      return last;
    }
    const outcome = await checkInWithServer({
      serverUrl: deps.serverUrl, machineId, licenseKey, version: deps.version, publicKey: deps.key(),
      timeoutMs: deps.timeoutMs, fetchImpl: deps.fetchImpl, signal: stopping.signal,
    });
    const at = clock.now();
    if (outcome.kind === 'answer') {
      deps.keepAnswer(licenseKey, outcome.signed); // LIC-3: a fresh answer (valid or refused) replaces the token
      last = { at, result: outcome.answer.valid ? 'valid' : 'refused', detail: outcome.answer.message };
      if (!outcome.answer.valid) log.error({ code: outcome.answer.code, reason: outcome.answer.reason, message: outcome.answer.message }, 'license refused by the license server');
    } else {
      last = { at, result: outcome.kind, detail: outcome.problem };
      log.warn({ result: outcome.kind, problem: outcome.problem, server: deps.serverUrl }, outcome.kind === 'untrusted'
        ? "license check-in answer not signed by the vendor's key: ignored"
        : 'license server unreachable: running on the token (grace)');
    }
    deps.evaluate();
    return last;
  }

  /** The daily 03:00 check-in is the job scheduler's (OPS-2); after a network failure the guard retries hourly. */
  function scheduleRetry(after: Checkin | null) {
    if (retry) clearTimeout(retry);
    retry = undefined;
    const failed = after?.result === 'unreachable' || after?.result === 'untrusted';
    if (!running || !failed) return;
    retry = setTimeout(() => void schedule.checkIn(), RETRY_AFTER_FAILURE_MS);
    retry.unref();
  }

  const schedule = {
    /** Hourly retries from now on; check-ins from now on can be ended by stop(). */
    start() {
      running = true;
      stopping = new AbortController();
    },
    /** No more retries; ends a check-in in flight at once and waits for it to settle. */
    async stop() {
      running = false;
      if (retry) clearTimeout(retry);
      stopping.abort();
      await inFlight?.catch(() => {});
    },
    /** LIC-3 check-in as a plain async function. Never throws. */
    checkIn(): Promise<Checkin | null> {
      inFlight ??= run()
        .catch((err) => {
          log.error({ err }, 'license check-in failed');
          return null;
        })
        .then((result) => {
          inFlight = null;
          scheduleRetry(result);
          return result;
        });
      return inFlight;
    },
    /** The last check-in's outcome, null before the first. */
    last: (): Checkin | null => last,
  };
  return schedule;
}

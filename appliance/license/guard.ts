// LIC-1…LIC-6 in the appliance: the license guard. It reads this machine's id, the license file
// and the last signed check-in answer, asks the pure gate (licensing/gate.ts) for the mode, and
// tells the other stages through app.ts what they may do: connect how many devices (broker),
// archive, accept management-API writes and long-range queries. It checks in with the vendor's
// server at start and daily, picks up a license file dropped into place, and raises a LICENSE
// system alarm when grace has less than 24 h left and while locked. It never blinds or silences
// the plant (LIC-4): readings, alarms, the kiosk and notifications do not ask it.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { checkIn as checkInWithServer } from '../../licensing/checkin.ts';
import { decide, LicenseCode, type Evaluation, type LicenseFileState } from '../../licensing/gate.ts';
import { maskLicenseKey, verifyLicenseText } from '../../licensing/license-file.ts';
import { readMachineId, type MachineIdResult } from '../../licensing/machine-id.ts';
import { publicKeyFromPem } from '../../licensing/signing.ts';
import { readTokenFile, writeTokenFile, type TokenFileContent } from '../../licensing/token-file.ts';
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import { AppError, type ErrorName } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';
import type { LicenseState } from '../contract/license.ts';

export const TOKEN_FILE_NAME = 'license-token.json';
export const DEFAULT_LICENSE_FILE_NAME = 'license.key';
/** Seed §8.4: the LICENSE alarm once grace has less than this left. */
export const GRACE_ALARM_MS = 24 * 3_600_000;
const RETRY_AFTER_FAILURE_MS = 3_600_000;

export type LicenseAlarmSource = 'license:grace' | 'license:locked';
/** What a stage may do. All are refused while locked (LIC-4); readings, alarms and notifications never ask. */
export type LicensedAction = 'archive' | 'api_write' | 'query';
type Checkin = NonNullable<LicenseState['last_checkin']>;

export interface LicenseGuardDeps {
  settings: { file: string; serverUrl: string; machineId: string; timeoutMs: number };
  dataDir: string;
  /** The vendor's public key (PEM); app.ts passes the shipped one unless a test hands its own. */
  publicKeyPem: string;
  version: string;
  clock: Clock;
  log: Logger;
  bus?: Bus;
  /** Distinct devices connected now (the broker's count). */
  devicesUsed: () => number;
  /** The LICENSE system alarm of `source` holds or stopped holding (ALM-1). */
  reportCondition: ReportSystemCondition;
  fetchImpl?: typeof fetch;
  filePollMs?: number;
  tickMs?: number;
}

export function createLicenseGuard(deps: LicenseGuardDeps) {
  const { settings, clock } = deps;
  const log = deps.log.child({ stage: 'license' });
  const licenseFile = settings.file || join(deps.dataDir, DEFAULT_LICENSE_FILE_NAME);
  const tokenFile = join(deps.dataDir, TOKEN_FILE_NAME);
  let publicKey: KeyObject | null = null;
  let machine: MachineIdResult = { ok: false, error: 'not started' };
  let file: LicenseFileState = { status: 'absent' };
  let fileStamp = '';
  let persisted: TokenFileContent | null = null;
  let current: Evaluation | null = null;
  let lastCheckin: Checkin | null = null;
  let inFlight: Promise<Checkin | null> | null = null;
  const alarmHolds = new Map<LicenseAlarmSource, boolean>();
  const timers: { poll?: NodeJS.Timeout; tick?: NodeJS.Timeout; checkin?: NodeJS.Timeout } = {};
  let running = false;
  let stopping = new AbortController();

  const key = () => publicKey ?? (publicKey = publicKeyFromPem(deps.publicKeyPem));
  const stampOf = () => {
    try {
      const s = statSync(licenseFile);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'absent';
    }
  };

  function loadFile() {
    fileStamp = stampOf();
    let text: string;
    try {
      text = readFileSync(licenseFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      file = code === 'ENOENT' ? { status: 'absent' } : { status: 'invalid', problem: `cannot read ${licenseFile} (${code})` };
      return;
    }
    const result = verifyLicenseText(text, key());
    file = result.ok ? { status: 'ok', license: result.license } : { status: 'invalid', problem: result.problem };
    if (file.status === 'ok' && machine.ok && persisted?.license_key !== file.license.license_key) {
      persisted = { license_key: file.license.license_key, first_seen: clock.now(), token: null };
      save();
    }
  }

  function loadToken() {
    if (!machine.ok) return;
    const read = readTokenFile(tokenFile, key(), machine.machineId);
    if (read.status === 'unreadable') log.warn({ file: tokenFile, problem: read.problem }, 'license token file unusable; ignored');
    if (read.status !== 'ok') return;
    if (read.tokenProblem) log.warn({ problem: read.tokenProblem }, 'stored check-in token is not valid (edited or for another machine); ignored');
    persisted = { license_key: read.licenseKey, first_seen: read.firstSeen, token: read.signed };
  }

  function save() {
    if (!persisted) return;
    try {
      mkdirSync(deps.dataDir, { recursive: true });
      writeTokenFile(tokenFile, persisted);
    } catch (err) {
      log.error({ err, file: tokenFile }, 'could not keep the license token; grace state is not saved across restarts');
    }
  }

  function evaluate(): Evaluation {
    const now = clock.now();
    const evaluation: Evaluation =
      file.status === 'ok' && !machine.ok
        ? { mode: 'locked', reason: 'machine_mismatch', code: LicenseCode.MACHINE_MISMATCH, maxDevices: file.license.max_devices, validUntil: null, graceUntil: null,
            message: `This machine's id cannot be read (${machine.error}), so the license cannot be checked. Make /etc/machine-id readable by the service.` }
        : decide({ file, token: persisted?.token ?? null, now, machineId: machine.ok ? machine.machineId : '', firstSeen: persisted?.first_seen ?? null });
    const previous = current;
    current = evaluation;
    if (!previous || previous.mode !== evaluation.mode || previous.reason !== evaluation.reason) {
      const line = { mode: evaluation.mode, reason: evaluation.reason, code: evaluation.code || undefined, message: evaluation.message };
      if (evaluation.mode === 'locked' || evaluation.mode === 'grace') log.warn(line, 'license');
      else log.info(line, 'license');
      deps.bus?.emit('license', { mode: evaluation.mode, reason: evaluation.reason, code: evaluation.code, message: evaluation.message });
    }
    const graceLow = evaluation.mode === 'grace' && evaluation.graceUntil !== null && evaluation.graceUntil - now < GRACE_ALARM_MS;
    setAlarm('license:grace', graceLow, evaluation.message);
    setAlarm('license:locked', evaluation.mode === 'locked', evaluation.message);
    return evaluation;
  }

  function setAlarm(source: LicenseAlarmSource, holds: boolean, detail: string) {
    if (alarmHolds.get(source) === holds) return;
    alarmHolds.set(source, holds);
    // Committed with the writer's next batch, which retries a failed commit (ALM-8).
    deps.reportCondition('LICENSE', source, { holds, detail });
  }

  async function runCheckin(): Promise<Checkin | null> {
    if (file.status !== 'ok' || !machine.ok) return null;
    const licenseKey = file.license.license_key;
    if (!settings.serverUrl) {
      lastCheckin = { at: clock.now(), result: 'not_configured', detail: 'no license server configured (license.server_url)' };
      evaluate();
      return lastCheckin;
    }
    const outcome = await checkInWithServer({
      serverUrl: settings.serverUrl, machineId: machine.machineId, licenseKey, version: deps.version, publicKey: key(),
      timeoutMs: settings.timeoutMs, fetchImpl: deps.fetchImpl, signal: stopping.signal,
    });
    const at = clock.now();
    if (outcome.kind === 'answer') {
      if (persisted?.license_key === licenseKey) {
        persisted.token = outcome.signed; // LIC-3: a fresh answer (valid or refused) replaces the token
        save();
      }
      lastCheckin = { at, result: outcome.answer.valid ? 'valid' : 'refused', detail: outcome.answer.message };
      if (!outcome.answer.valid) log.error({ code: outcome.answer.code, reason: outcome.answer.reason, message: outcome.answer.message }, 'license refused by the license server');
    } else {
      lastCheckin = { at, result: outcome.kind, detail: outcome.problem };
      log.warn({ result: outcome.kind, problem: outcome.problem, server: settings.serverUrl }, outcome.kind === 'untrusted'
        ? "license check-in answer not signed by the vendor's key: ignored"
        : 'license server unreachable: running on the token (grace)');
    }
    evaluate();
    return lastCheckin;
  }

  /** The daily 03:00 check-in is the job scheduler's (OPS-2); after a network failure the guard retries hourly. */
  function scheduleRetry(after: Checkin | null) {
    if (timers.checkin) clearTimeout(timers.checkin);
    timers.checkin = undefined;
    const failed = after?.result === 'unreachable' || after?.result === 'untrusted';
    if (!running || !failed) return;
    timers.checkin = setTimeout(() => void guard.checkIn(), RETRY_AFTER_FAILURE_MS);
    timers.checkin.unref();
  }

  function pollFile() {
    if (stampOf() === fileStamp) return;
    const before = file.status === 'ok' ? file.license.license_key : null;
    loadFile();
    log.info({ file: licenseFile, status: file.status }, 'license file changed');
    evaluate();
    if (file.status === 'ok' && file.license.license_key !== before) void guard.checkIn();
  }

  function refusal(evaluation: Evaluation): AppError {
    const keyOf: Record<number, ErrorName> = { [LicenseCode.EXPIRED]: 'LICENSE_EXPIRED', [LicenseCode.MACHINE_MISMATCH]: 'LICENSE_MACHINE_MISMATCH' };
    return new AppError(keyOf[evaluation.code] ?? 'LICENSE_INVALID', { mode: evaluation.mode, reason: evaluation.reason }, evaluation.message);
  }

  const guard = {
    /** Consults the gate at once (no network), then checks in in the background. */
    start() {
      machine = readMachineId({ override: settings.machineId || undefined });
      if (!machine.ok) log.error({ problem: machine.error }, 'machine id unreadable');
      if (machine.ignoredOverride) log.warn({ override: machine.ignoredOverride }, 'license.machine_id / MCS_LICENSE_MACHINE_ID is ignored by the packaged binary: the license is checked against this machine\'s own id');
      key();
      loadToken();
      loadFile();
      evaluate();
      running = true;
      stopping = new AbortController();
      timers.poll = setInterval(() => safely(pollFile), deps.filePollMs ?? 5000);
      timers.tick = setInterval(() => safely(evaluate), deps.tickMs ?? 60_000);
      timers.poll.unref();
      timers.tick.unref();
      if (file.status === 'ok') void guard.checkIn();
    },
    /** Ends a check-in in flight at once (OPS-4: a stop must not wait for a slow license server). */
    async stop() {
      running = false;
      for (const timer of Object.values(timers)) if (timer) clearTimeout(timer);
      stopping.abort();
      await inFlight?.catch(() => {});
    },
    /** LIC-3 check-in as a plain async function: the scheduler's 03:00 job (jobs/schedule.ts). Never throws. */
    checkIn(): Promise<Checkin | null> {
      inFlight ??= runCheckin()
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
    /** Re-reads the clock (grace running out) and the license file; returns the state. */
    refresh(): LicenseState {
      pollFile();
      evaluate();
      return guard.state();
    },
    /** Verifies and installs a license file's text; takes effect at once. Throws AppError 2000x if refused. */
    install(text: string): LicenseState {
      const result = verifyLicenseText(text, key());
      if (!result.ok) throw new AppError('LICENSE_INVALID', { problem: result.problem }, `License file refused: ${result.problem}. Install the file exactly as the vendor sent it.`);
      const trial = decide({ file: { status: 'ok', license: result.license }, token: null, now: clock.now(), machineId: machine.ok ? machine.machineId : '' });
      if (trial.reason === 'machine_mismatch' || trial.reason === 'expired') throw refusal(trial);
      mkdirSync(dirname(licenseFile), { recursive: true });
      writeFileSync(`${licenseFile}.tmp`, text);
      renameSync(`${licenseFile}.tmp`, licenseFile);
      pollFile();
      return guard.state();
    },
    mode: () => (current ?? evaluate()).mode,
    /** LIC-4: what the stages may do now. */
    allows(_action: LicensedAction): boolean {
      return (current ?? evaluate()).mode !== 'locked';
    },
    /** LIC-5/LIC-6: how many distinct devices may be connected. */
    maxDevices: (): number => (current ?? evaluate()).maxDevices,
    /** For management-API writes and data queries: null, or the 403 business error to answer with (LIC-4). */
    apiError(): AppError | null {
      const evaluation = current ?? evaluate();
      return evaluation.mode === 'locked' ? refusal(evaluation) : null;
    },
    state(): LicenseState {
      const evaluation = current ?? evaluate();
      const license = file.status === 'ok' ? file.license : null;
      return {
        mode: evaluation.mode,
        code: evaluation.code,
        reason: evaluation.reason,
        message: evaluation.message,
        customer: license?.customer ?? null,
        expires: license?.expire_date ?? null,
        grace_left_ms: evaluation.mode === 'grace' && evaluation.graceUntil !== null ? Math.max(0, evaluation.graceUntil - clock.now()) : null,
        max_devices: evaluation.maxDevices,
        devices_used: deps.devicesUsed(),
        license_key: license ? maskLicenseKey(license.license_key) : null,
        machine_id: machine.ok ? machine.machineId : null,
        last_checkin: lastCheckin,
      };
    },
  };

  function safely(fn: () => void) {
    try {
      fn();
    } catch (err) {
      log.error({ err }, 'license evaluation failed');
    }
  }

  return guard;
}
export type LicenseGuard = ReturnType<typeof createLicenseGuard>;

// LIC-1…LIC-6 in the appliance: the license guard. It reads this machine's id, the license file
// and the last signed check-in answer, asks the pure gate (licensing/gate.ts) for the mode, and
// tells the other stages through app.ts what they may do: connect how many devices (broker),
// archive, accept management-API writes and long-range queries. It checks in with the vendor's
// server at start and daily, picks up a license file dropped into place, and raises a LICENSE
// system alarm when grace has less than 24 h left and while locked. It never blinds or silences
// the plant (LIC-4): readings, alarms, the kiosk and notifications do not ask it.
// The guard is the composition of its pieces: the license file (file-store.ts), the kept token
// (token-store.ts), the policy (evaluation.ts), the LICENSE alarm (alarms.ts), the check-ins
// (checkin-schedule.ts) and the state it answers with (state.ts).
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Evaluation } from '../../licensing/gate.ts';
import { verifyLicenseText } from '../../licensing/license-file.ts';
import { readMachineId, type MachineIdResult } from '../../licensing/machine-id.ts';
import { publicKeyFromPem } from '../../licensing/signing.ts';
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';
import type { LicenseState } from '../contract/license.ts';
import { createLicenseAlarms } from './alarms.ts';
import { createCheckinSchedule, type Checkin } from './checkin-schedule.ts';
import { evaluateLicense, installRefusal, refusal } from './evaluation.ts';
import { createLicenseFileStore, DEFAULT_LICENSE_FILE_NAME } from './file-store.ts';
import { licenseState } from './state.ts';
import { createTokenStore, TOKEN_FILE_NAME } from './token-store.ts';

export { DEFAULT_LICENSE_FILE_NAME, TOKEN_FILE_NAME };
export { GRACE_ALARM_MS, type LicenseAlarmSource } from './alarms.ts';

/** What a stage may do. All are refused while locked (LIC-4); readings, alarms and notifications never ask. */
export type LicensedAction = 'archive' | 'api_write' | 'query';

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
  let publicKey: KeyObject | null = null;
  const key = () => publicKey ?? (publicKey = publicKeyFromPem(deps.publicKeyPem));
  let machine: MachineIdResult = { ok: false, error: 'not started' };
  let current: Evaluation | null = null;
  const licenseFile = createLicenseFileStore({ file: settings.file || join(deps.dataDir, DEFAULT_LICENSE_FILE_NAME), key });
  const tokens = createTokenStore({ file: join(deps.dataDir, TOKEN_FILE_NAME), key, clock, log });
  const alarms = createLicenseAlarms(deps.reportCondition);
  const checkins = createCheckinSchedule({
    serverUrl: settings.serverUrl, timeoutMs: settings.timeoutMs, version: deps.version, key, fetchImpl: deps.fetchImpl, clock, log,
    subject: () => {
      const file = licenseFile.state();
      return file.status === 'ok' && machine.ok ? { licenseKey: file.license.license_key, machineId: machine.machineId } : null;
    },
    keepAnswer: tokens.keepAnswer,
    evaluate: () => void evaluate(),
  });
  const timers: { poll?: NodeJS.Timeout; tick?: NodeJS.Timeout } = {};

  /** Reads the license file; a license key not seen before starts a fresh token record (its first grace, LIC-3). */
  function loadFile() {
    const file = licenseFile.load();
    if (file.status === 'ok' && machine.ok) tokens.adopt(file.license.license_key);
  }

  /** The mode now; a change is logged and told on the bus, and the LICENSE alarm follows. */
  function evaluate(): Evaluation {
    const now = clock.now();
    const evaluation = evaluateLicense({ file: licenseFile.state(), machine, token: tokens.token(), firstSeen: tokens.firstSeen(), now });
    const previous = current;
    current = evaluation;
    if (!previous || previous.mode !== evaluation.mode || previous.reason !== evaluation.reason) announce(evaluation);
    alarms.follow(evaluation, now);
    return evaluation;
  }

  function announce(evaluation: Evaluation) {
    const line = { mode: evaluation.mode, reason: evaluation.reason, code: evaluation.code || undefined, message: evaluation.message };
    if (evaluation.mode === 'locked' || evaluation.mode === 'grace') log.warn(line, 'license');
    else log.info(line, 'license');
    deps.bus?.emit('license', { mode: evaluation.mode, reason: evaluation.reason, code: evaluation.code, message: evaluation.message });
  }

  /** A license file copied into place is read and judged; a new license checks in at once. */
  function pollFile() {
    if (!licenseFile.changed()) return;
    const before = keyOf();
    loadFile();
    log.info({ file: licenseFile.path, status: licenseFile.state().status }, 'license file changed');
    evaluate();
    const after = keyOf();
    if (after !== null && after !== before) void guard.checkIn();
  }

  function keyOf(): string | null {
    const file = licenseFile.state();
    return file.status === 'ok' ? file.license.license_key : null;
  }

  function safely(fn: () => void) {
    try {
      fn();
    } catch (err) {
      log.error({ err }, 'license evaluation failed');
    }
  }

  const guard = {
    /** Consults the gate at once (no network), then checks in in the background. */
    start() {
      machine = readMachineId({ override: settings.machineId || undefined });
      if (!machine.ok) log.error({ problem: machine.error }, 'machine id unreadable');
      if (machine.ignoredOverride) log.warn({ override: machine.ignoredOverride }, 'license.machine_id / MCS_LICENSE_MACHINE_ID is ignored by the packaged binary: the license is checked against this machine\'s own id');
      key();
      if (machine.ok) tokens.load(machine.machineId);
      loadFile();
      evaluate();
      checkins.start();
      timers.poll = setInterval(() => safely(pollFile), deps.filePollMs ?? 5000);
      timers.tick = setInterval(() => safely(evaluate), deps.tickMs ?? 60_000);
      timers.poll.unref();
      timers.tick.unref();
      if (licenseFile.state().status === 'ok') void guard.checkIn();
    },
    /** Ends a check-in in flight at once (OPS-4: a stop must not wait for a slow license server). */
    async stop() {
      for (const timer of Object.values(timers)) if (timer) clearInterval(timer);
      await checkins.stop();
    },
    /** LIC-3 check-in as a plain async function: the scheduler's 03:00 job (jobs/schedule.ts). Never throws. */
    checkIn: (): Promise<Checkin | null> => checkins.checkIn(),
    /** Re-reads the clock (grace running out) and the license file; returns the state. */
    refresh(): LicenseState {
      pollFile();
      evaluate();
      return guard.state();
    },
    /** Verifies and installs a license file's text; takes effect at once. Throws AppError 2000x if refused. */
    install(text: string): LicenseState {
      const refused = installRefusal(verifyLicenseText(text, key()), machine, clock.now());
      if (refused) throw refused;
      licenseFile.write(text);
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
      return licenseState({
        evaluation, file: licenseFile.state(), machine, now: clock.now(), devicesUsed: deps.devicesUsed(), lastCheckin: checkins.last(),
      });
    },
  };

  return guard;
}
export type LicenseGuard = ReturnType<typeof createLicenseGuard>;

// Issue 15.2: calibration and bump-test records per detector (JJG 693-2011), their due dates and
// the device conditions they raise. Recording a calibration with a new k/b changes the device
// through the device service (the same validation and cache reload as the device form) and sends
// the `calib` command (DEV-3) when the device is connected. The due evaluation reports CAL_DUE,
// CAL_OVERDUE and BUMP_DUE through the device-condition port (core/system-conditions.ts); the
// writer commits them with the alarm lifecycle (ALM-8), so a condition reported twice changes nothing.
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ReportDeviceCondition } from '../core/system-conditions.ts';
import type { DeviceCommand } from '../contract/device-payload.ts';
import type { CalibrationRecordInput, CalibrationRecordView, DueRowView, IntervalsInput } from '../contract/calibration.ts';
import { formatSiteTime } from '../contract/site-format.ts';
import type { DeviceService } from '../devices/service.ts';
import type { Device } from '../storage/devices.ts';
import { dueConditions, dueFigures, type DueFigures } from './due.ts';
import type { CalibrationRecord, CalibrationRepository, DeviceIntervals } from './repository.ts';

export interface CalibrationDefaults {
  /** config calibration.interval_days */
  intervalDays: number;
  /** config calibration.bump_test_days; 0 = none */
  bumpTestDays: number;
  /** config calibration.due_lead_days */
  dueLeadDays: number;
}

export interface CalibrationServiceDeps {
  repo: CalibrationRepository;
  devices: DeviceService;
  /** Every registered device (the device cache). */
  allDevices: () => Iterable<Device>;
  commands: { isConnected(sn: string): boolean; sendCommand(sn: string, command: DeviceCommand): Promise<void> };
  reportCondition: ReportDeviceCondition;
  defaults: CalibrationDefaults;
  clock: Clock;
  log: Logger;
  timezone: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : iso(ms));

export function recordView(record: CalibrationRecord): CalibrationRecordView {
  const { recorded_at: _recorded, at, ...rest } = record;
  return { ...rest, at: iso(at) };
}

function invalid(english: string, chinese: string, detail: unknown): AppError {
  return new AppError('REQUEST_INVALID', detail, `${english} / ${chinese}`);
}

export function createCalibrationService(deps: CalibrationServiceDeps) {
  const { repo, defaults, clock } = deps;
  const log = deps.log.child({ stage: 'calibration' });

  function effectiveIntervals(stored: DeviceIntervals) {
    return { calibrationDays: stored.calibration_days ?? defaults.intervalDays, bumpTestDays: stored.bump_test_days ?? defaults.bumpTestDays };
  }

  // Set once in the database, the first time it is asked; read once per process, not per device.
  let recordsSinceAt: number | null = null;
  const recordsSince = (now: number) => (recordsSinceAt ??= repo.recordsSince(now));

  function dueRow(device: Device, stored: DeviceIntervals, passed: Partial<Record<'calibration' | 'bump_test', number>>, now: number): { row: DueRowView; figures: DueFigures } {
    const { calibrationDays, bumpTestDays } = effectiveIntervals(stored);
    const figures = dueFigures({
      registeredAt: Math.max(device.created_at, recordsSince(now)), lastPassedCalibrationAt: passed.calibration ?? null, lastPassedBumpTestAt: passed.bump_test ?? null,
      calibrationDays, bumpTestDays, leadDays: defaults.dueLeadDays,
    }, now);
    return {
      figures,
      row: {
        sn: device.sn, name: device.name, location: device.location,
        calibration_days: calibrationDays, last_calibration_at: isoOrNull(passed.calibration), calibration_due_at: iso(figures.calibrationDueAt), calibration_state: figures.calibrationState,
        bump_test_days: bumpTestDays, last_bump_test_at: isoOrNull(passed.bump_test), bump_test_due_at: isoOrNull(figures.bumpTestDueAt), bump_test_state: figures.bumpTestState,
      },
    };
  }

  const formatDate = (ms: number) => formatSiteTime(ms, deps.timezone).slice(0, 10);

  /** The due figures of these devices (all when omitted), and their conditions reported. */
  function evaluate(only?: Device[]): DueRowView[] {
    const now = clock.now();
    const devices = only ?? [...deps.allDevices()];
    const passed = only?.length === 1 ? repo.lastPassed(only[0].sn) : repo.lastPassed();
    const intervals = repo.allIntervals();
    const rows: DueRowView[] = [];
    for (const device of devices) {
      const { row, figures } = dueRow(device, intervals.get(device.sn) ?? { calibration_days: null, bump_test_days: null }, passed.get(device.sn) ?? {}, now);
      rows.push(row);
      // A disabled detector is out of service: nothing of it is due until it is back.
      const conditions = dueConditions(figures, formatDate);
      for (const c of conditions) deps.reportCondition(c.type, device.sn, device.enabled ? c : { holds: false });
    }
    return rows;
  }

  function report(): DueRowView[] {
    const now = clock.now();
    const passed = repo.lastPassed();
    const intervals = repo.allIntervals();
    return [...deps.allDevices()]
      .map((device) => dueRow(device, intervals.get(device.sn) ?? { calibration_days: null, bump_test_days: null }, passed.get(device.sn) ?? {}, now).row)
      .sort((a, b) => a.calibration_due_at.localeCompare(b.calibration_due_at) || a.sn.localeCompare(b.sn));
  }

  return {
    /** At start: what fell due while the appliance was off is raised now. */
    start() {
      const rows = evaluate();
      log.info({ devices: rows.length, due: rows.filter((r) => r.calibration_state !== 'ok' || r.bump_test_state === 'overdue').length }, 'calibration due dates checked');
    },
    /** The daily job (jobs/schedule.ts). */
    async check() {
      const rows = evaluate();
      return {
        devices: rows.length,
        cal_due: rows.filter((r) => r.calibration_state === 'due').length,
        cal_overdue: rows.filter((r) => r.calibration_state === 'overdue').length,
        bump_due: rows.filter((r) => r.bump_test_state === 'overdue').length,
      };
    },
    /** The due report: every device, soonest due first. */
    report,
    /** One device's due figures, intervals and records, newest first. */
    ofDevice(sn: string) {
      const device = deps.devices.get(sn);
      const stored = repo.intervals(sn);
      return { due: dueRow(device, stored, repo.lastPassed(sn).get(sn) ?? {}, clock.now()).row, intervals: stored, records: repo.list(sn).map(recordView) };
    },
    setIntervals(sn: string, input: IntervalsInput) {
      const device = deps.devices.get(sn);
      const before = repo.intervals(sn);
      repo.setIntervals(sn, input, clock.now());
      const [due] = evaluate([device]);
      return { before, after: repo.intervals(sn), due };
    },
    /**
     * Records a calibration or bump test by `by`. A new k or b (calibration only) changes the
     * device's calibration and goes to the device as `calib` when it is connected; offline, the
     * device keeps converting with the appliance's k/b (ingest calibrates raw values) until then.
     */
    async record(sn: string, input: CalibrationRecordInput, by: string) {
      const device = deps.devices.get(sn);
      const now = clock.now();
      const at = input.at === undefined ? now : Date.parse(input.at);
      if (at > now) throw invalid('the calibration time is in the future', '校准时间不能晚于现在', { at: input.at });
      const changesCalib = input.k !== undefined || input.b !== undefined;
      if (changesCalib && input.kind !== 'calibration') throw invalid('a bump test does not change k/b; record a calibration', '气体测试不能修改 k/b，请记录为校准', { kind: input.kind });
      if (changesCalib && !input.passed) throw invalid('a failed calibration cannot set new k/b', '未通过的校准不能设置新的 k/b', { passed: false });
      let updated = device;
      if (changesCalib) updated = deps.devices.update(sn, { calib: { k: input.k ?? device.calib.k, b: input.b ?? device.calib.b } }).device;
      const record = repo.insert({
        sn, kind: input.kind, at, by, test_gas: input.test_gas ?? null, concentration: input.concentration ?? null, as_found: input.as_found ?? null,
        as_left: input.as_left ?? null, passed: input.passed, new_k: changesCalib ? updated.calib.k : null, new_b: changesCalib ? updated.calib.b : null,
        comment: input.comment ?? null, recorded_at: now,
      });
      let command: 'sent' | 'offline' | null = null;
      if (changesCalib) {
        command = deps.commands.isConnected(sn) ? 'sent' : 'offline';
        if (command === 'sent') await deps.commands.sendCommand(sn, { cmd: 'calib', k: updated.calib.k, b: updated.calib.b, t_comp: updated.calib.t_comp });
      }
      const [due] = evaluate([updated]);
      return { record: recordView(record), due, command, before: changesCalib ? device.calib : null, after: changesCalib ? updated.calib : null };
    },
  };
}
export type CalibrationService = ReturnType<typeof createCalibrationService>;

// Device administration: registration with credentials, settings, removal and adoption of pending
// serials. The CLI and the REST API both go through the same validation, including ALM-9: a gas
// of the catalogue in one of its units, setpoints within GB/T 50493-2019's bounds for that gas
// (or an explicit override whose reason the caller audits), and no new detector without a setpoint.
// Issue 15.5: an output module (kind 'output', a relay box driven by linkage rules) measures no gas:
// it is registered and changed without gas, unit, calibration or setpoints, and refused any of them.
import { Value } from '@sinclair/typebox/value';
import type { Static, TObject } from '@sinclair/typebox';
import { AppError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import { DeviceCreate, DeviceUpdate, type DeviceKind } from '../contract/device.ts';
import { defaultsIn, gasInfo, setpointViolations, unitLabel, type SetpointProblem, type SetpointRefusal } from '../contract/gas.ts';
import type { Device, DeviceRepository, DeviceSettings } from '../storage/devices.ts';
import type { PendingRepository } from '../storage/pending.ts';
import { generateDevicePassword, hashChosenPassword, hashGeneratedPassword } from '../core/device-credentials.ts';

export const DEFAULT_SETTINGS: DeviceSettings = {
  name: '',
  location: '',
  pos_x: null,
  pos_y: null,
  // ALM-9: a gas nobody named is 'custom' (no standard bound applies), as migration 009 treats old devices.
  gas: 'custom',
  unit: 'ppm',
  calib: { k: 1, b: 0, t_ref: 25, t_comp: 0 },
  range_max: 50_000,
  high_limit: null,
  high2_limit: null,
  low_limit: null,
  enabled: true,
};

/** ALM-9: setpoints accepted outside the standard's bounds; the caller writes it to the audit log. */
export interface SetpointOverride {
  reason: string;
  problems: SetpointProblem[];
}

export interface Registration {
  device: Device;
  /** The password to flash or give to the detector; shown once, never stored in clear. null: factory-derived. */
  password: string | null;
  /** Set when the request's setpoint_override_reason accepted setpoints outside the bounds. */
  override?: SetpointOverride | null;
}

export interface Updated {
  device: Device;
  override: SetpointOverride | null;
}

export interface DeviceServiceDeps {
  devices: DeviceRepository;
  pending: PendingRepository;
  clock: Clock;
  /** Told after every change so caches (broker credentials, calibration) reload at once. */
  onChange?: (sn: string) => void;
}

export function createDeviceService({ devices, pending, clock, onChange = () => {} }: DeviceServiceDeps) {
  async function register(input: unknown, fromPending: boolean): Promise<Registration> {
    const create = check(DeviceCreate, input);
    if (devices.get(create.sn)) throw new AppError('DEVICE_EXISTS', { sn: create.sn });
    const kind: DeviceKind = create.kind ?? 'detector';
    if (kind === 'output') refuseMeasuring(create);
    const settings = merge(creationBase(create), create);
    const override = kind === 'output' ? null : protection(null, settings, create.setpoint_override_reason);
    let password: string | null = null;
    let hash: string | null = null;
    if (create.password) {
      password = create.password;
      hash = await hashChosenPassword(create.password);
    } else if ((create.credentials ?? (fromPending ? 'factory' : 'generate')) === 'generate') {
      password = generateDevicePassword();
      hash = hashGeneratedPassword(password);
    }
    const device = devices.insert(create.sn, settings, hash, clock.now(), kind);
    if (fromPending) pending.remove(create.sn);
    onChange(device.sn);
    return { device, password, override };
  }

  return {
    /** Registers a detector: generated password (shown once), a chosen one, or the factory-derived one. */
    add: (input: unknown): Promise<Registration> => register(input, false),
    /** ING-3: registers a serial from the pending list; it keeps its factory-derived password by default. */
    adopt(input: unknown): Promise<Registration> {
      const sn = (input as { sn?: unknown })?.sn;
      if (typeof sn !== 'string' || !pending.get(sn)) throw new AppError('DEVICE_NOT_FOUND', { sn, pending: true });
      return register(input, true);
    },
    /** Changes settings; `override` is set when setpoints outside the bounds were accepted on request. */
    update(sn: string, input: unknown): Updated {
      const current = devices.get(sn);
      if (!current) throw new AppError('DEVICE_NOT_FOUND', { sn });
      const patch = check(DeviceUpdate, input, current);
      if (current.kind === 'output') refuseMeasuring(patch);
      const next = merge(current, patch);
      const override = current.kind === 'output' ? null : protection(current, next, patch.setpoint_override_reason);
      const updated = devices.update(sn, next, clock.now())!;
      onChange(sn);
      return { device: updated, override };
    },
    /** Replaces a device's credential with a new generated password (returned once). */
    resetPassword(sn: string): Registration {
      if (!devices.get(sn)) throw new AppError('DEVICE_NOT_FOUND', { sn });
      const password = generateDevicePassword();
      devices.setPasswordHash(sn, hashGeneratedPassword(password), clock.now());
      onChange(sn);
      return { device: devices.get(sn)!, password };
    },
    remove(sn: string): void {
      if (!devices.remove(sn)) throw new AppError('DEVICE_NOT_FOUND', { sn });
      onChange(sn);
    },
    /** UI-2 floor plan: positions in percent, all saved or none (40001 names the unknown serials). */
    setPositions(positions: { sn: string; x: number | null; y: number | null }[]): void {
      const halfPlaced = positions.filter((p) => (p.x === null) !== (p.y === null)).map((p) => p.sn);
      if (halfPlaced.length) throw invalid(halfPlaced.map((sn) => `${sn}: set both x and y, or neither`));
      try {
        devices.setPositions(positions, clock.now());
      } catch (err) {
        const unknown = (err as { unknown?: string[] }).unknown;
        if (unknown) throw new AppError('DEVICE_NOT_FOUND', { sn: unknown }, `device not found: ${unknown.join(', ')}`);
        throw err;
      }
      for (const p of positions) onChange(p.sn);
    },
    get(sn: string): Device {
      const device = devices.get(sn);
      if (!device) throw new AppError('DEVICE_NOT_FOUND', { sn });
      return device;
    },
    list: devices.list,
    pending: pending.list,
    count: devices.count,
  };
}
export type DeviceService = ReturnType<typeof createDeviceService>;

function invalid(problems: string[]): AppError {
  return new AppError('DEVICE_INVALID', problems, `invalid device settings: ${problems.join('; ')}`);
}

/**
 * Schema check; on failure every problem is listed, including broken rules between the fields
 * that on their own are well-formed (so one round trip shows the admin everything to fix).
 */
function check<T extends TObject>(schema: T, input: unknown, base: DeviceSettings = DEFAULT_SETTINGS): Static<T> {
  if (Value.Check(schema, input)) return input as Static<T>;
  const problems = [...Value.Errors(schema, input)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (typeof input === 'object' && input !== null) {
    const wellFormed = Object.fromEntries(
      Object.entries(input).filter(([key, value]) => schema.properties[key] && Value.Check(schema.properties[key], value)),
    );
    problems.push(...ruleProblems(apply(base, wellFormed)));
  }
  throw invalid(problems);
}

function apply(base: DeviceSettings, patch: DeviceUpdate): DeviceSettings {
  return {
    ...base,
    ...Object.fromEntries(Object.entries(patch).filter(([key]) => key in base && key !== 'calib')),
    calib: { ...base.calib, ...patch.calib },
  };
}

/** Applies a validated patch and checks the rules between fields (40004). */
function merge(base: DeviceSettings, patch: DeviceUpdate): DeviceSettings {
  const next = apply(base, patch);
  const problems = ruleProblems(next);
  if (problems.length) throw invalid(problems);
  return next;
}

/**
 * A new device's settings before the request's: with a gas named, its first unit and usual range
 * when the request leaves them out (an O2 detector does not default to ppm).
 */
function creationBase(create: DeviceCreate): DeviceSettings {
  if (!create.gas) return DEFAULT_SETTINGS;
  const unit = create.unit ?? gasInfo(create.gas).units[0];
  const range = defaultsIn(create.gas, unit)?.range_max;
  return { ...DEFAULT_SETTINGS, gas: create.gas, unit, range_max: range ?? DEFAULT_SETTINGS.range_max };
}

/** What only a detector has: an output module given any of them is refused (40004). */
const MEASURING_FIELDS = ['gas', 'unit', 'calib', 'range_max', 'high_limit', 'high2_limit', 'low_limit', 'setpoint_override_reason'] as const;

/**
 * Issue 15.5: an output module measures no gas, so it has no gas, unit, calibration or setpoint, and
 * can never raise a gas alarm (ALM-1 evaluates HIGH/LOW only against setpoints it does not have).
 * Refused rather than ignored: a setpoint typed for a relay box is a mistake about what the device is.
 */
function refuseMeasuring(input: DeviceUpdate): void {
  const given = MEASURING_FIELDS.filter((field) => input[field] !== undefined);
  if (!given.length) return;
  throw new AppError('DEVICE_INVALID', given.map((field) => `/${field}: an output module measures no gas / 输出模块不测量气体`),
    `invalid device settings: an output module measures no gas and has no alarm setpoint; remove ${given.join(', ')}` +
    ` / 设备设置无效：输出模块不测量气体，也没有报警设定值；请去掉 ${given.join('、')}`);
}

/** ALM-9: what is wrong with the settings' protection, in both languages (empty: nothing). */
function protectionProblems(next: DeviceSettings): SetpointProblem[] {
  const problems: SetpointProblem[] = setpointViolations(next.gas, next.unit, next);
  if (next.high_limit === null && next.low_limit === null) problems.push(NO_SETPOINT);
  return problems;
}

const NO_SETPOINT: SetpointProblem = {
  field: null,
  en: 'no alarm setpoint: a detector without one protects nobody; set high_limit (level 1) and/or low_limit',
  'zh-CN': '未设置报警设定值：没有设定值的探测器不起保护作用；请设置一级报警值 high_limit 和/或低限报警值 low_limit',
};

/**
 * ALM-9 / GB/T 50493-2019: refuses setpoints outside the gas's bounds and a detector without any
 * setpoint (40005), unless the request gives a reason to override — then returns what was
 * overridden for the caller's audit log. A new detector without a setpoint is refused even so.
 * On an update only what the change breaks counts: a problem the stored settings already had
 * (accepted by an earlier override, or from before the catalogue) does not block renaming it.
 */
function protection(current: DeviceSettings | null, next: DeviceSettings, reason: string | undefined): SetpointOverride | null {
  if (current === null && next.high_limit === null && next.low_limit === null) throw refused([NO_SETPOINT], false);
  const known = new Set(current ? protectionProblems(current).map((p) => p.en) : []);
  const problems = protectionProblems(next).filter((p) => !known.has(p.en));
  if (!problems.length) return null;
  const why = reason?.trim();
  if (!why) throw refused(problems, true);
  return { reason: why, problems };
}

function refused(problems: SetpointProblem[], overridable: boolean): AppError {
  const detail: SetpointRefusal = { problems, overridable };
  const en = problems.map((p) => p.en).join('; ') + (overridable ? ' — to keep it anyway, give a setpoint_override_reason (audited)' : '');
  const zh = problems.map((p) => p['zh-CN']).join('；') + (overridable ? '——如确需保留，请填写覆盖原因 setpoint_override_reason（记入审计日志）' : '');
  return new AppError('DEVICE_SETPOINT_REFUSED', detail, `${en} / ${zh}`);
}

function ruleProblems(next: DeviceSettings): string[] {
  const problems: string[] = [];
  const { calib, high_limit, high2_limit, low_limit, range_max } = next;
  const gas = gasInfo(next.gas);
  // ALM-9: a catalogue gas is measured in one of its units (the bounds and conversions rely on it).
  if (next.gas !== 'custom' && !gas.units.includes(next.unit)) {
    problems.push(`/unit: '${next.unit}' is not a unit of ${gas.id}; use ${gas.units.map(unitLabel).join(', ')} (${gas.units.join(', ')})`);
  }
  for (const [key, value] of Object.entries(calib)) {
    if (!Number.isFinite(value)) problems.push(`/calib/${key}: must be a finite number`);
  }
  if (calib.k === 0) problems.push('/calib/k: must not be 0');
  if (high_limit !== null && high_limit > range_max) problems.push('/high_limit: must not exceed range_max');
  // ALM-9: the second level sits above the first and needs it.
  if (high2_limit !== null && high_limit === null) problems.push('/high2_limit: set high_limit (the first level) too');
  if (high2_limit !== null && high_limit !== null && high2_limit <= high_limit) problems.push('/high2_limit: must be above high_limit');
  if (high2_limit !== null && high2_limit > range_max) problems.push('/high2_limit: must not exceed range_max');
  if (high_limit !== null && low_limit !== null && low_limit >= high_limit) {
    problems.push('/low_limit: must be below high_limit');
  }
  if ((next.pos_x === null) !== (next.pos_y === null)) problems.push('/pos_x, /pos_y: set both or neither');
  return problems;
}

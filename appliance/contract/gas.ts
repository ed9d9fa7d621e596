// ALM-9: the gas catalogue — what a detector measures, in which units, its lower explosive limit
// (LEL) or occupational exposure limits (OEL), and the alarm setpoint bounds GB/T 50493-2019 sets
// for it — with the pure unit conversions. Shared by the device service (validation), the request
// schemas in device.ts, the CLI and the admin UI (the device form shows the bounds in the device's unit).
//
// Sources, in our own words:
// - GB/T 50493-2019 (石油化工可燃气体和有毒气体检测报警设计标准), alarm setpoints: for a combustible
//   gas the first level (一级) is at most 25 % LEL and the second (二级) at most 50 % LEL; for a
//   toxic gas the first level is at most 100 % OEL and the second at most 200 % OEL (only where no
//   detector's range can reach that low, at most 5 % / 10 % of IDLH — a documented exception we
//   leave to an audited override). A single gas that is both combustible and toxic (CO, H2S, NH3)
//   is watched by a toxic-gas detector, so those are 'toxic' here. The standard's own table of
//   toxic gases takes MAC where GBZ 2.1 gives one and PC-TWA otherwise as the OEL of the bounds
//   (e.g. CO: first level 20, second 40 mg/m³); `referenceOel` does the same.
// - GBZ 2.1-2019 (工作场所有害因素职业接触限值 第1部分：化学有害因素): PC-TWA (8 h average),
//   PC-STEL (15 min) and MAC (never to be exceeded), in mg/m³ of workplace air.
// - Oxygen: a deficiency (缺氧) alarm at 19.5 %VOL (GB 8958 defines oxygen deficiency as below
//   19.5 %) and an enrichment (富氧) alarm at 23.5 %VOL — the setpoints GB/T 50493-2019 names for
//   ambient oxygen.
// - LEL in %VOL from GB/T 50493-2019's table of combustible media (CH4 5.0, C3H8 2.1, H2 4.0).
//   IEC 60079-20-1 lists lower figures for some (CH4 4.4, C3H8 1.7): a detector calibrated to
//   those reads in % LEL of its own reference, which is what its setpoints are then compared with.
//
// Plain data and pure functions only: the admin UI bundles this module, and TypeBox would add 50 KB
// to it. The request schemas built from it (GasIdSchema, the override reason) are in device.ts.

export const GAS_IDS = ['CH4', 'C3H8', 'H2', 'CO', 'H2S', 'NH3', 'Cl2', 'O2', 'VOC', 'custom'] as const;
export type GasId = (typeof GAS_IDS)[number];

/** Unit ids as stored and sent; `UNIT_LABELS` is how they are printed. */
export const UNITS = ['ppm', '%LEL', '%VOL', 'mg/m3'] as const;
export type GasUnit = (typeof UNITS)[number];
export const UNIT_LABELS: Record<GasUnit, string> = { ppm: 'ppm', '%LEL': '% LEL', '%VOL': '% VOL', 'mg/m3': 'mg/m³' };
export const unitLabel = (unit: string): string => UNIT_LABELS[unit as GasUnit] ?? unit;

export type GasKind = 'combustible' | 'toxic' | 'oxygen' | 'other';

export interface OelValues {
  /** GBZ 2.1-2019, mg/m³; absent where the standard gives none */
  pc_twa?: number;
  pc_stel?: number;
  mac?: number;
  /** immediately dangerous to life or health, mg/m³ (GB/T 50493-2019's table), for the range exception */
  idlh?: number;
}

export interface SetpointDefaults {
  /** the unit the defaults are given in (converted into the device's unit by `defaultsIn`) */
  unit: GasUnit;
  high_limit: number | null;
  high2_limit: number | null;
  low_limit: number | null;
}

export interface GasInfo {
  id: GasId;
  formula: string;
  name: { en: string; 'zh-CN': string };
  kind: GasKind;
  /** the units a detector of this gas may report in; the first is the default */
  units: readonly string[];
  /** lower explosive limit, %VOL (combustible gases) */
  lel?: number;
  oel?: OelValues;
  /** g/mol, for ppm ↔ mg/m³ */
  molar_mass?: number;
  /** a usual measuring range, in the first of `units` */
  range?: number;
  /** GB/T 50493-compliant setpoints; absent where the standard sets none */
  defaults?: SetpointDefaults;
}

const ALL_UNITS: readonly string[] = UNITS;

// Default setpoints sit at the standard's bounds (its own table of toxic gases does the same); in
// another unit they are rounded towards the safe side, so a proposed default is never refused.
export const GASES: Record<GasId, GasInfo> = {
  CH4: {
    id: 'CH4', formula: 'CH₄', name: { en: 'Methane', 'zh-CN': '甲烷' }, kind: 'combustible',
    units: ['%LEL', '%VOL', 'ppm'], lel: 5.0, molar_mass: 16.04, range: 100, defaults: { unit: '%LEL', high_limit: 25, high2_limit: 50, low_limit: null },
  },
  C3H8: {
    id: 'C3H8', formula: 'C₃H₈', name: { en: 'Propane / LPG', 'zh-CN': '丙烷/液化石油气' }, kind: 'combustible',
    units: ['%LEL', '%VOL', 'ppm'], lel: 2.1, molar_mass: 44.1, range: 100, defaults: { unit: '%LEL', high_limit: 25, high2_limit: 50, low_limit: null },
  },
  H2: {
    id: 'H2', formula: 'H₂', name: { en: 'Hydrogen', 'zh-CN': '氢气' }, kind: 'combustible',
    units: ['%LEL', '%VOL', 'ppm'], lel: 4.0, molar_mass: 2.016, range: 100, defaults: { unit: '%LEL', high_limit: 25, high2_limit: 50, low_limit: null },
  },
  CO: {
    id: 'CO', formula: 'CO', name: { en: 'Carbon monoxide', 'zh-CN': '一氧化碳' }, kind: 'toxic',
    units: ['ppm', 'mg/m3'], oel: { pc_twa: 20, pc_stel: 30, idlh: 1700 }, molar_mass: 28.01, range: 1000,
    defaults: { unit: 'mg/m3', high_limit: 20, high2_limit: 40, low_limit: null },
  },
  H2S: {
    id: 'H2S', formula: 'H₂S', name: { en: 'Hydrogen sulfide', 'zh-CN': '硫化氢' }, kind: 'toxic',
    units: ['ppm', 'mg/m3'], oel: { mac: 10, idlh: 430 }, molar_mass: 34.08, range: 100,
    defaults: { unit: 'mg/m3', high_limit: 10, high2_limit: 20, low_limit: null },
  },
  NH3: {
    id: 'NH3', formula: 'NH₃', name: { en: 'Ammonia', 'zh-CN': '氨' }, kind: 'toxic',
    units: ['ppm', 'mg/m3'], oel: { pc_twa: 20, pc_stel: 30, idlh: 360 }, molar_mass: 17.03, range: 100,
    defaults: { unit: 'mg/m3', high_limit: 20, high2_limit: 40, low_limit: null },
  },
  Cl2: {
    id: 'Cl2', formula: 'Cl₂', name: { en: 'Chlorine', 'zh-CN': '氯气' }, kind: 'toxic',
    units: ['ppm', 'mg/m3'], oel: { mac: 1, idlh: 88 }, molar_mass: 70.9, range: 10,
    defaults: { unit: 'mg/m3', high_limit: 1, high2_limit: 2, low_limit: null },
  },
  O2: {
    id: 'O2', formula: 'O₂', name: { en: 'Oxygen', 'zh-CN': '氧气' }, kind: 'oxygen',
    units: ['%VOL'], molar_mass: 32.0, range: 30, defaults: { unit: '%VOL', high_limit: 23.5, high2_limit: null, low_limit: 19.5 },
  },
  // A PID reads a mixture as its calibration gas (usually isobutylene): no single LEL or OEL applies.
  VOC: { id: 'VOC', formula: 'VOC', name: { en: 'VOC (PID)', 'zh-CN': '挥发性有机物 (PID)' }, kind: 'other', units: ['ppm', 'mg/m3'], range: 1000 },
  // Whatever the catalogue does not know; devices from before the catalogue are 'custom' (009).
  custom: { id: 'custom', formula: '', name: { en: 'Other / custom', 'zh-CN': '其他/自定义' }, kind: 'other', units: ALL_UNITS },
};

export const isGasId = (id: string): id is GasId => (GAS_IDS as readonly string[]).includes(id);
export const gasInfo = (id: string): GasInfo => GASES[isGasId(id) ? id : 'custom'];

/** The OEL GB/T 50493-2019's bounds are a percentage of: MAC where given, else PC-TWA (mg/m³). */
export function referenceOel(gas: GasInfo): number | null {
  return gas.oel?.mac ?? gas.oel?.pc_twa ?? null;
}

// ---- conversions ---------------------------------------------------------------------------------

/**
 * Molar volume of an ideal gas at 20 °C and 101.3 kPa — the reference state of workplace-air
 * sampling in China (GBZ 159), to which GBZ 2.1's mg/m³ refer: V = R·T/p = 8.314 × 293.15 / 101.3
 * ≈ 24.06 L/mol (the often quoted 24.04 is 22.4 × 293/273 rounded).
 */
export const MOLAR_VOLUME_L = (8.314462618 * 293.15) / 101.3;

export const ppmToMgM3 = (ppm: number, molarMass: number): number => (ppm * molarMass) / MOLAR_VOLUME_L;
export const mgM3ToPpm = (mg: number, molarMass: number): number => (mg * MOLAR_VOLUME_L) / molarMass;
export const volToPpm = (vol: number): number => vol * 10_000;
export const ppmToVol = (ppm: number): number => ppm / 10_000;
export const lelToVol = (lelPercent: number, lel: number): number => (lelPercent * lel) / 100;
export const volToLel = (vol: number, lel: number): number => (vol / lel) * 100;

/** `value` in ppm of the gas, or null when the unit cannot be expressed so for this gas. */
function toPpm(value: number, unit: string, gas: GasInfo): number | null {
  switch (unit) {
    case 'ppm': return value;
    case '%VOL': return volToPpm(value);
    case '%LEL': return gas.lel ? volToPpm(lelToVol(value, gas.lel)) : null;
    case 'mg/m3': return gas.molar_mass ? mgM3ToPpm(value, gas.molar_mass) : null;
    default: return null;
  }
}

function fromPpm(ppm: number, unit: string, gas: GasInfo): number | null {
  switch (unit) {
    case 'ppm': return ppm;
    case '%VOL': return ppmToVol(ppm);
    case '%LEL': return gas.lel ? volToLel(ppmToVol(ppm), gas.lel) : null;
    case 'mg/m3': return gas.molar_mass ? ppmToMgM3(ppm, gas.molar_mass) : null;
    default: return null;
  }
}

/**
 * A concentration of `gas` from one unit into another, or null where the conversion is not defined
 * (% LEL needs the gas's LEL, mg/m³ its molar mass; nothing converts for 'custom' and 'VOC').
 */
export function convert(value: number, from: string, to: string, gasId: string): number | null {
  if (from === to) return value;
  const gas = gasInfo(gasId);
  if (gas.kind === 'other') return null;
  const ppm = toPpm(value, from, gas);
  return ppm === null ? null : fromPpm(ppm, to, gas);
}

/** The unit a value of this device is also worth showing in (≈ mg/m³ beside ppm, ≈ % LEL beside %VOL). */
export function companionUnit(gasId: string, unit: string): GasUnit | null {
  const gas = gasInfo(gasId);
  if (gas.kind === 'toxic') return unit === 'ppm' ? 'mg/m3' : unit === 'mg/m3' ? 'ppm' : null;
  if (gas.kind === 'combustible') return unit === '%LEL' ? '%VOL' : gas.units.includes(unit) ? '%LEL' : null;
  return null;
}

/** Rounds down (or up) to `digits` significant digits: a bound in another unit is never loosened by rounding. */
export function roundSignificant(value: number, digits = 3, direction: 'down' | 'up' = 'down'): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  const scaled = value * scale;
  // a hair of tolerance so that 25.000000000000004 does not round up to 25.1
  const rounded = direction === 'down' ? Math.floor(scaled + 1e-9) : Math.ceil(scaled - 1e-9);
  return Number((rounded / scale).toPrecision(digits + 1));
}

// ---- setpoint bounds (GB/T 50493-2019) -----------------------------------------------------------

export type SetpointField = 'high_limit' | 'high2_limit' | 'low_limit';

export interface SetpointBound {
  field: SetpointField;
  /** 'max': the setpoint must be at most `limit`; 'min': at least (oxygen deficiency) */
  relation: 'max' | 'min';
  /** in the device's unit */
  limit: number;
  /** what the bound is, in the standard's terms: '25 % LEL', '100 % OEL (MAC 10 mg/m³)', '19.5 % VOL' */
  basis: { en: string; 'zh-CN': string };
}

const LEVEL_NAME: Record<SetpointField, { en: string; 'zh-CN': string }> = {
  high_limit: { en: 'level-1 setpoint', 'zh-CN': '一级报警设定值' },
  high2_limit: { en: 'level-2 setpoint', 'zh-CN': '二级报警设定值' },
  low_limit: { en: 'low (deficiency) setpoint', 'zh-CN': '低限（欠氧）报警设定值' },
};
export const setpointName = (field: SetpointField) => LEVEL_NAME[field];

function oelText(gas: GasInfo): string {
  const o = gas.oel!;
  return o.mac !== undefined ? `MAC ${o.mac} mg/m³` : `PC-TWA ${o.pc_twa} mg/m³`;
}

/**
 * The bounds GB/T 50493-2019 puts on this gas's setpoints, converted into `unit`; empty where the
 * standard sets none (VOC, custom) or the unit does not convert.
 */
export function setpointBounds(gasId: string, unit: string): SetpointBound[] {
  const gas = gasInfo(gasId);
  const bounds: SetpointBound[] = [];
  const add = (field: SetpointField, relation: 'max' | 'min', value: number | null, basis: SetpointBound['basis']) => {
    if (value !== null) bounds.push({ field, relation, limit: value, basis });
  };
  if (gas.kind === 'combustible') {
    add('high_limit', 'max', convert(25, '%LEL', unit, gas.id), { en: '25 % LEL', 'zh-CN': '25 %LEL' });
    add('high2_limit', 'max', convert(50, '%LEL', unit, gas.id), { en: '50 % LEL', 'zh-CN': '50 %LEL' });
  } else if (gas.kind === 'toxic') {
    const oel = referenceOel(gas)!;
    add('high_limit', 'max', convert(oel, 'mg/m3', unit, gas.id), { en: `100 % OEL (${oelText(gas)})`, 'zh-CN': `100 %OEL（${oelText(gas)}）` });
    add('high2_limit', 'max', convert(2 * oel, 'mg/m3', unit, gas.id), { en: `200 % OEL (2 × ${oelText(gas)})`, 'zh-CN': `200 %OEL（2 × ${oelText(gas)}）` });
  } else if (gas.kind === 'oxygen') {
    add('low_limit', 'min', convert(19.5, '%VOL', unit, gas.id), { en: 'oxygen deficiency 19.5 % VOL', 'zh-CN': '欠氧 19.5 %VOL' });
    add('high_limit', 'max', convert(23.5, '%VOL', unit, gas.id), { en: 'oxygen enrichment 23.5 % VOL', 'zh-CN': '富氧 23.5 %VOL' });
  }
  return bounds;
}

export interface SetpointViolation {
  field: SetpointField;
  value: number;
  relation: 'max' | 'min';
  limit: number;
  unit: string;
  /** the reason in both languages */
  en: string;
  'zh-CN': string;
}

/** Relative tolerance: a setpoint equal to the bound computed in another unit is within it. */
const TOLERANCE = 1e-9;

/** Which of `setpoints` break the standard's bounds for `gasId` in `unit` (empty: all within). */
export function setpointViolations(gasId: string, unit: string, setpoints: Partial<Record<SetpointField, number | null>>): SetpointViolation[] {
  const gas = gasInfo(gasId);
  const out: SetpointViolation[] = [];
  for (const bound of setpointBounds(gasId, unit)) {
    const value = setpoints[bound.field];
    if (value === null || value === undefined) continue;
    const slack = Math.abs(bound.limit) * TOLERANCE;
    const broken = bound.relation === 'max' ? value > bound.limit + slack : value < bound.limit - slack;
    if (!broken) continue;
    const shown = `${roundSignificant(bound.limit, 3, bound.relation === 'max' ? 'down' : 'up')} ${unitLabel(unit)}`;
    const name = LEVEL_NAME[bound.field];
    const gasName = `${gas.name.en} (${gas.id})`;
    out.push({
      field: bound.field, value, relation: bound.relation, limit: bound.limit, unit,
      en: bound.relation === 'max'
        ? `${name.en} ${value} ${unitLabel(unit)} is above ${shown} (${bound.basis.en}), the most GB/T 50493-2019 allows for ${gasName}`
        : `${name.en} ${value} ${unitLabel(unit)} is below ${shown} (${bound.basis.en}), the least GB/T 50493-2019 allows for ${gasName}`,
      'zh-CN': bound.relation === 'max'
        ? `${gas.name['zh-CN']}的${name['zh-CN']} ${value} ${unitLabel(unit)} 超过 GB/T 50493-2019 允许的上限 ${shown}（${bound.basis['zh-CN']}）`
        : `${gas.name['zh-CN']}的${name['zh-CN']} ${value} ${unitLabel(unit)} 低于 GB/T 50493-2019 允许的下限 ${shown}（${bound.basis['zh-CN']}）`,
    });
  }
  return out;
}

/** The catalogue's default setpoints and range expressed in `unit` (rounded towards the safe side). */
export function defaultsIn(gasId: string, unit: string): (Omit<SetpointDefaults, 'unit'> & { range_max: number | null }) | null {
  const gas = gasInfo(gasId);
  if (!gas.defaults) return null;
  const at = (value: number | null, direction: 'down' | 'up', from: string = gas.defaults!.unit) => {
    if (value === null) return null;
    const converted = convert(value, from, unit, gas.id);
    return converted === null ? null : roundSignificant(converted, 3, direction);
  };
  const high = at(gas.defaults.high_limit, 'down');
  if (gas.defaults.high_limit !== null && high === null) return null; // the unit does not convert
  return {
    high_limit: high,
    high2_limit: at(gas.defaults.high2_limit, 'down'),
    low_limit: at(gas.defaults.low_limit, 'up'),
    range_max: gas.range === undefined ? null : at(gas.range, 'down', gas.units[0]),
  };
}

/**
 * One reason a setpoint is refused (40005): a bound of the standard broken, or no setpoint at all
 * on a new detector (field null). Sent in the error's detail so a form can show it in its language.
 */
export interface SetpointProblem {
  field: SetpointField | null;
  en: string;
  'zh-CN': string;
  value?: number;
  limit?: number;
  unit?: string;
}

/** The detail of a 40005 refusal; `overridable`: sending setpoint_override_reason would accept it. */
export interface SetpointRefusal {
  problems: SetpointProblem[];
  overridable: boolean;
}

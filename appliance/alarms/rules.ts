// ALM-1: which alarm conditions a reading holds. Pure: the device's limits, the reading, and
// which alarms are already active (for the deadband, ALM-2) in; conditions out.
import { SYSTEM_ALARM_TYPES, type SystemAlarmType } from '../contract/alarm.ts';
import { ALARMING_DEVICE_ERRORS, DEVICE_ERROR_CODES } from '../contract/device-payload.ts';

export { SYSTEM_ALARM_TYPES, type SystemAlarmType };
export const DEVICE_ALARM_TYPES = ['HIGH', 'LOW', 'OFFLINE', 'LOW_BAT', 'FAULT'] as const;
export type DeviceAlarmType = (typeof DEVICE_ALARM_TYPES)[number];
export type AlarmType = DeviceAlarmType | SystemAlarmType;

export interface RuleSettings {
  /** HIGH clears below high_limit − deadband, LOW above low_limit + deadband: this % of the limit. */
  deadbandPct: number;
  /** LOW_BAT below this battery % (DEV-4 err 10/11 also raise it). */
  lowBatteryPct: number;
}
export const DEFAULT_RULES: RuleSettings = { deadbandPct: 5, lowBatteryPct: 20 };

export interface LimitsOf {
  /** ALM-9: first level (一级). */
  high_limit: number | null;
  /** ALM-9: second level (二级), above the first; null: none. */
  high2_limit: number | null;
  low_limit: number | null;
}

export interface ReadingFacts {
  ppm: number;
  bat: number;
  err: number;
  overrange: boolean;
}

export interface Condition {
  type: Exclude<DeviceAlarmType, 'OFFLINE'>;
  /** Whether the condition holds now (taking the deadband of an active alarm into account). */
  holds: boolean;
  value: number;
  threshold: number | null;
  /** HIGH: the level (1 or 2) while it holds (ALM-9). */
  level?: number;
  detail?: string;
}

const BATTERY_ERRORS = new Set([10, 11]);
const BATTERY_DEADBAND_PCT = 2;

/**
 * The reading-driven conditions (all but OFFLINE, which comes from presence). `highLevel`: the
 * level of the active HIGH alarm, for the deadband of its second level.
 */
export function evaluateReading(
  limits: LimitsOf,
  reading: ReadingFacts,
  active: ReadonlySet<string>,
  rules: RuleSettings = DEFAULT_RULES,
  highLevel: number | null = null,
): Condition[] {
  const conditions: Condition[] = [];
  const { high_limit: high, high2_limit: high2, low_limit: low } = limits;
  const band = (limit: number) => (limit * rules.deadbandPct) / 100;
  const faultCode = ALARMING_DEVICE_ERRORS.has(reading.err) && !BATTERY_ERRORS.has(reading.err) ? reading.err : 0;
  // Issue 14 / GB 16808: a fault is not gas. While the sensor reports a fault its concentration is
  // not a measurement: it neither raises nor clears a gas alarm (an active one stays as it is).
  const gasValid = faultCode === 0;
  const hasTwo = high !== null && high2 !== null && high2 > high;
  if (high !== null && gasValid) {
    // ALM-2/ALM-9: rising, each level is entered above its setpoint and left below setpoint − deadband.
    const holds = reading.overrange || (active.has('HIGH') ? reading.ppm >= high - band(high) : reading.ppm > high);
    const wasTwo = active.has('HIGH') && highLevel === 2;
    // Over the range the gas is there beyond what can be read: the highest level.
    const two = holds && hasTwo && (reading.overrange || (wasTwo ? reading.ppm >= high2! - band(high2!) : reading.ppm > high2!));
    conditions.push({ type: 'HIGH', holds, value: reading.ppm, threshold: two ? high2 : high, level: holds ? (two ? 2 : 1) : undefined });
  }
  if (low !== null && gasValid) {
    const clearAbove = low + band(low);
    const holds = active.has('LOW') ? reading.ppm <= clearAbove : reading.ppm < low;
    conditions.push({ type: 'LOW', holds, value: reading.ppm, threshold: low });
  }
  const batteryLimit = active.has('LOW_BAT') ? rules.lowBatteryPct + BATTERY_DEADBAND_PCT : rules.lowBatteryPct;
  conditions.push({
    type: 'LOW_BAT',
    holds: BATTERY_ERRORS.has(reading.err) || reading.bat < batteryLimit,
    value: reading.bat,
    threshold: rules.lowBatteryPct,
    detail: BATTERY_ERRORS.has(reading.err) ? `err ${reading.err}: ${DEVICE_ERROR_CODES[reading.err]}` : undefined,
  });
  conditions.push({
    type: 'FAULT',
    holds: faultCode !== 0 || reading.overrange,
    value: faultCode || reading.ppm,
    threshold: null,
    detail: faultCode ? `err ${faultCode}: ${DEVICE_ERROR_CODES[faultCode]}` : reading.overrange ? 'over range (sensor saturated)' : undefined,
  });
  return conditions;
}

/**
 * The quick test the hot path runs for every reading of a device with no active alarm: whether
 * any condition could start. No allocation; evaluateReading() runs only when this says yes.
 */
export function mayRaise(limits: LimitsOf, reading: ReadingFacts, rules: RuleSettings = DEFAULT_RULES): boolean {
  return (
    (limits.high_limit !== null && reading.ppm > limits.high_limit) ||
    (limits.low_limit !== null && reading.ppm < limits.low_limit) ||
    reading.bat < rules.lowBatteryPct ||
    reading.overrange ||
    ALARMING_DEVICE_ERRORS.has(reading.err)
  );
}

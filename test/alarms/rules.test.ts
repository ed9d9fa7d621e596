import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES, evaluateReading, mayRaise, type Condition } from '../../appliance/alarms/rules.ts';

const limits = { high_limit: 1000, high2_limit: null, low_limit: 100 };
const reading = (ppm: number, extra: Partial<{ bat: number; err: number; overrange: boolean }> = {}) => ({
  ppm, bat: 90, err: 0, overrange: false, ...extra,
});
const holding = (conditions: Condition[]) => conditions.filter((c) => c.holds).map((c) => c.type);

describe('evaluateReading (ALM-1)', () => {
  test('HIGH holds above the high limit, not at it', () => {
    assert.deepEqual(holding(evaluateReading(limits, reading(1000), new Set())), []);
    assert.deepEqual(holding(evaluateReading(limits, reading(1000.5), new Set())), ['HIGH']);
  });

  test('an active HIGH keeps holding down to the limit minus the deadband (5 %), then clears', () => {
    const active = new Set(['HIGH']);
    assert.deepEqual(holding(evaluateReading(limits, reading(960), active)), ['HIGH']);
    assert.deepEqual(holding(evaluateReading(limits, reading(950), active)), ['HIGH']);
    assert.deepEqual(holding(evaluateReading(limits, reading(949.9), active)), []);
  });

  test('LOW holds below the low limit and clears above it plus the deadband', () => {
    assert.deepEqual(holding(evaluateReading(limits, reading(99), new Set())), ['LOW']);
    assert.deepEqual(holding(evaluateReading(limits, reading(104), new Set(['LOW']))), ['LOW']);
    assert.deepEqual(holding(evaluateReading(limits, reading(106), new Set(['LOW']))), []);
  });

  test('no limits set: no HIGH or LOW condition at all', () => {
    const types = evaluateReading({ high_limit: null, high2_limit: null, low_limit: null }, reading(1e6), new Set()).map((c) => c.type);
    assert.deepEqual(types, ['LOW_BAT', 'FAULT']);
  });

  test('LOW_BAT on err 10/11 or a battery under 20 %, with a 2 % deadband to clear', () => {
    assert.deepEqual(holding(evaluateReading(limits, reading(500, { err: 10 }), new Set())), ['LOW_BAT']);
    assert.deepEqual(holding(evaluateReading(limits, reading(500, { err: 11 }), new Set())), ['LOW_BAT']);
    assert.deepEqual(holding(evaluateReading(limits, reading(500, { bat: 19 }), new Set())), ['LOW_BAT']);
    assert.deepEqual(holding(evaluateReading(limits, reading(500, { bat: 21 }), new Set(['LOW_BAT']))), ['LOW_BAT']);
    assert.deepEqual(holding(evaluateReading(limits, reading(500, { bat: 22 }), new Set(['LOW_BAT']))), []);
  });

  test('FAULT on the DEV-4 error codes 1, 2, 3, 50 and on overrange; not on 20, 21, 30, 40', () => {
    for (const err of [1, 2, 3, 50]) {
      const fault = evaluateReading(limits, reading(500, { err }), new Set()).find((c) => c.type === 'FAULT')!;
      assert.equal(fault.holds, true, `err ${err}`);
      assert.match(fault.detail!, new RegExp(`err ${err}`));
    }
    for (const err of [20, 21, 30, 40]) assert.deepEqual(holding(evaluateReading(limits, reading(500, { err }), new Set())), []);
    const saturated = evaluateReading({ high_limit: null, high2_limit: null, low_limit: null }, reading(50000, { overrange: true }), new Set());
    assert.deepEqual(holding(saturated), ['FAULT']);
  });

  test('the deadband follows the settings', () => {
    const rules = { ...DEFAULT_RULES, deadbandPct: 10 };
    assert.deepEqual(holding(evaluateReading(limits, reading(920), new Set(['HIGH']), rules)), ['HIGH']);
    assert.deepEqual(holding(evaluateReading(limits, reading(899), new Set(['HIGH']), rules)), []);
  });
});

describe('two rising levels (ALM-9, GB/T 50493-2019)', () => {
  const two = { high_limit: 1000, high2_limit: 2000, low_limit: null };
  const high = (ppm: number, active: string[] = [], level: number | null = null) =>
    evaluateReading(two, reading(ppm), new Set(active), DEFAULT_RULES, level).find((c) => c.type === 'HIGH')!;

  test('level 1 above the first setpoint, level 2 above the second, with the threshold of the level', () => {
    assert.deepEqual([high(1000).holds, high(1500).level, high(1500).threshold], [false, 1, 1000]);
    assert.deepEqual([high(2000.1).level, high(2000.1).threshold], [2, 2000]);
    assert.deepEqual([high(2000, ['HIGH'], 1).level], [1], 'level 2 is entered above its setpoint, not at it');
  });

  test('level 2 falls back to level 1 below its setpoint minus the deadband, and the episode clears below the first', () => {
    assert.equal(high(1900, ['HIGH'], 2).level, 2, '5 % of 2000 = 100: still level 2 at 1900');
    assert.equal(high(1899, ['HIGH'], 2).level, 1);
    assert.deepEqual([high(951, ['HIGH'], 1).holds, high(951, ['HIGH'], 1).level], [true, 1]);
    assert.deepEqual([high(949, ['HIGH'], 1).holds, high(949, ['HIGH'], 1).level], [false, undefined]);
  });

  test('without a second setpoint there is only level 1', () => {
    assert.equal(evaluateReading(limits, reading(1e5), new Set()).find((c) => c.type === 'HIGH')!.level, 1);
  });
});

describe('a fault is not gas (issue 14, GB 16808)', () => {
  test('a faulted sensor (err 1, 2, 3, 50) neither raises nor clears a gas alarm: only its FAULT holds', () => {
    for (const err of [1, 2, 3, 50]) {
      assert.deepEqual(holding(evaluateReading(limits, reading(424000, { err }), new Set())), ['FAULT'], `err ${err}`);
      const types = evaluateReading(limits, reading(0, { err }), new Set(['HIGH'])).map((c) => c.type);
      assert.ok(!types.includes('HIGH') && !types.includes('LOW'), 'an active HIGH is left as it is, not cleared by an invalid value');
    }
  });

  test('over the range is the gas alarm at its highest level, flagged as a FAULT too', () => {
    const two = { high_limit: 1000, high2_limit: 2000, low_limit: null };
    const conditions = evaluateReading(two, reading(50000, { overrange: true }), new Set());
    assert.deepEqual(conditions.filter((c) => c.holds).map((c) => `${c.type}${c.level ?? ''}`), ['HIGH2', 'FAULT']);
  });
});

describe('mayRaise (the hot path)', () => {
  test('says yes exactly when evaluateReading would find a condition holding with nothing active', () => {
    const cases = [
      reading(500), reading(1000), reading(1000.1), reading(99.9), reading(100), reading(500, { bat: 19 }), reading(500, { bat: 20 }),
      reading(500, { err: 2 }), reading(500, { err: 20 }), reading(500, { err: 11 }), reading(500, { overrange: true }),
    ];
    for (const r of cases) {
      const holds = evaluateReading(limits, r, new Set()).some((c) => c.holds);
      assert.equal(mayRaise(limits, r), holds, JSON.stringify(r));
    }
  });
});

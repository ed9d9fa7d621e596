import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES, evaluateReading, mayRaise, type Condition } from '../../appliance/alarms/rules.ts';

const limits = { high_limit: 1000, low_limit: 100 };
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
    const types = evaluateReading({ high_limit: null, low_limit: null }, reading(1e6), new Set()).map((c) => c.type);
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
    const saturated = evaluateReading({ high_limit: null, low_limit: null }, reading(50000, { overrange: true }), new Set());
    assert.deepEqual(holding(saturated), ['FAULT']);
  });

  test('the deadband follows the settings', () => {
    const rules = { ...DEFAULT_RULES, deadbandPct: 10 };
    assert.deepEqual(holding(evaluateReading(limits, reading(920), new Set(['HIGH']), rules)), ['HIGH']);
    assert.deepEqual(holding(evaluateReading(limits, reading(899), new Set(['HIGH']), rules)), []);
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

// What one reading is: DEV-2 values stamped with device time and seq, bent and encoded by the
// scenario, seq restarting after a reboot while calibration and the scenario's count survive (fast, pure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { UpPayload } from '../../appliance/contract/device-payload.ts';
import { createReadingSource } from '../../simulator/reading-source.ts';
import { createRng } from '../../simulator/rng.ts';
import type { Scenario, ShapeContext } from '../../simulator/types.ts';

const START = Date.UTC(2026, 0, 1, 8, 0, 0);
const CALIB = { k: 1, b: 0, t_comp: 0 };

test('readings are valid DEV-2 JSON stamped with device time and an increasing seq; the same seed repeats them', () => {
  const take = (seed: number) => {
    const source = createReadingSource({ rng: createRng(seed), ver: 'v', calib: CALIB });
    source.begin(START);
    return [0, 10_000, 20_000].map((dt) => source.take(START + dt));
  };
  const taken = take(1);
  for (const { reading, payload } of taken) {
    assert.ok(Value.Check(UpPayload, reading), JSON.stringify(reading));
    assert.equal(payload, JSON.stringify(reading));
  }
  assert.deepEqual(taken.map((t) => t.reading.seq), [0, 1, 2]);
  assert.deepEqual(taken.map((t) => t.reading.ts), [0, 10, 20].map((s) => START / 1000 + s));
  assert.deepEqual(take(1), taken);
  assert.notDeepEqual(take(2), taken);
});

test('a scenario shapes and encodes each reading with a context counted from the first start', () => {
  const seen: Omit<ShapeContext, 'rng'>[] = [];
  const scenario: Scenario = {
    name: 'test',
    shape: (r, ctx) => (seen.push({ n: ctx.n, tS: ctx.tS, calib: ctx.calib }), { ...r, err: 2 }),
    encode: (r, ctx) => `${r.seq}/${ctx.n}/${r.err}`,
  };
  const source = createReadingSource({ rng: createRng(1), ver: 'v', scenario, calib: CALIB });
  source.begin(START);
  assert.equal(source.take(START).payload, '0/0/2');
  source.calibrate({ k: 2, b: 1, t_comp: 0 });
  source.restartSeq(); // a reboot
  const after = source.take(START + 30_000);
  assert.equal(after.payload, '0/1/2', 'seq restarts, n does not');
  assert.equal(after.reading.err, 2);
  assert.deepEqual(seen, [{ n: 0, tS: 0, calib: CALIB }, { n: 1, tS: 30, calib: { k: 2, b: 1, t_comp: 0 } }]);
  assert.equal(source.taken, 2);
  assert.equal(source.seq, 1);
  assert.deepEqual(source.calib, { k: 2, b: 1, t_comp: 0 });
});

test('seq wraps after 65535 like the firmware\'s 16-bit counter', () => {
  const source = createReadingSource({ rng: createRng(1), ver: 'v', calib: CALIB });
  source.begin(START);
  let last = 0;
  for (let i = 0; i <= 0xffff; i++) last = source.take(START + i * 1000).reading.seq;
  assert.equal(last, 0xffff);
  assert.equal(source.take(START + 0x10000 * 1000).reading.seq, 0);
});

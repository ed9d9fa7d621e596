// SYNC-4: exponential backoff with full jitter, shared by the three transports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackoff } from '../../../appliance/sync/transports/backoff.ts';

test('the window doubles from the base up to the cap, and a reset starts it over', () => {
  const backoff = createBackoff({ baseMs: 1000, capMs: 60_000, random: () => 0.999999 });
  const waits = Array.from({ length: 9 }, () => backoff.next());
  assert.deepEqual(waits, [999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999, 59_999]);
  assert.equal(backoff.failures, 9);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 999);
});

test('full jitter: each wait is drawn from the whole window, so boxes that failed together spread out', () => {
  const backoff = createBackoff({ baseMs: 1000, capMs: 8000 });
  const thirdWaits: number[] = [];
  for (let box = 0; box < 2000; box += 1) {
    backoff.reset();
    backoff.next();
    backoff.next();
    thirdWaits.push(backoff.next()); // window [0, 4000)
  }
  assert.ok(thirdWaits.every((wait) => wait >= 0 && wait < 4000));
  // Spread over the window, not bunched at its end (a fixed or equal-jitter delay would be).
  const quarters = [0, 1, 2, 3].map((q) => thirdWaits.filter((wait) => wait >= q * 1000 && wait < (q + 1) * 1000).length);
  for (const count of quarters) assert.ok(count > 350 && count < 650, `quarters ${quarters.join(', ')}`);
});

test('a week of failures never overflows the window', () => {
  const backoff = createBackoff({ baseMs: 1000, capMs: 60_000, random: () => 0.5 });
  for (let i = 0; i < 20_000; i += 1) backoff.next();
  assert.equal(backoff.next(), 30_000);
});

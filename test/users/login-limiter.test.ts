// API-3 login rate limit: failures per address and per user name in a sliding window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../appliance/core/clock.ts';
import { createLoginLimiter } from '../../appliance/users/login-limiter.ts';

const limits = { windowMs: 60_000, perAddress: 4, perUser: 3 };

test('after the allowed failures for one user, logins wait until the window passes', () => {
  const clock = manualClock(0);
  const limiter = createLoginLimiter(clock, limits);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.retryAfterMs(`10.0.0.${i}`, 'admin'), 0);
    limiter.failed(`10.0.0.${i}`, 'admin');
    clock.advance(1000);
  }
  assert.equal(limiter.retryAfterMs('10.0.0.9', 'ADMIN'), 57_000, 'names are case-insensitive; other addresses too');
  assert.equal(limiter.retryAfterMs('10.0.0.9', 'operator'), 0, 'other users are not affected');
  clock.advance(57_000);
  assert.equal(limiter.retryAfterMs('10.0.0.9', 'admin'), 0);
});

test('one address guessing many names is held back too; a success clears the user count', () => {
  const clock = manualClock(0);
  const limiter = createLoginLimiter(clock, limits);
  limiter.failed('10.0.0.1', 'a');
  limiter.failed('10.0.0.1', 'b');
  limiter.succeeded('a');
  assert.equal(limiter.retryAfterMs('10.0.0.2', 'a'), 0);
  limiter.failed('10.0.0.1', 'c');
  limiter.failed('10.0.0.1', 'd');
  assert.ok(limiter.retryAfterMs('10.0.0.1', 'e') > 0);
});

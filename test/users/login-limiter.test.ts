// API-3 login rate limit: failures per address and per user name in a sliding window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../appliance/core/clock.ts';
import type { Logger } from '../../appliance/core/log.ts';
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

test('an attempt counts as failed from the moment it is admitted, so attempts running at once cannot pass the limit', () => {
  const clock = manualClock(0);
  const limiter = createLoginLimiter(clock, limits);
  const admitted = [1, 2, 3, 4, 5].map(() => limiter.reserve('10.0.0.1', 'admin'));
  assert.deepEqual(admitted.map((a) => a.ok), [true, true, true, false, false], 'three per user, none of them settled yet');
  const refused = admitted[3];
  assert.ok(!refused.ok && refused.retryAfterMs === 60_000);
  for (const attempt of admitted) if (attempt.ok) attempt.failed();
  assert.ok(limiter.retryAfterMs('10.0.0.2', 'admin') > 0, 'the failures stay counted');
});

test('a right password takes its attempt back: it counts against neither the address nor the user', () => {
  const clock = manualClock(0);
  const limiter = createLoginLimiter(clock, limits);
  for (let i = 0; i < 10; i++) {
    const attempt = limiter.reserve('10.0.0.1', `user${i}`);
    assert.ok(attempt.ok, `attempt ${i}`);
    attempt.succeeded();
    attempt.failed(); // settling twice changes nothing
  }
  assert.equal(limiter.retryAfterMs('10.0.0.1', 'another'), 0);
});

test('without a known address only the user name is limited, never one key shared by all clients', () => {
  const clock = manualClock(0);
  const limiter = createLoginLimiter(clock, limits);
  for (let i = 0; i < 10; i++) limiter.failed(null, `name${i}`);
  assert.equal(limiter.retryAfterMs(null, 'admin'), 0);
  for (let i = 0; i < 3; i++) limiter.failed(null, 'admin');
  assert.ok(!limiter.reserve(null, 'admin').ok);
});

test('failures are logged as one line per address per window, with the totals of the window before', () => {
  const clock = manualClock(0);
  const lines: { fields: Record<string, any>; msg: string }[] = [];
  const log = { warn: (fields: Record<string, unknown>, msg: string) => void lines.push({ fields, msg }) } as unknown as Logger;
  const limiter = createLoginLimiter(clock, limits, { log, what: 'MQTT login' });
  for (let i = 0; i < 500; i++) {
    const attempt = limiter.reserve('10.0.0.1', i % 2 ? 'admin' : 'root');
    if (attempt.ok) attempt.failed();
  }
  limiter.failed('10.0.0.2', 'admin');
  assert.equal(lines.length, 2, 'one line for each address');
  assert.match(lines[0].msg, /^failed MQTT login from 10\.0\.0\.1 as "root"; failures in the next 1 min are only counted/);
  clock.advance(60_000);
  const late = limiter.reserve('10.0.0.1', 'admin');
  assert.ok(late.ok);
  late.failed();
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[2].fields.previous_window, { since: new Date(0).toISOString(), failed: 4, refused_unchecked: 496, usernames: ['root', 'admin'] });
  assert.match(lines[2].msg, /before that, from 1970-01-01T00:00:00.000Z: 4 failed, 496 refused unchecked/);
});

test('a flood of failures keeps the work per attempt small and the verdict unchanged', () => {
  const clock = manualClock(0);
  const limiter = createLoginLimiter(clock, limits);
  const started = performance.now();
  for (let i = 0; i < 200_000; i++) {
    limiter.failed('10.0.0.1', 'device_G1');
    if (i % 1000 === 0) clock.advance(1);
  }
  assert.ok(performance.now() - started < 2_000, `${Math.round(performance.now() - started)} ms for 200,000 failures`);
  assert.equal(limiter.retryAfterMs('10.0.0.1', 'device_G1'), 60_000, 'blocked a full window after the last failures');
});

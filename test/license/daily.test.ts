// LIC-3 / OPS-2: the daily check-in at 03:00 site time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextDailyAt } from '../../appliance/license/daily.ts';

test('the next 03:00 in Shanghai is 19:00 UTC the day before, today or tomorrow', () => {
  assert.equal(nextDailyAt(Date.UTC(2026, 5, 1, 12), '03:00', 'Asia/Shanghai'), Date.UTC(2026, 5, 1, 19));
  assert.equal(nextDailyAt(Date.UTC(2026, 5, 1, 19), '03:00', 'Asia/Shanghai'), Date.UTC(2026, 5, 2, 19), 'exactly then: the next day');
  assert.equal(nextDailyAt(Date.UTC(2026, 5, 1, 18, 59), '03:00', 'Asia/Shanghai'), Date.UTC(2026, 5, 1, 19));
});

test('03:00 in UTC and across a daylight-saving change in Berlin', () => {
  assert.equal(nextDailyAt(Date.UTC(2026, 0, 1, 3), '03:00', 'UTC'), Date.UTC(2026, 0, 2, 3));
  // 2026-03-29: Berlin goes from UTC+1 to UTC+2 at 02:00 local.
  assert.equal(nextDailyAt(Date.UTC(2026, 2, 28, 12), '03:00', 'Europe/Berlin'), Date.UTC(2026, 2, 29, 1));
  assert.equal(nextDailyAt(Date.UTC(2026, 2, 27, 12), '03:00', 'Europe/Berlin'), Date.UTC(2026, 2, 28, 2));
});

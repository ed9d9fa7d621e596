// UI-4 / STO-5: the data query's bucket interval follows the visible span (a few hundred points
// per device at any zoom), views stay sane, and the time axis ticks on round site-local times on
// a 24-hour clock (OPS-5). Pure functions, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampView, INTERVAL_MS, intervalForSpan, MIN_VIEW_MS } from '../../ui/src/lib/zoom-interval.ts';
import { siteClock, tickText, timeTicks } from '../../ui/src/charts/time-axis.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

test('the interval follows the span: ≤ 1 h 10s, ≤ 6 h 1m, ≤ 2 d 5m, beyond 1h', () => {
  const cases: [number, string][] = [
    [10 * MIN, '10s'], [HOUR, '10s'], [HOUR + 1, '1m'], [6 * HOUR, '1m'], [6 * HOUR + 1, '5m'],
    [2 * DAY, '5m'], [2 * DAY + 1, '1h'], [7 * DAY, '1h'], [365 * DAY, '1h'], [0, '10s'],
  ];
  for (const [span, interval] of cases) assert.equal(intervalForSpan(span), interval, `span ${span} ms`);
  assert.throws(() => intervalForSpan(-1), RangeError);
  assert.throws(() => intervalForSpan(Number.NaN), RangeError);
});

test('every span from a minute to 30 days gives between 6 and 720 points per device', () => {
  for (let span = MIN; span <= 30 * DAY; span = Math.ceil(span * 1.07)) {
    const points = span / INTERVAL_MS[intervalForSpan(span)];
    assert.ok(points >= 6 && points <= 720, `${span} ms → ${intervalForSpan(span)} → ${points} points`);
  }
});

test('a view is widened to a minute about its centre and shifted back from the future', () => {
  const now = 10 * DAY;
  assert.deepEqual(clampView({ from: 5 * DAY, to: 5 * DAY + 1000 }, now), { from: 5 * DAY + 500 - MIN_VIEW_MS / 2, to: 5 * DAY + 500 + MIN_VIEW_MS / 2 });
  assert.deepEqual(clampView({ from: now - HOUR, to: now + HOUR }, now), { from: now - 2 * HOUR, to: now });
  assert.deepEqual(clampView({ from: 1000, to: 2 * HOUR }, now), { from: 1000, to: 2 * HOUR });
});

test('ticks fall on round times of the site clock, labelled on a 24-hour clock', () => {
  const shanghai = siteClock('Asia/Shanghai');
  assert.equal(shanghai.offsetAt(Date.parse('2026-01-01T00:00:00Z')), 8 * HOUR);
  // 2026-01-01 13:07 → 19:52 Shanghai (05:07 → 11:52 UTC): hourly ticks at 14:00 … 19:00 site time.
  const from = Date.parse('2026-01-01T05:07:00Z');
  const to = Date.parse('2026-01-01T11:52:00Z');
  const ticks = timeTicks(from, to, shanghai);
  assert.deepEqual(ticks.map((ms) => tickText(ms, to - from, HOUR, shanghai)), ['14:00', '15:00', '16:00', '17:00', '18:00', '19:00']);
  // Over seven days: one tick a day at site midnight, shown as the date.
  const week = timeTicks(from, from + 7 * DAY, shanghai);
  assert.equal(week.length, 7);
  assert.equal(tickText(week[0], 7 * DAY, DAY, shanghai), '01-02');
  assert.equal(new Date(week[0]).toISOString(), '2026-01-01T16:00:00.000Z');
  // Ten minutes: a tick every two minutes; below a minute's step, seconds too.
  assert.deepEqual(timeTicks(from, from + 10 * MIN, shanghai).map((ms) => tickText(ms, 10 * MIN, 2 * MIN, shanghai)), ['13:08', '13:10', '13:12', '13:14', '13:16']);
  assert.equal(tickText(from + 30_000, MIN, 10_000, shanghai), '13:07:30');
  // Midnight reads 00:00, not 24:00 (hourCycle h23).
  assert.equal(tickText(Date.parse('2026-01-01T16:00:00Z'), HOUR, 10 * MIN, shanghai), '00:00');
});

test('an unknown timezone falls back to the browser clock instead of failing', () => {
  const clock = siteClock('Not/AZone');
  assert.equal(typeof clock.offsetAt(Date.now()), 'number');
});

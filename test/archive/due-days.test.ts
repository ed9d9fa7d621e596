// ARC-1/STO-3: the policy of which site days the archive takes now, with an in-memory index of
// reading times standing in for archive_log.oldestFrom (the real one is covered by archiver.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { archiveCutoff, dueDays } from '../../appliance/archive/due-days.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SHANGHAI = 'Asia/Shanghai';
/** 2026-01-05 00:00 in Shanghai (UTC+8). */
const JAN5 = Date.UTC(2026, 0, 4, 16);

/** oldestFrom over fixed reading times, counting the seeks. */
function readingsAt(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const seeks: number[] = [];
  const oldestFrom = (from: number): number | null => {
    seeks.push(from);
    return sorted.find((ts) => ts >= from) ?? null;
  };
  return { oldestFrom, seeks };
}

describe('archiveCutoff: retention_days before now, held back by the roll-ups (ARC-1, STO-3)', () => {
  test('without a watermark, exactly retention_days before now', () => {
    assert.equal(archiveCutoff(JAN5 + 10 * DAY, 5), JAN5 + 5 * DAY);
    assert.equal(archiveCutoff(JAN5 + 10 * DAY, 0), JAN5 + 10 * DAY);
  });

  test('a roll-up watermark behind it is the cutoff; one ahead of it changes nothing', () => {
    assert.equal(archiveCutoff(JAN5 + 10 * DAY, 5, JAN5 + DAY + HOUR), JAN5 + DAY + HOUR);
    assert.equal(archiveCutoff(JAN5 + 10 * DAY, 5, JAN5 + 9 * DAY), JAN5 + 5 * DAY);
  });
});

describe('dueDays: complete days past the cutoff, oldest first (ARC-1)', () => {
  test('each day holding readings once, oldest first, skipping days without readings', () => {
    const { oldestFrom } = readingsAt([
      JAN5 + 2 * DAY + HOUR, // Jan 7
      JAN5 + 5 * 60_000, JAN5 + 12 * HOUR, JAN5 + DAY - 1, // Jan 5 (its last millisecond too)
      JAN5 + 4 * DAY, // Jan 9
    ]);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + 10 * DAY, SHANGHAI)], ['2026-01-05', '2026-01-07', '2026-01-09']);
  });

  test('a day leaves only once it has ended by the cutoff: a day ending exactly at it is due, the next is not', () => {
    const { oldestFrom } = readingsAt([JAN5 + HOUR, JAN5 + DAY + HOUR, JAN5 + 2 * DAY + HOUR]);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + 2 * DAY, SHANGHAI)], ['2026-01-05', '2026-01-06']);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + 2 * DAY - 1, SHANGHAI)], ['2026-01-05']);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + DAY - 1, SHANGHAI)], [], 'the oldest day is not complete before the cutoff');
  });

  test('nothing stored: nothing due', () => {
    assert.deepEqual([...dueDays(readingsAt([]).oldestFrom, JAN5 + 10 * DAY, SHANGHAI)], []);
  });

  test('days are site days in the site timezone (OPS-5), not UTC days', () => {
    // 2026-01-04 17:00 UTC is Jan 5 01:00 in Shanghai.
    const { oldestFrom } = readingsAt([Date.UTC(2026, 0, 4, 17)]);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + 10 * DAY, SHANGHAI)], ['2026-01-05']);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + 10 * DAY, 'UTC')], ['2026-01-04']);
  });

  test('a 23-hour day (daylight saving starts) is one day: its last hour is not taken for the next day', () => {
    // Europe/Berlin, 2026-03-29: 00:00 is 23:00 UTC the day before and the day lasts 23 hours.
    const mar29 = Date.UTC(2026, 2, 28, 23);
    const mar30 = Date.UTC(2026, 2, 29, 22);
    const { oldestFrom } = readingsAt([mar29 + HOUR, mar30 - 1, mar30]);
    assert.deepEqual([...dueDays(oldestFrom, mar30 + DAY, 'Europe/Berlin')], ['2026-03-29', '2026-03-30']);
  });

  test('one index seek per due day (and one to find the end): empty days between cost nothing', () => {
    const { oldestFrom, seeks } = readingsAt([JAN5 + HOUR, JAN5 + 40 * DAY + HOUR]);
    assert.deepEqual([...dueDays(oldestFrom, JAN5 + 100 * DAY, SHANGHAI)], ['2026-01-05', '2026-02-14']);
    assert.deepEqual(seeks, [0, JAN5 + DAY, JAN5 + 41 * DAY]);
  });

  test('lazy: a caller that stops early (the status counts up to 1,000) seeks no further', () => {
    const { oldestFrom, seeks } = readingsAt([JAN5, JAN5 + DAY, JAN5 + 2 * DAY]);
    const days = dueDays(oldestFrom, JAN5 + 10 * DAY, SHANGHAI);
    assert.equal(days.next().value, '2026-01-05');
    assert.equal(seeks.length, 1);
  });
});

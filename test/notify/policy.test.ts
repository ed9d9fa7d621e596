import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY, decide, inSchedule, localTime, type NotifyPolicy } from '../../appliance/notify/policy.ts';

const SHANGHAI = 'Asia/Shanghai';
// 2026-01-05 is a Monday. 10:00 in Shanghai is 02:00 UTC.
const at = (day: number, hh: number, mm = 0) => Date.UTC(2026, 0, day, hh - 8, mm);
const office: NotifyPolicy = { ...DEFAULT_POLICY, days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00', always_notify: [] };

describe('notification schedule (ALM-4)', () => {
  test('local weekday and minute come from the site timezone', () => {
    assert.deepEqual(localTime(at(5, 10, 30), SHANGHAI), { weekday: 1, minute: 630 });
    assert.deepEqual(localTime(at(5, 1), SHANGHAI), { weekday: 1, minute: 60 }); // still Sunday in UTC
  });

  test('Mon-Fri 08:00-18:00: inside on Monday 10:00, outside at 18:00, on Saturday and at night', () => {
    assert.equal(inSchedule(office, at(5, 10), SHANGHAI), true);
    assert.equal(inSchedule(office, at(5, 8), SHANGHAI), true);
    assert.equal(inSchedule(office, at(5, 18), SHANGHAI), false);
    assert.equal(inSchedule(office, at(10, 10), SHANGHAI), false);
    assert.equal(inSchedule(office, at(6, 3), SHANGHAI), false);
  });

  test('a night window over midnight belongs to the day it starts', () => {
    const night: NotifyPolicy = { ...office, days: [5], start: '22:00', end: '06:00' };
    assert.equal(inSchedule(night, at(9, 23), SHANGHAI), true, 'Friday 23:00');
    assert.equal(inSchedule(night, at(10, 5), SHANGHAI), true, 'Saturday 05:00 is Friday night');
    assert.equal(inSchedule(night, at(11, 5), SHANGHAI), false, 'Sunday 05:00 is Saturday night');
  });

  test('the default schedule is always', () => {
    assert.equal(inSchedule(DEFAULT_POLICY, at(10, 3, 17), SHANGHAI), true);
  });
});

describe('decide (ALM-3, ALM-4)', () => {
  test('outside the schedule a raised alarm is only recorded; inside it is sent', () => {
    assert.equal(decide('raised', 'OFFLINE', at(10, 10), office, SHANGHAI), 'log_only');
    assert.equal(decide('raised', 'OFFLINE', at(5, 10), office, SHANGHAI), 'notify');
  });

  test('HIGH marked always-notify is sent outside the schedule too', () => {
    assert.equal(decide('raised', 'HIGH', at(10, 3), { ...office, always_notify: ['HIGH'] }, SHANGHAI), 'notify');
  });

  test('repeats and acknowledgements are never sent; clearings only when configured', () => {
    assert.equal(decide('repeat', 'HIGH', at(5, 10), DEFAULT_POLICY, SHANGHAI), 'none');
    assert.equal(decide('acknowledged', 'HIGH', at(5, 10), DEFAULT_POLICY, SHANGHAI), 'none');
    assert.equal(decide('cleared', 'HIGH', at(5, 10), DEFAULT_POLICY, SHANGHAI), 'notify');
    assert.equal(decide('cleared', 'HIGH', at(5, 10), { ...DEFAULT_POLICY, notify_cleared: false }, SHANGHAI), 'none');
  });
});

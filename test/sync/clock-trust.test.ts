// Issue 17.6 (SYNC-6): the spans in which the box's clock was not known to be synchronised, on a
// real SQLite file with an injected wall clock, monotonic clock and NTP state: records received
// inside a span carry clock_unsynced, also when they are sent later from the backlog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createClockTrust } from '../../appliance/sync/clock-trust.ts';
import { tempDbForEachTest } from '../helpers/temp-db.ts';

const T0 = Date.UTC(2026, 5, 1, 6);
const sqlite = tempDbForEachTest();

test('unsynchronised from boot until NTP says so; the span survives a restart', () => {
  const clock = manualClock(T0);
  let synced = false;
  let mono = 0;
  const trust = createClockTrust({ db: sqlite.db, clock, log: silentLogger(), ntpSynced: () => synced, monotonic: () => mono });
  trust.start();
  assert.equal(trust.synced(), false);
  clock.advance(60_000);
  mono += 60_000;
  synced = true;
  trust.check();
  trust.stop();
  assert.equal(trust.synced(), true);
  assert.equal(trust.unsyncedAt(T0 + 30_000), true, 'received before NTP: flagged');
  assert.equal(trust.unsyncedAt(T0 + 120_000), false, 'after: not flagged');
  // Another process (a restart) reads the same spans.
  const again = createClockTrust({ db: sqlite.db, clock, log: silentLogger(), ntpSynced: () => true, monotonic: () => mono });
  again.start();
  again.stop();
  assert.equal(again.unsyncedAt(T0 + 30_000), true);
});

test('a jump of the wall clock against the monotonic clock flags the span around it', () => {
  const clock = manualClock(T0);
  let mono = 0;
  const trust = createClockTrust({ db: sqlite.db, clock, log: silentLogger(), ntpSynced: () => true, monotonic: () => mono });
  trust.start();
  clock.advance(10_000);
  mono += 10_000;
  trust.check();
  assert.equal(trust.unsyncedAt(T0 + 5_000), false);
  clock.advance(3_600_000); // the wall clock jumps an hour in 10 s
  mono += 10_000;
  trust.check();
  trust.stop();
  assert.equal(trust.unsyncedAt(T0 + 10_000 + 1_000), true, 'stamped around the jump: flagged');
  assert.equal(trust.unsyncedAt(T0 + 5_000), false, 'before the jump: not flagged');
});
